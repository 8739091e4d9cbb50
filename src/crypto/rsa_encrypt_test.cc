#include "crypto/rsa_encrypt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

#include "crypto/base64.h"

namespace kiln {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

void PutString(Bytes& out, ByteView s) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(s.size() >> shift));
  }
  out.insert(out.end(), s.begin(), s.end());
}

void PutMpint(Bytes& out, const BIGNUM* bn) {
  Bytes mag(BN_num_bytes(bn));
  BN_bn2bin(bn, mag.data());
  if (!mag.empty() && (mag[0] & 0x80) != 0) mag.insert(mag.begin(), 0);
  PutString(out, mag);
}

// The OpenSSH public key line of `key`, built by hand (as ssh-keygen writes it).
std::string OpenSshLine(EVP_PKEY* key) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
  Bytes blob;
  PutString(blob, AsBytes("ssh-rsa"));
  PutMpint(blob, e);
  PutMpint(blob, n);
  BN_free(n);
  BN_free(e);
  return "ssh-rsa " + Base64Encode(blob) + " test@kiln";
}

Bytes Decrypt(EVP_PKEY* key, ByteView ct, int padding) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  size_t len = 0;
  Bytes out;
  if (EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1 &&
      EVP_PKEY_decrypt(ctx, nullptr, &len, ct.data(), ct.size()) == 1) {
    out.resize(len);
    if (EVP_PKEY_decrypt(ctx, out.data(), &len, ct.data(), ct.size()) == 1) {
      out.resize(len);
    } else {
      out.clear();
    }
  }
  EVP_PKEY_CTX_free(ctx);
  return out;
}

class RsaEncryptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = EVP_RSA_gen(2048); }
  static void TearDownTestSuite() { EVP_PKEY_free(key_); }
  static EVP_PKEY* key_;
};
EVP_PKEY* RsaEncryptTest::key_ = nullptr;

TEST_F(RsaEncryptTest, PrivateKeyDecryptsWhatThePublicLineEncrypts) {
  ASSERT_NE(key_, nullptr);
  const std::string line = OpenSshLine(key_);
  const std::string password = "Xy7-kq9PzL2mNw4vRt8s";
  Result<std::string> b64 = RsaPkcs1EncryptBase64(line, AsBytes(password));
  ASSERT_TRUE(b64.ok()) << b64.status().ToString();
  Result<Bytes> ct = Base64Decode(*b64);
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->size(), 256u);
  const Bytes pt = Decrypt(key_, *ct, RSA_PKCS1_PADDING);
  EXPECT_EQ(std::string(pt.begin(), pt.end()), password);
  // Random padding: the same message encrypts differently each time.
  Result<std::string> again = RsaPkcs1EncryptBase64(line, AsBytes(password));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *b64);
}

TEST_F(RsaEncryptTest, LineWithoutCommentAndLeadingSpaceWorks) {
  std::string line = OpenSshLine(key_);
  line = "  " + line.substr(0, line.rfind(' '));
  Result<Bytes> ct = RsaPkcs1Encrypt(line, AsBytes("pw"));
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  const Bytes pt = Decrypt(key_, *ct, RSA_PKCS1_PADDING);
  EXPECT_EQ(std::string(pt.begin(), pt.end()), "pw");
}

TEST_F(RsaEncryptTest, TooLongMessageIsInvalidArgument) {
  const Bytes big(256 - 10, 'a');
  EXPECT_EQ(RsaPkcs1Encrypt(OpenSshLine(key_), big).status().code(), Code::kInvalidArgument);
  const Bytes fits(256 - 11, 'a');
  EXPECT_TRUE(RsaPkcs1Encrypt(OpenSshLine(key_), fits).ok());
}

TEST(RsaEncryptBadKeyTest, RejectsWhatIsNotAnSshRsaKey) {
  const char* bad[] = {
      "",
      "ssh-rsa",
      "ssh-rsa !!!notbase64",
      // An Ed25519 key: password data needs RSA.
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq2h7oFzQTj7fNRXbyYJ0o4mW0bXk0v3c2s1Zk0x9sD",
      // The line says ssh-rsa, the blob says ssh-ed25519.
      "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGq2h7oFzQTj7fNRXbyYJ0o4mW0bXk0v3c2s1Zk0x9sD",
      // A truncated blob: "ssh-rsa" then a length running past the end.
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB/w==",
  };
  for (const char* line : bad) {
    EXPECT_EQ(RsaPkcs1Encrypt(line, AsBytes("pw")).status().code(), Code::kInvalidArgument) << line;
  }
}

}  // namespace
}  // namespace kiln
