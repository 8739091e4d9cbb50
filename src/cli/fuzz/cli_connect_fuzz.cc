// libFuzzer target: what `kiln connect` reads from the server. ParseExitFrame (the session's
// reader of the server's text frames) on arbitrary text never throws, and returns a status
// exactly when the text is a JSON object whose "type" is the string "exit" and whose "code" is
// an integer that fits an int, that integer. ConnectRefusal (the reader of a refused upgrade's
// body) never throws, is never OK, and carries a non-empty EC2 code whenever it carries one.
//
// Input: byte 0 picks the HTTP status for ConnectRefusal; byte 1 with the low bit set builds an
// exit-shaped frame from fuzzed pieces, else the rest is the text as it is.
#include <fuzzer/FuzzedDataProvider.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/connect.h"

namespace {

constexpr int kStatuses[] = {400, 401, 403, 404, 409, 500, 502, 200, 101};

// A JSON value of a fuzzed kind for a field of a frame.
nlohmann::json Piece(FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 6)) {
    case 0:
      return "exit";
    case 1:
      return fdp.ConsumeIntegral<int64_t>();
    case 2:
      return fdp.ConsumeIntegral<uint64_t>();
    case 3:
      return fdp.ConsumeFloatingPoint<double>();
    case 4:
      return fdp.ConsumeBool();
    case 5:
      return nullptr;
    default:
      return fdp.ConsumeRandomLengthString(16);
  }
}

std::string BuildFrame(FuzzedDataProvider& fdp) {
  nlohmann::json j = nlohmann::json::object();
  if (fdp.ConsumeBool()) j["type"] = Piece(fdp);
  if (fdp.ConsumeBool()) j["code"] = Piece(fdp);
  if (fdp.ConsumeBool()) j["message"] = Piece(fdp);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The contract read another way than ParseExitFrame reads it: an integer "code" fits an int
// exactly when its decimal text (nlohmann's dump) parses as an int with std::from_chars, which
// reports out-of-range values itself.
std::optional<int> Expected(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("type") || !j.contains("code")) return std::nullopt;
  if (j["type"] != nlohmann::json("exit") || !j["code"].is_number_integer()) return std::nullopt;
  const std::string digits = j["code"].dump();
  int v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const int status = kStatuses[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)];
  const std::string text =
      (fdp.ConsumeIntegral<uint8_t>() & 1) ? BuildFrame(fdp) : fdp.ConsumeRemainingBytesAsString();
  if (kiln::cli::ParseExitFrame(text) != Expected(text)) std::abort();
  const kiln::Status refusal = kiln::cli::ConnectRefusal(status, text);
  if (refusal.ok()) std::abort();
  if (refusal.ec2_code() && refusal.ec2_code()->empty()) std::abort();
  return 0;
}
