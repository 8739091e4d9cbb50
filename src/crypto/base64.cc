#include "crypto/base64.h"

#include <openssl/evp.h>

namespace kiln {

std::string Base64Encode(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {

bool InAlphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

}  // namespace

Result<Bytes> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return InvalidArgumentError("base64 text is not whole groups of 4");
  size_t pad = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    if (c == '=') {
      // Padding only at the very end, at most two.
      if (i + 2 < clean.size()) return InvalidArgumentError("base64 padding inside the text");
      ++pad;
    } else if (pad > 0 || !InAlphabet(c)) {
      return InvalidArgumentError("base64 text has a character outside the alphabet");
    }
  }
  if (clean.empty()) return Bytes();
  Bytes out(clean.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return InvalidArgumentError("base64 text does not decode");
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

}  // namespace kiln
