#include "crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace kiln {
namespace {

// Fetched once: OpenSSL 3's implicit fetch behind EVP_sha256() costs a locked lookup per
// digest, which shows when many threads hash small chunks.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

// OpenSSL fails these calls only on allocation failure or a broken library: not something a
// caller can handle, so it is an invariant.
void Check(int ok) {
  if (ok != 1) std::abort();
}

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Digest256 Sha256(ByteView data) {
  Digest256 out;
  unsigned int len = 0;
  Check(EVP_Digest(data.data(), data.size(), out.data(), &len, Sha256Md(), nullptr));
  if (len != out.size()) std::abort();
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  Check(EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), nullptr));
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(Ctx(ctx_)); }

void Sha256Hasher::Update(ByteView data) {
  Check(EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()));
}

Digest256 Sha256Hasher::Finish() {
  Digest256 out;
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(Ctx(ctx_), out.data(), &len));
  if (len != out.size()) std::abort();
  // Start over, so a hasher can be reused for the next message.
  Check(EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), nullptr));
  return out;
}

}  // namespace kiln
