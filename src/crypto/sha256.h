// SHA-256 through OpenSSL (SHA-NI where the CPU has it).
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.h"

namespace kiln {

using Digest256 = std::array<uint8_t, 32>;

Digest256 Sha256(ByteView data);

// Incremental hashing for data that arrives in pieces (map files).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteView data);
  // The digest of everything Updated since construction or the last Finish; the hasher then
  // starts over, ready for a new message.
  Digest256 Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of ours
};

}  // namespace kiln
