#include "actions/ssh_keys.h"

#include <gtest/gtest.h>

#include "actions/ssh_testing.h"
#include "crypto/base64.h"

namespace kiln::actions {
namespace {

TEST(SshKeysTest, GeneratedRsaRoundTripsThroughImport) {
  Result<GeneratedKeyPair> made = GenerateKeyPair("rsa");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Result<ImportedPublicKey> imported = ParseOpenSshPublicKey(made->public_key);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->key_type, "rsa");
  EXPECT_EQ(imported->public_key, made->public_key);
  // Created and imported RSA fingerprints differ by design (SHA-1 of the private key vs MD5 of
  // the public key), as on EC2; the imported one is the SPKI's MD5.
  EVP_PKEY* key = ssh_testing::LoadPrivateKey(made->private_key);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(imported->fingerprint, ssh_testing::SpkiMd5(key));
  EXPECT_EQ(made->fingerprint, ssh_testing::Pkcs8Sha1(key));
  EVP_PKEY_free(key);
}

TEST(SshKeysTest, GeneratedEd25519RoundTripsThroughImport) {
  Result<GeneratedKeyPair> made = GenerateKeyPair("ed25519");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(made->private_key.ends_with("-----END OPENSSH PRIVATE KEY-----\n"));
  Result<ImportedPublicKey> imported = ParseOpenSshPublicKey(made->public_key + " a comment");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->key_type, "ed25519");
  EXPECT_EQ(imported->fingerprint, made->fingerprint);  // same rule either way
  EXPECT_EQ(imported->public_key, made->public_key + " a comment");
  // Two keys differ.
  EXPECT_NE(GenerateKeyPair("ed25519")->public_key, made->public_key);
  EXPECT_FALSE(GenerateKeyPair("dsa").ok());
}

TEST(SshKeysTest, RefusesOddRsaKeys) {
  // ssh-rsa blob with e=65537 and a modulus of `bits` bits (all ones).
  auto rsa_line = [](int bits, Bytes e) {
    Bytes blob;
    auto put = [&](const Bytes& s) {
      for (int sh = 24; sh >= 0; sh -= 8) blob.push_back(static_cast<uint8_t>(s.size() >> sh));
      blob.insert(blob.end(), s.begin(), s.end());
    };
    put(Bytes{'s', 's', 'h', '-', 'r', 's', 'a'});
    put(e);
    Bytes n(1 + bits / 8, 0xff);
    n[0] = 0;
    put(n);
    return "ssh-rsa " + Base64Encode(blob);
  };
  const Bytes f4 = {0x01, 0x00, 0x01};
  EXPECT_TRUE(ParseOpenSshPublicKey(rsa_line(2048, f4)).ok());
  EXPECT_TRUE(ParseOpenSshPublicKey(rsa_line(4096, f4)).ok());
  EXPECT_EQ(ParseOpenSshPublicKey(rsa_line(512, f4)).status().ec2_code(), "InvalidKey.Format");
  EXPECT_EQ(ParseOpenSshPublicKey(rsa_line(8192, f4)).status().ec2_code(), "InvalidKey.Format");
  EXPECT_EQ(ParseOpenSshPublicKey(rsa_line(2048, {0x01, 0x00, 0x00})).status().ec2_code(),
            "InvalidKey.Format");  // even exponent
  EXPECT_EQ(ParseOpenSshPublicKey(rsa_line(2048, {0x00, 0x03})).status().ec2_code(),
            "InvalidKey.Format");  // needless leading zero
  EXPECT_EQ(ParseOpenSshPublicKey(rsa_line(2048, {0x81})).status().ec2_code(),
            "InvalidKey.Format");  // negative
}

}  // namespace
}  // namespace kiln::actions
