#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "crypto/crypto_internal.h"

namespace kiln {
namespace {

// OpenSSL takes lengths as int: longer inputs go in pieces of at most this size.
constexpr size_t kMaxPiece = size_t{1} << 30;
// XTS_MAX_BLOCKS_PER_DATA_UNIT (2^20 AES blocks) in OpenSSL's XTS: larger units are refused.
constexpr size_t kMaxXtsDataUnit = size_t{16} << 20;

// An Internal status naming what failed, with OpenSSL's reason; drains the thread's error queue
// so a stale error never shows up under a later, unrelated failure.
Status OpenSslError(const std::string& what) {
  std::string reason = "unknown reason";
  if (unsigned long err = ERR_get_error(); err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return InternalError("OpenSSL " + what + " failed: " + reason);
}

// Fetched once: OpenSSL 3's implicit fetch behind EVP_aes_256_*() costs a locked lookup each
// time a context is set up with it.
const EVP_CIPHER* FetchCipher(const char* name, const EVP_CIPHER* fallback) {
  EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, name, nullptr);
  return fetched != nullptr ? fetched : fallback;
}
const EVP_CIPHER* Gcm() {
  static const EVP_CIPHER* const cipher = FetchCipher("AES-256-GCM", EVP_aes_256_gcm());
  return cipher;
}
const EVP_CIPHER* Xts() {
  static const EVP_CIPHER* const cipher = FetchCipher("AES-256-XTS", EVP_aes_256_xts());
  return cipher;
}

// A per-thread cipher context that remembers the key it holds. Calls come in long runs under
// one key (every sector of a volume, every chunk of a lineage), so re-keying only when the key
// changes saves the key schedule (and GCM's hash table) on nearly every call: for a 4 KiB XTS
// sector that is a measurable share of the work. The cached copy of the key adds no exposure:
// the context holds its expanded schedule anyway. Both are wiped when the thread exits.
class CachedCipher {
 public:
  CachedCipher(const EVP_CIPHER* cipher, int enc) : ctx_(EVP_CIPHER_CTX_new()), enc_(enc) {
    if (ctx_ != nullptr && EVP_CipherInit_ex(ctx_, cipher, nullptr, nullptr, nullptr, enc_) != 1) {
      EVP_CIPHER_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~CachedCipher() {
    EVP_CIPHER_CTX_free(ctx_);
    OPENSSL_cleanse(key_, sizeof key_);
  }
  CachedCipher(const CachedCipher&) = delete;
  CachedCipher& operator=(const CachedCipher&) = delete;

  // The context keyed with `key` and set to `iv`, ready for one message; nullptr on failure.
  EVP_CIPHER_CTX* Begin(ByteView key, const uint8_t* iv) {
    if (ctx_ == nullptr || key.size() > sizeof key_) return nullptr;
    const bool same = key_len_ == key.size() && CRYPTO_memcmp(key_, key.data(), key.size()) == 0;
    if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, same ? nullptr : key.data(), iv, enc_) != 1) {
      key_len_ = 0;  // the context's state is unknown now: re-key next time
      return nullptr;
    }
    if (!same) {
      std::memcpy(key_, key.data(), key.size());
      key_len_ = key.size();
    }
    return ctx_;
  }

 private:
  EVP_CIPHER_CTX* ctx_;
  const int enc_;
  uint8_t key_[64] = {};
  size_t key_len_ = 0;  // 0: no key cached
};

// Feeds `in` to the cipher (as associated data when `out` is null). False on failure.
bool Feed(EVP_CIPHER_CTX* ctx, uint8_t* out, ByteView in) {
  for (size_t off = 0; off < in.size(); off += kMaxPiece) {
    const int n = static_cast<int>(std::min(kMaxPiece, in.size() - off));
    int len = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + off, &len, in.data() + off, n) !=
            1 ||
        len != n) {
      return false;
    }
  }
  return true;
}

// HMAC-SHA-256 with a per-thread MAC context that keeps its key, for the same reason as
// CachedCipher: chunk ids hash under one lineage key at a time.
class CachedHmac {
 public:
  CachedHmac() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) return;
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx_ != nullptr && EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~CachedHmac() {
    EVP_MAC_CTX_free(ctx_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }
  CachedHmac(const CachedHmac&) = delete;
  CachedHmac& operator=(const CachedHmac&) = delete;

  // False only if OpenSSL fails (allocation, a broken library).
  bool Mac(const Key256& key, ByteView prefix, ByteView data, Digest256& out) {
    if (ctx_ == nullptr) return false;
    const bool same = keyed_ && CRYPTO_memcmp(key_.data(), key.data(), key.size()) == 0;
    // A null key re-initializes the context with the key it already holds.
    if (EVP_MAC_init(ctx_, same ? nullptr : key.data(), same ? 0 : key.size(), nullptr) != 1) {
      keyed_ = false;
      return false;
    }
    key_ = key;
    keyed_ = true;
    size_t len = 0;
    if (!prefix.empty() && EVP_MAC_update(ctx_, prefix.data(), prefix.size()) != 1) return false;
    for (size_t off = 0; off < data.size(); off += kMaxPiece) {
      const size_t n = std::min(kMaxPiece, data.size() - off);
      if (EVP_MAC_update(ctx_, data.data() + off, n) != 1) return false;
    }
    return EVP_MAC_final(ctx_, out.data(), &len, out.size()) == 1 && len == out.size();
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  Key256 key_{};
  bool keyed_ = false;
};

Status CheckXts(const XtsKey& key, ByteView data) {
  if (CRYPTO_memcmp(key.data(), key.data() + 32, 32) == 0) {
    return InvalidArgumentError("AES-XTS key halves are equal");
  }
  if (data.size() < 16 || data.size() % 16 != 0 || data.size() > kMaxXtsDataUnit) {
    return InvalidArgumentError("AES-XTS data of " + std::to_string(data.size()) +
                                " bytes; must be a multiple of 16 in 16 .. 16 MiB");
  }
  return Status::Ok();
}

Status XtsCrypt(CachedCipher& cipher, const XtsKey& key, uint64_t sector, MutableByteView data) {
  RETURN_IF_ERROR(CheckXts(key, data));
  uint8_t iv[16] = {};
  PutU64(iv, sector);  // aes-xts-plain64: the sector number, little-endian, zero-padded
  EVP_CIPHER_CTX* ctx = cipher.Begin(key, iv);
  if (ctx == nullptr) return OpenSslError("AES-XTS init");
  // One update is one whole data unit; XTS has nothing to finalize.
  int len = 0;
  if (EVP_CipherUpdate(ctx, data.data(), &len, data.data(), static_cast<int>(data.size())) != 1 ||
      static_cast<size_t>(len) != data.size()) {
    return OpenSslError("AES-XTS");
  }
  return Status::Ok();
}

}  // namespace

Status RandomBytes(MutableByteView out) {
  for (size_t off = 0; off < out.size(); off += kMaxPiece) {
    const int n = static_cast<int>(std::min(kMaxPiece, out.size() - off));
    if (RAND_bytes(out.data() + off, n) != 1) return OpenSslError("RAND_bytes");
  }
  return Status::Ok();
}

Result<Key256> RandomKey() {
  Key256 key;
  RETURN_IF_ERROR(RandomBytes(key));
  return key;
}

Digest256 HmacSha256(const Key256& key, ByteView data) { return HmacSha256(key, {}, data); }

Digest256 HmacSha256(const Key256& key, ByteView prefix, ByteView data) {
  thread_local CachedHmac hmac;
  Digest256 out;
  // The contract has no error: OpenSSL fails here only on allocation failure or a broken
  // library, which no caller could handle (as in sha256.cc).
  if (!hmac.Mac(key, prefix, data, out)) std::abort();
  return out;
}

Digest256 HmacSha256AnyKey(ByteView key, ByteView data) {
  Digest256 out;
  size_t len = 0;
  // EVP_Q_mac fails only on allocation failure or a broken library (as HmacSha256 above).
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                data.size(), out.data(), out.size(), &len) == nullptr ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status HkdfSha256(ByteView ikm, ByteView salt, ByteView info, MutableByteView out) {
  if (out.empty() || out.size() > 255 * 32) {
    return InvalidArgumentError("HKDF-SHA-256 output of " + std::to_string(out.size()) +
                                " bytes; must be 1 .. 8160");
  }
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return OpenSslError("HKDF fetch");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf),
                                                                &EVP_KDF_CTX_free);
  if (ctx == nullptr) return OpenSslError("HKDF context");
  // OpenSSL rejects a null octet string, so empty inputs point at a dummy byte; an absent salt
  // is HashLen zeros (RFC 5869 2.2), which OpenSSL applies when none is given.
  static const uint8_t kNothing = 0;
  auto octets = [](const char* name, ByteView b) {
    void* p = const_cast<uint8_t*>(b.empty() ? &kNothing : b.data());
    return OSSL_PARAM_construct_octet_string(name, p, b.size());
  };
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  if (!info.empty()) params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return OpenSslError("HKDF derive");
  }
  return Status::Ok();
}

Status crypto_internal::AesGcmSealWithNonce(const Key256& key, ByteView nonce, ByteView plaintext,
                                            ByteView associated_data, Bytes& out) {
  if (nonce.size() != kGcmNonceSize) {
    return InvalidArgumentError("AES-GCM nonce of " + std::to_string(nonce.size()) +
                                " bytes; must be 12");
  }
  thread_local CachedCipher cipher(Gcm(), /*enc=*/1);
  EVP_CIPHER_CTX* ctx = cipher.Begin(key, nonce.data());
  if (ctx == nullptr) return OpenSslError("AES-GCM seal init");
  const size_t start = out.size();
  out.resize(start + kGcmNonceSize + plaintext.size() + kGcmTagSize);
  uint8_t* nonce_out = out.data() + start;
  uint8_t* ciphertext = nonce_out + kGcmNonceSize;
  uint8_t* tag = ciphertext + plaintext.size();
  std::memcpy(nonce_out, nonce.data(), kGcmNonceSize);
  int final_len = 0;
  if (!Feed(ctx, nullptr, associated_data) || !Feed(ctx, ciphertext, plaintext) ||
      EVP_EncryptFinal_ex(ctx, tag, &final_len) != 1 || final_len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagSize, tag) != 1) {
    OPENSSL_cleanse(nonce_out, out.size() - start);
    out.resize(start);
    return OpenSslError("AES-GCM seal");
  }
  return Status::Ok();
}

Status AesGcmSealTo(const Key256& key, ByteView plaintext, ByteView associated_data, Bytes& out) {
  // 96-bit random nonces: after 2^32 seals under one key the chance of a repeat is 2^-33 (NIST
  // SP 800-38D 8.3). A lineage stores one sealed chunk per distinct 512 KiB block, far below.
  uint8_t nonce[kGcmNonceSize];
  RETURN_IF_ERROR(RandomBytes(nonce));
  return crypto_internal::AesGcmSealWithNonce(key, nonce, plaintext, associated_data, out);
}

Result<Bytes> AesGcmSeal(const Key256& key, ByteView plaintext, ByteView associated_data) {
  Bytes out;
  out.reserve(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  RETURN_IF_ERROR(AesGcmSealTo(key, plaintext, associated_data, out));
  return out;
}

namespace {

Status CheckSealedSize(ByteView sealed) {
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) {
    return CorruptionError("sealed data of " + std::to_string(sealed.size()) +
                           " bytes is shorter than its nonce and tag");
  }
  return Status::Ok();
}

// Opens `sealed` (nonce || ciphertext || tag, size checked) into out[0, ciphertext size); `out`
// may be the ciphertext itself (in-place). On failure out is wiped: unauthenticated plaintext
// never leaves this function, not even in memory the caller frees.
Status GcmOpenTo(const Key256& key, ByteView sealed, ByteView associated_data, uint8_t* out) {
  thread_local CachedCipher cipher(Gcm(), /*enc=*/0);
  EVP_CIPHER_CTX* ctx = cipher.Begin(key, sealed.data());
  if (ctx == nullptr) return OpenSslError("AES-GCM open init");
  const ByteView ciphertext =
      sealed.subspan(kGcmNonceSize, sealed.size() - kGcmNonceSize - kGcmTagSize);
  // The tag is copied into the context before `out` (possibly the ciphertext) is written.
  uint8_t tag[kGcmTagSize];
  std::memcpy(tag, sealed.data() + sealed.size() - kGcmTagSize, kGcmTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1 ||
      !Feed(ctx, nullptr, associated_data) || !Feed(ctx, out, ciphertext)) {
    OPENSSL_cleanse(out, ciphertext.size());
    return OpenSslError("AES-GCM open");
  }
  uint8_t unused[16];
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx, unused, &final_len) != 1) {
    OPENSSL_cleanse(out, ciphertext.size());
    ERR_clear_error();
    return CorruptionError("authentication failed (tampered, or sealed under another key)");
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> AesGcmOpen(const Key256& key, ByteView sealed, ByteView associated_data) {
  RETURN_IF_ERROR(CheckSealedSize(sealed));
  Bytes plaintext(sealed.size() - kGcmNonceSize - kGcmTagSize);
  RETURN_IF_ERROR(GcmOpenTo(key, sealed, associated_data, plaintext.data()));
  return plaintext;
}

Result<MutableByteView> AesGcmOpenInPlace(const Key256& key, MutableByteView sealed,
                                          ByteView associated_data) {
  RETURN_IF_ERROR(CheckSealedSize(sealed));
  RETURN_IF_ERROR(GcmOpenTo(key, sealed, associated_data, sealed.data() + kGcmNonceSize));
  return sealed.subspan(kGcmNonceSize, sealed.size() - kGcmNonceSize - kGcmTagSize);
}

Status AesXtsEncrypt(const XtsKey& key, uint64_t sector, MutableByteView data) {
  thread_local CachedCipher cipher(Xts(), /*enc=*/1);
  return XtsCrypt(cipher, key, sector, data);
}

Status AesXtsDecrypt(const XtsKey& key, uint64_t sector, MutableByteView data) {
  thread_local CachedCipher cipher(Xts(), /*enc=*/0);
  return XtsCrypt(cipher, key, sector, data);
}

}  // namespace kiln
