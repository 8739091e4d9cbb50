// libFuzzer target: VerifySigV4 on arbitrary Authorization headers, query strings, dates and
// bodies answers with one of its documented EC2 codes and never crashes. The input is split at
// '\n' into: Authorization, X-Amz-Date, query string, X-Amz-Content-SHA256, body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "api/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t at = 0;
  while (parts.size() < 4) {
    const size_t nl = input.find('\n', at);
    if (nl == std::string::npos) break;
    parts.push_back(input.substr(at, nl - at));
    at = nl + 1;
  }
  parts.push_back(input.substr(std::min(at, input.size())));
  parts.resize(5);
  std::vector<std::pair<std::string, std::string>> headers = {{"Host", "127.0.0.1:8787"}};
  if (!parts[0].empty()) headers.push_back({"Authorization", parts[0]});
  if (!parts[1].empty()) headers.push_back({"X-Amz-Date", parts[1]});
  if (!parts[3].empty()) headers.push_back({"X-Amz-Content-SHA256", parts[3]});
  kiln::SigV4Request r{"POST", "/", parts[2], &headers, parts[4]};
  auto id = kiln::VerifySigV4(r, 1795694400, [](std::string_view key) {
    return key == "AKIDEXAMPLE" ? std::optional<std::string>("secret") : std::nullopt;
  });
  static const std::set<std::string> kCodes = {"MissingAuthenticationToken", "IncompleteSignature",
                                               "AuthFailure", "SignatureDoesNotMatch",
                                               "RequestExpired"};
  if (!id.ok() && (!id.status().ec2_code() || kCodes.count(*id.status().ec2_code()) == 0)) {
    std::abort();
  }
  return 0;
}
