// libFuzzer target: ParseKmsRequest on arbitrary bytes (the first line is the X-Amz-Target, the
// rest the body) returns a request or one of the protocol's error types, never crashes; what it
// accepts renders as a response body and an error body without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/kms_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view target = input.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  auto r = kiln::ParseKmsRequest(target, body);
  if (!r.ok()) {
    const std::string type = r.status().ec2_code().value_or("");
    if (type != "UnknownOperationException" && type != "SerializationException" &&
        type != "ValidationException" && type != "UnsupportedOperationException") {
      std::abort();
    }
    if (kiln::KmsErrorJson(type, r.status().message()).empty()) std::abort();
    return 0;
  }
  if (std::string_view(kiln::KmsOperationName(*r)).empty()) std::abort();
  if (const auto* c = std::get_if<kiln::KmsCreateKey>(&*r)) {
    kiln::KeyMetadata key;
    key.description = c->description;
    if (kiln::KeyMetadataResponseJson(key).empty()) std::abort();
  }
  if (const auto* l = std::get_if<kiln::KmsListKeys>(&*r)) {
    if (l->limit < 1 || l->limit > 1000) std::abort();
    if (kiln::ListKeysResponseJson({}, l->marker).empty()) std::abort();
  }
  return 0;
}
