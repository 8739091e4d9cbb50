// Test-only helpers for the key pair tests: running ssh-keygen when it is installed, and the
// digests EC2's fingerprints use, computed here on their own (not through ssh_keys.cc).
#pragma once

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "base/bytes.h"

namespace kiln::ssh_testing {

inline bool HaveSshKeygen() { return std::system("command -v ssh-keygen >/dev/null 2>&1") == 0; }

// stdout of `command` (a test-controlled shell line), or "" if it failed.
inline std::string RunCommand(const std::string& command) {
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
  return pclose(f) == 0 ? out : "";
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  chmod(path.c_str(), 0600);
}

inline std::string ColonHex(const Bytes& d) {
  std::string hex = HexEncode(d), out;
  for (size_t i = 0; i < hex.size(); i += 2) out += (i ? ":" : "") + hex.substr(i, 2);
  return out;
}

inline Bytes Digest(const EVP_MD* md, const unsigned char* data, size_t len) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_Digest(data, len, out.data(), &n, md, nullptr);
  out.resize(n);
  return out;
}

inline EVP_PKEY* LoadPrivateKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

// "openssl pkcs8 -topk8 -nocrypt -outform DER | openssl sha1 -c", through OpenSSL's encoder.
inline std::string Pkcs8Sha1(EVP_PKEY* key) {
  OSSL_ENCODER_CTX* ctx =
      OSSL_ENCODER_CTX_new_for_pkey(key, OSSL_KEYMGMT_SELECT_ALL, "DER", "PrivateKeyInfo", nullptr);
  unsigned char* der = nullptr;
  size_t len = 0;
  EXPECT_EQ(OSSL_ENCODER_to_data(ctx, &der, &len), 1);
  OSSL_ENCODER_CTX_free(ctx);
  std::string out = ColonHex(Digest(EVP_sha1(), der, len));
  OPENSSL_free(der);
  return out;
}

inline std::string SpkiMd5(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  std::string out = ColonHex(Digest(EVP_md5(), der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return out;
}

}  // namespace kiln::ssh_testing
