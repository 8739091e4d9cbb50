// Internals of crypto.cc exposed for known-answer tests (crypto_test.cc) only. Production code
// must not call these: sealing twice under one key with the same nonce breaks AES-GCM entirely.
#pragma once

#include "crypto/crypto.h"

namespace kiln::crypto_internal {

// AesGcmSealTo with a caller-chosen 12-byte nonce: appends nonce || ciphertext || tag to `out`.
// InvalidArgument if `nonce` is not 12 bytes.
Status AesGcmSealWithNonce(const Key256& key, ByteView nonce, ByteView plaintext,
                           ByteView associated_data, Bytes& out);

}  // namespace kiln::crypto_internal
