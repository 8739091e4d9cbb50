// Ec2Api: one EC2 Query API call (Action + parameters) answered by an XML document, and
// Ec2Client, the implementation that signs with SigV4 and POSTs to kilnd.
//
// Errors: an EC2 error document becomes a Status carrying its <Code> as ec2_code() and its
// <Message> as message (InvalidArgument for HTTP 4xx, Unavailable for 5xx); an answer that is not
// XML, or an error status without an error document, is Internal; transport failures are as
// HttpRequestOnce's.
// Thread-safety: Ec2Client is immutable after construction; calls may run from any thread.
#pragma once

#include <memory>
#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cli/config.h"
#include "cli/http_client.h"

namespace kiln::cli {

using Params = std::vector<std::pair<std::string, std::string>>;
using XmlDoc = std::unique_ptr<pugi::xml_document>;

class Ec2Api {
 public:
  virtual ~Ec2Api() = default;
  // Version=2016-11-15 is added. Returns the answer's document (its root is <ActionResponse>).
  virtual Result<XmlDoc> Call(const std::string& action, const Params& params) = 0;
};

// Turns an HTTP answer into the document or the error it carries.
Result<XmlDoc> ParseEc2Answer(int http_status, std::string_view body);

class Ec2Client : public Ec2Api {
 public:
  Ec2Client(ResolvedConfig config, Url url) : config_(std::move(config)), url_(std::move(url)) {}
  Result<XmlDoc> Call(const std::string& action, const Params& params) override;

  const ResolvedConfig& config() const { return config_; }
  const Url& url() const { return url_; }

 private:
  ResolvedConfig config_;
  Url url_;
};

}  // namespace kiln::cli
