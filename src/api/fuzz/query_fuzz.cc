// libFuzzer target: QueryParams::Parse on arbitrary bytes returns parameters or a
// MalformedQueryString error, never crashes; the list readers on what it accepts return lists
// or InvalidParameterValue; a re-encoding of what it accepts parses back to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/query.h"

namespace {

std::string Encode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void CheckError(const kiln::Status& s, const char* code) {
  if (s.code() != kiln::Code::kInvalidArgument || !s.ec2_code() || *s.ec2_code() != code) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto q = kiln::QueryParams::Parse(input);
  if (!q.ok()) {
    CheckError(q.status(), "MalformedQueryString");
    return 0;
  }
  std::string again;
  for (const std::string& name : q->names()) {
    if (!again.empty()) again += '&';
    again += Encode(name) + "=" + Encode(q->Get(name).value_or(""));
  }
  for (const char* prefix : {"Filter", "ImageId", "BlockDeviceMapping"}) {
    auto list = q->List(prefix);
    if (!list.ok()) CheckError(list.status(), "InvalidParameterValue");
    auto structs = q->Structs(prefix);
    if (!structs.ok()) CheckError(structs.status(), "InvalidParameterValue");
  }
  auto round = kiln::QueryParams::Parse(again);
  if (!round.ok() || round->names() != q->names()) std::abort();
  for (const std::string& name : q->names()) {
    if (round->Get(name) != q->Get(name)) std::abort();
  }
  return 0;
}
