// unique_ptr owners for OpenSSL objects, freed by their OpenSSL free function. Shared by the
// code that builds keys (crypto/rsa_encrypt.cc, actions/ssh_keys.cc).
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>

namespace kiln {

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;

}  // namespace kiln
