// libFuzzer target: the CLI's handling of the server's XML answers. ParseEc2Answer on arbitrary
// bytes and HTTP statuses returns a document only for a 2xx answer with a document element, an
// EC2 error (non-empty code and message, InvalidArgument or Unavailable by status) for an error
// document, else Internal; every answer parser (images, instances, state changes, snapshots,
// volumes, storage usage) reads the document without crashing; and the commands that show those
// answers (images, instances, snapshots, volumes, usage; table, colour and JSON) succeed, with
// --output json printing valid JSON whatever bytes the server sent.
//
// Input: byte 0 picks the HTTP status; byte 1 with the low bit set builds an EC2-shaped answer
// from the remaining bytes (xml_gen.h), else the remaining bytes are the body as they are.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/ec2_client.h"
#include "cli/ec2_xml.h"
#include "cli/fuzz/xml_gen.h"
#include "cli/output.h"

namespace kiln::cli {
namespace {

constexpr int kStatuses[] = {200, 200, 201, 302, 400, 403, 404, 500, 503, 199};

// Answers every call with the fuzzed answer.
class FuzzApi : public Ec2Api {
 public:
  FuzzApi(int status, const std::string& body) : status_(status), body_(body) {}
  Result<XmlDoc> Call(const std::string&, const Params&) override {
    return ParseEc2Answer(status_, body_);
  }

 private:
  int status_;
  const std::string& body_;
};

void CheckAnswer(int status, const std::string& body, const Result<XmlDoc>& doc) {
  if (doc.ok()) {
    if (status < 200 || status >= 300 || !(*doc)->document_element()) std::abort();
    return;
  }
  const Status& s = doc.status();
  if (s.ec2_code()) {
    if (s.ec2_code()->empty() || s.message().empty()) std::abort();
    const Code want = status >= 500 ? Code::kUnavailable : Code::kInvalidArgument;
    if (s.code() != want) std::abort();
  } else if (s.code() != Code::kInternal) {
    std::abort();
  }
  const std::string text = ErrorText(s);
  if (text.rfind("kiln: ", 0) != 0 || text.back() != '\n') std::abort();
  if (ExitStatusFor(s) != kExitApiError) std::abort();
}

void CheckParsers(const pugi::xml_node& root) {
  (void)ParseImages(root);
  (void)ParseSnapshots(root);
  (void)ParseVolumes(root);
  (void)ParseStorageUsage(root);
  // RunInstances' instancesSet items come first in ParseInstances, as StopInstances' do in
  // ParseStateChanges: the same items, the same ids.
  const std::vector<InstanceInfo> instances = ParseInstances(root);
  const std::vector<InstanceStateChange> changes = ParseStateChanges(root);
  if (instances.size() < changes.size()) std::abort();
  for (size_t i = 0; i < changes.size(); ++i) {
    if (instances[i].instance_id != changes[i].instance_id) std::abort();
  }
  for (const InstanceInfo& i : instances) (void)i.NameTag();
}

// Runs every read-only command on the answer; JSON output must parse.
void RunCommands(Ec2Api& api, bool answer_ok) {
  for (const OutputFormat format : {OutputFormat::kTable, OutputFormat::kJson}) {
    const auto run = [&](const char* what, const std::function<Status(Context&)>& command) {
      char* buf = nullptr;
      size_t size = 0;
      std::FILE* out = open_memstream(&buf, &size);
      if (out == nullptr) std::abort();
      Context ctx;
      ctx.api = &api;
      ctx.format = format;
      ctx.color = true;
      ctx.out = out;
      ctx.err = out;
      ctx.now = [] { return int64_t{1795000000}; };
      const Status s = command(ctx);
      std::fclose(out);
      const std::string printed(buf, size);
      std::free(buf);
      if (answer_ok && !s.ok()) {
        std::fprintf(stderr, "%s failed on an accepted answer: %s\n", what, s.ToString().c_str());
        std::abort();
      }
      if (s.ok() && format == OutputFormat::kJson && !nlohmann::json::accept(printed)) {
        std::fprintf(stderr, "%s printed invalid JSON:\n%s\n", what, printed.c_str());
        std::abort();
      }
    };
    run("images", [](Context& c) { return ListImages(c, {"self", "web*"}); });
    run("instances", [](Context& c) { return ListInstances(c); });
    run("snapshots", [](Context& c) { return ListSnapshots(c); });
    run("volumes", [](Context& c) { return ListVolumes(c); });
    run("usage", [](Context& c) { return Usage(c, 0.05); });
  }
}

}  // namespace
}  // namespace kiln::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::cli;
  FuzzedDataProvider fdp(data, size);
  const int status = kStatuses[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)];
  const std::string body = (fdp.ConsumeIntegral<uint8_t>() & 1)
                               ? fuzz::GenerateAnswer(fdp)
                               : fdp.ConsumeRemainingBytesAsString();
  const kiln::Result<XmlDoc> doc = ParseEc2Answer(status, body);
  CheckAnswer(status, body, doc);
  if (doc.ok()) CheckParsers((*doc)->document_element());
  FuzzApi api(status, body);
  RunCommands(api, doc.ok());
  return 0;
}
