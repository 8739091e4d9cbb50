#include "catalog/ids.h"

#include <array>
#include <cstdint>

#include "base/bytes.h"
#include "crypto/crypto.h"

namespace kiln {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// `n` characters drawn uniformly from `alphabet` (at most 256 symbols): bytes at or above the
// largest multiple of the alphabet's size are redrawn, so no symbol is favoured.
Result<std::string> RandomString(std::string_view alphabet, size_t n) {
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(n);
  std::array<uint8_t, 64> buf;
  while (out.size() < n) {
    RETURN_IF_ERROR(RandomBytes(buf));
    for (uint8_t b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace

Result<std::string> NewId(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 16) {
    return InvalidArgumentError("id prefix must be 1..16 lowercase letters");
  }
  for (char c : prefix) {
    if (c < 'a' || c > 'z') return InvalidArgumentError("id prefix must be lowercase letters");
  }
  std::array<uint8_t, 9> bytes;  // 72 bits; 17 hex digits keep 68 of them
  RETURN_IF_ERROR(RandomBytes(bytes));
  return std::string(prefix) + "-" + HexEncode(bytes).substr(0, 17);
}

Result<std::string> NewAccountId() { return RandomString("0123456789", 12); }

Result<std::string> NewAccessKeyId() {
  ASSIGN_OR_RETURN(std::string tail, RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16));
  return "AKIA" + tail;
}

Result<std::string> NewSecretAccessKey() {
  return RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
}

bool IsResourceId(std::string_view prefix, std::string_view id) {
  if (id.size() <= prefix.size() + 1 || id.substr(0, prefix.size()) != prefix ||
      id[prefix.size()] != '-') {
    return false;
  }
  std::string_view hex = id.substr(prefix.size() + 1);
  if (hex.size() != 8 && hex.size() != 17) return false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

bool IsAccountId(std::string_view id) {
  if (id.size() != 12) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace kiln
