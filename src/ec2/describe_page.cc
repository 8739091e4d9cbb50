// MaxResults and NextToken.
//
// A token is base64url (no padding) of: a version byte (1), the last id returned, and a 16-bit
// FNV-1a check of the two. The check and a canonical re-encoding make a token kiln did not
// make (a typo, another service's token, a truncated copy) an error rather than a silent
// restart from some other position. Tokens carry no secret: the id only says where to resume
// in a listing the caller may read anyway.
#include <charconv>
#include <cstdint>

#include "ec2/describe.h"
#include "ec2/describe_internal.h"

namespace kiln {
namespace {

using describe_internal::Ec2Error;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kTokenVersion = 1;
constexpr size_t kMaxTokenBytes = 1024;  // ids are short; a longer token is not ours

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* at = std::char_traits<char>::find(kAlphabet, 64, c);
    if (at == nullptr) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Re-encoding must give the same text: this rejects a dangling character and non-zero
  // trailing bits, so each position has exactly one token.
  if (Base64UrlEncode(out) != text) return std::nullopt;
  return out;
}

uint16_t Check(std::string_view data) {
  uint32_t h = 2166136261u;
  for (unsigned char c : data) h = (h ^ c) * 16777619u;
  return static_cast<uint16_t>(h ^ (h >> 16));
}

// The id inside a token, or nullopt for a token kiln did not make.
std::optional<std::string> DecodeToken(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return std::nullopt;
  std::optional<std::string> raw = Base64UrlDecode(token);
  if (!raw || raw->size() < 4 || static_cast<uint8_t>((*raw)[0]) != kTokenVersion) {
    return std::nullopt;
  }
  const std::string_view body = std::string_view(*raw).substr(0, raw->size() - 2);
  const uint16_t want = Check(body);
  const auto hi = static_cast<uint8_t>((*raw)[raw->size() - 2]);
  const auto lo = static_cast<uint8_t>((*raw)[raw->size() - 1]);
  if (((hi << 8) | lo) != want) return std::nullopt;
  return std::string(body.substr(1));
}

Result<int> ParseMaxResults(const QueryParams& params, int min, int max) {
  std::optional<std::string> text = params.Get("MaxResults");
  if (!text) return 0;
  int64_t n = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, n);
  if (ec != std::errc() || ptr != end) {
    return Ec2Error(
        "InvalidParameterValue",
        "Value (" + *text + ") for parameter maxResults is invalid. Expected an integer.");
  }
  if (n < min) {
    return Ec2Error("InvalidParameterValue", "Value ( " + *text +
                                                 " ) for parameter maxResults is invalid. "
                                                 "Expecting a value greater than " +
                                                 std::to_string(min) + ".");
  }
  if (n > max) {
    return Ec2Error("InvalidParameterValue", "Value ( " + *text +
                                                 " ) for parameter maxResults is invalid. "
                                                 "Expecting a value less than " +
                                                 std::to_string(max) + ".");
  }
  return static_cast<int>(n);
}

}  // namespace

Result<Page> ParsePage(const QueryParams& params, int min, int max) {
  Page page;
  ASSIGN_OR_RETURN(page.max_results, ParseMaxResults(params, min, max));
  if (std::optional<std::string> token = params.Get("NextToken")) {
    std::optional<std::string> id = DecodeToken(*token);
    if (!id) {
      return Ec2Error("InvalidParameterValue", "Invalid value '" + *token + "' for nextToken");
    }
    page.after_id = std::move(*id);
  }
  return page;
}

std::string MakeNextToken(std::string_view last_id) {
  std::string raw(1, static_cast<char>(kTokenVersion));
  raw.append(last_id);
  const uint16_t check = Check(raw);
  raw += static_cast<char>(check >> 8);
  raw += static_cast<char>(check & 0xFF);
  return Base64UrlEncode(raw);
}

bool Page::Admit(const std::string& id) {
  if (max_results > 0 && shown == max_results) {
    more = true;
    return false;
  }
  ++shown;
  last = id;
  return true;
}

void Page::WriteNextToken(XmlWriter& w) const {
  if (more) w.Field("nextToken", MakeNextToken(last));
}

}  // namespace kiln
