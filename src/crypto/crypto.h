// Symmetric primitives for encryption at rest, all through OpenSSL 3 EVP (AES-NI/VAES where the
// CPU has them). Keys are plain byte arrays; callers keep them out of logs and the catalog.
//
// Errors: Corruption when authentication fails (a tampered or wrong-key ciphertext), never
// plaintext; InvalidArgument for wrong key or nonce sizes; Internal if OpenSSL itself fails.
// Thread-safety: all functions are reentrant.
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/sha256.h"

namespace kiln {

using Key256 = std::array<uint8_t, 32>;

// Cryptographically secure random bytes (RAND_bytes). Internal on failure.
Status RandomBytes(MutableByteView out);
Result<Key256> RandomKey();

// HMAC-SHA-256.
Digest256 HmacSha256(const Key256& key, ByteView data);
// HMAC-SHA-256 of prefix || data, without joining them.
Digest256 HmacSha256(const Key256& key, ByteView prefix, ByteView data);

// HMAC-SHA-256 with a key of any length (SigV4's "AWS4" + secret, 44 bytes).
Digest256 HmacSha256AnyKey(ByteView key, ByteView data);
// Compares two byte strings in time independent of where they differ (signatures, MACs).
bool ConstantTimeEqual(ByteView a, ByteView b);

// HKDF-SHA-256 (RFC 5869): `out.size()` bytes derived from `ikm` with `salt` and `info`.
Status HkdfSha256(ByteView ikm, ByteView salt, ByteView info, MutableByteView out);

// AES-256-GCM with a 12-byte nonce and a 16-byte tag.
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
// Returns nonce || ciphertext || tag, with a fresh random nonce.
Result<Bytes> AesGcmSeal(const Key256& key, ByteView plaintext, ByteView associated_data);
// The same, appended to `out` (a caller that frames the result saves a copy); `plaintext` must
// not point into `out`. On error `out` is left as it was.
Status AesGcmSealTo(const Key256& key, ByteView plaintext, ByteView associated_data, Bytes& out);
// Opens what AesGcmSeal made; Corruption if the tag does not verify (tampering, wrong key,
// wrong associated data, truncation).
Result<Bytes> AesGcmOpen(const Key256& key, ByteView sealed, ByteView associated_data);
// The same without allocating: decrypts inside `sealed` and returns the plaintext as the view
// sealed[12, size - 16). On failure those bytes are wiped (unauthenticated plaintext is never
// left behind) and the error is as AesGcmOpen's.
Result<MutableByteView> AesGcmOpenInPlace(const Key256& key, MutableByteView sealed,
                                          ByteView associated_data);

// AES-256-XTS over whole sectors, as dm-crypt's aes-xts-plain64: the tweak is the sector number
// (little-endian, zero-padded to 16 bytes). `key` is 64 bytes (two AES-256 keys, which must
// differ). `data.size()` must be a multiple of 16, at least 16 and at most 16 MiB (OpenSSL's
// limit for one XTS data unit). In-place. InvalidArgument for equal key halves or a bad size.
using XtsKey = std::array<uint8_t, 64>;
Status AesXtsEncrypt(const XtsKey& key, uint64_t sector, MutableByteView data);
Status AesXtsDecrypt(const XtsKey& key, uint64_t sector, MutableByteView data);

}  // namespace kiln
