#include "cli/ec2_client.h"

#include <time.h>

namespace kiln::cli {
namespace {

std::string Snippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

Result<XmlDoc> ParseEc2Answer(int http_status, std::string_view body) {
  auto doc = std::make_unique<pugi::xml_document>();
  const pugi::xml_parse_result parsed = doc->load_buffer(body.data(), body.size());
  const bool is_error_status = http_status < 200 || http_status >= 300;
  if (!parsed) {
    return InternalError("malformed answer from the server (HTTP " + std::to_string(http_status) +
                         ", " + parsed.description() + "): " + Snippet(body));
  }
  const pugi::xml_node error = doc->child("Response").child("Errors").child("Error");
  if (error) {
    const std::string code = error.child_value("Code");
    std::string message = error.child_value("Message");
    if (message.empty()) message = "(no message)";
    const Code kind = http_status >= 500 ? Code::kUnavailable : Code::kInvalidArgument;
    return Status(kind, message).WithEc2Code(code.empty() ? "UnknownError" : code);
  }
  if (is_error_status || !doc->document_element()) {
    return InternalError("unexpected answer from the server (HTTP " + std::to_string(http_status) +
                         "): " + Snippet(body));
  }
  return doc;
}

Result<XmlDoc> Ec2Client::Call(const std::string& action, const Params& params) {
  Params all = {{"Action", action}, {"Version", "2016-11-15"}};
  all.insert(all.end(), params.begin(), params.end());
  SigningRequest request;
  request.method = "POST";
  request.path = url_.path.empty() ? "/" : url_.path + "/";
  request.payload = FormEncode(all);
  request.headers = {{"Host", url_.HostHeader()},
                     {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  HeaderList headers = request.headers;
  for (auto& h : Sign(request, config_.credentials, config_.region, "ec2", ::time(nullptr))) {
    headers.push_back(std::move(h));
  }
  ASSIGN_OR_RETURN(HttpResponse response,
                   HttpRequestOnce(url_, "POST", request.path, headers, request.payload,
                                   std::chrono::seconds(300)));
  return ParseEc2Answer(response.status, response.body);
}

}  // namespace kiln::cli
