// libFuzzer target: HandleControlText, the connect session's parser of the client's text frames
// (JSON {"type": "resize", "rows": N, "cols": N}), on arbitrary text never throws or crashes, and
// resizes the terminal at most once, only to a size in 1..1000 x 1..1000, and only when the text
// is a JSON object whose "type" is the string "resize" and whose integer "rows" and "cols" are
// exactly that size.
//
// Input: a first byte with the low bit clear is followed by raw frame text; with it set, the
// rest builds a resize-shaped message from fuzzed pieces ("type" of any JSON kind, rows/cols as
// integers, floats, strings, huge numbers, missing), so the resize path is reached from an empty
// corpus too.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "web/connect.h"

namespace {

class RecordingTerminal : public kiln::Terminal {
 public:
  int fd() const override { return -1; }
  kiln::Status Resize(uint16_t rows, uint16_t cols) override {
    ++resizes;
    this->rows = rows;
    this->cols = cols;
    return kiln::Status::Ok();
  }
  kiln::Result<int> Wait(int timeout_ms) override { std::abort(); }  // the parser never waits

  int resizes = 0;
  uint16_t rows = 0, cols = 0;
};

// A JSON value's text for a "type", "rows" or "cols" member.
std::string Value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0:
      return "\"resize\"";
    case 1:
      return std::to_string(in.ConsumeIntegralInRange<int64_t>(-2, 1002));
    case 2:
      return std::to_string(in.ConsumeIntegral<int64_t>());
    case 3:
      return std::to_string(in.ConsumeIntegral<uint64_t>());
    case 4:
      return "1e3";
    case 5:
      return "24.0";
    case 6:
      return "\"" + in.ConsumeRandomLengthString(8) + "\"";
    case 7:
      return "null";
    case 8:
      return "[24]";
    default:
      return in.ConsumeRandomLengthString(12);
  }
}

std::string Message(FuzzedDataProvider& in) {
  std::string text = "{";
  for (const char* name : {"type", "rows", "cols"}) {
    if (in.ConsumeIntegralInRange(0, 5) == 0) continue;  // member left out
    if (text.size() > 1) text += ',';
    text += std::string("\"") + name + "\":" + Value(in);
  }
  if (in.ConsumeBool()) text += "}";
  return text + in.ConsumeRemainingBytesAsString();
}

// What a correct parser resizes to, by an independent reading of the text.
std::optional<std::pair<int64_t, int64_t>> Expected(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto type = j.find("type");
  auto rows = j.find("rows");
  auto cols = j.find("cols");
  if (type == j.end() || !type->is_string() || type->get<std::string>() != "resize") {
    return std::nullopt;
  }
  if (rows == j.end() || cols == j.end() || !rows->is_number_integer() ||
      !cols->is_number_integer()) {
    return std::nullopt;
  }
  // Compare as signed and as unsigned: a uint64 over INT64_MAX is out of range either way.
  if (rows->is_number_unsigned() && rows->get<uint64_t>() > 1000) return std::nullopt;
  if (cols->is_number_unsigned() && cols->get<uint64_t>() > 1000) return std::nullopt;
  const int64_t r = rows->get<int64_t>(), c = cols->get<int64_t>();
  if (r < 1 || r > 1000 || c < 1 || c > 1000) return std::nullopt;
  return std::make_pair(r, c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool structured = size > 0 && (in.ConsumeIntegral<uint8_t>() & 1) != 0;
  const std::string text = structured ? Message(in) : in.ConsumeRemainingBytesAsString();
  RecordingTerminal terminal;
  kiln::HandleControlText(text, terminal);
  const std::optional<std::pair<int64_t, int64_t>> want = Expected(text);
  if (terminal.resizes > 1) std::abort();
  if (!want) {
    if (terminal.resizes != 0) std::abort();
    return 0;
  }
  if (terminal.resizes != 1 || terminal.rows != want->first || terminal.cols != want->second) {
    std::abort();
  }
  return 0;
}
