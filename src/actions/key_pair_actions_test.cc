#include "actions/key_pair_actions.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "actions/actions_testing.h"
#include "actions/key_pair_testing.h"
#include "actions/ssh_testing.h"
#include "base/bytes.h"
#include "crypto/base64.h"

namespace kiln {
namespace {

using actions_testing::ActionsTest;
using actions_testing::Element;
using actions_testing::Elements;
using actions_testing::Enc;
using namespace ssh_testing;  // NOLINT: test helpers

using KeyPairActionsTest = actions_testing::KeyPairTest;

TEST_F(KeyPairActionsTest, CreateRsaReturnsPkcs1KeyMatchingItsFingerprint) {
  Result<std::string> xml = Call("Action=CreateKeyPair&KeyName=deploy");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_NE(xml->find("<CreateKeyPairResponse xmlns="), std::string::npos);
  const std::string material = Element(*xml, "keyMaterial");
  ASSERT_TRUE(material.starts_with("-----BEGIN RSA PRIVATE KEY-----\n")) << material;
  EXPECT_NE(material.find("-----END RSA PRIVATE KEY-----"), std::string::npos);
  EVP_PKEY* key = LoadPrivateKey(material);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 2048);
  const std::string fingerprint = Element(*xml, "keyFingerprint");
  EXPECT_EQ(fingerprint, Pkcs8Sha1(key));
  EXPECT_EQ(fingerprint.size(), 59u);  // 20 bytes, colon hex
  EVP_PKEY_free(key);
  const std::string id = Element(*xml, "keyPairId");
  EXPECT_TRUE(id.starts_with("key-") && id.size() == 21) << id;
  EXPECT_EQ(Element(*xml, "keyName"), "deploy");
  EXPECT_EQ(xml->find("<tagSet>"), std::string::npos);

  // The stored public key is the private key's: ssh-keygen derives the same one.
  Result<std::string> described =
      Call("Action=DescribeKeyPairs&KeyName.1=deploy&IncludePublicKey=true");
  ASSERT_TRUE(described.ok());
  const std::string public_key = Element(*described, "publicKey");
  EXPECT_TRUE(public_key.starts_with("ssh-rsa AAAAB3NzaC1yc2E")) << public_key;
  EXPECT_TRUE(public_key.ends_with(" deploy")) << public_key;
  EXPECT_EQ(Element(*described, "keyFingerprint"), fingerprint);
  EXPECT_EQ(Element(*described, "keyType"), "rsa");
  EXPECT_EQ(Element(*described, "createTime"), Ec2Timestamp(key_clock_.WallMicros()));
  if (HaveSshKeygen()) {
    const std::string path = dir_.path() + "/deploy.pem";
    WriteFile(path, material);
    const std::string derived = RunCommand("ssh-keygen -y -f " + path);
    ASSERT_FALSE(derived.empty());
    EXPECT_EQ(derived.substr(0, derived.find_first_of(" \n", 8)),
              public_key.substr(0, public_key.find(' ', 8)));
  }
}

TEST_F(KeyPairActionsTest, CreateEd25519ReturnsOpenSshKey) {
  Result<std::string> xml = Call("Action=CreateKeyPair&KeyName=ed&KeyType=ed25519");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  const std::string material = Element(*xml, "keyMaterial");
  ASSERT_TRUE(material.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")) << material;
  const std::string fingerprint = Element(*xml, "keyFingerprint");
  EXPECT_EQ(fingerprint.size(), 44u);  // base64 of 32 bytes, padded
  Result<std::string> described =
      Call("Action=DescribeKeyPairs&KeyName.1=ed&IncludePublicKey=true");
  ASSERT_TRUE(described.ok());
  const std::string public_key = Element(*described, "publicKey");
  EXPECT_TRUE(public_key.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")) << public_key;
  EXPECT_EQ(Element(*described, "keyType"), "ed25519");

  // The fingerprint is SHA-256 of the public key blob.
  const std::string blob_b64 = public_key.substr(12, public_key.find(' ', 12) - 12);
  Bytes blob = Base64Decode(blob_b64).value();
  EXPECT_EQ(fingerprint, Base64Encode(Digest(EVP_sha256(), blob.data(), blob.size())));
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed: private key not loaded";
  const std::string path = dir_.path() + "/ed.key";
  WriteFile(path, material);
  const std::string derived = RunCommand("ssh-keygen -y -f " + path);
  EXPECT_TRUE(derived.starts_with("ssh-ed25519 " + blob_b64)) << derived;
  const std::string listed = RunCommand("ssh-keygen -l -E sha256 -f " + path);
  EXPECT_NE(listed.find("SHA256:" + fingerprint.substr(0, 43) + " "), std::string::npos) << listed;
}

TEST_F(KeyPairActionsTest, CreateChecksItsParameters) {
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair"), "MissingParameter");
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName="), "MissingParameter");
  EXPECT_EC2_CODE(
      Call("Action=CreateKeyPair&KeyName=" + std::string(256, 'k') + "&KeyType=ed25519"),
      "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=caf%C3%A9&KeyType=ed25519"),
                  "InvalidParameterValue");
  EXPECT_TRUE(
      Call("Action=CreateKeyPair&KeyName=" + std::string(255, 'k') + "&KeyType=ed25519").ok());
  EXPECT_TRUE(Call("Action=CreateKeyPair&KeyName=a%20b%2Fc%3A%40&KeyType=ed25519").ok());
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=x&KeyType=dsa"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=x&KeyFormat=ppk"), "InvalidParameterValue");
  EXPECT_TRUE(Call("Action=CreateKeyPair&KeyName=x&KeyFormat=pem&KeyType=ed25519").ok());
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=y&TagSpecification.1.ResourceType=instance"
                       "&TagSpecification.1.Tag.1.Key=a"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=y&TagSpecification.1.ResourceType=key-pair"
                       "&TagSpecification.1.Tag.1.Key=aws%3Ax"),
                  "InvalidParameterValue");
  // Nothing of the refused calls was stored.
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&KeyName.1=y"), "InvalidKeyPair.NotFound");
}

TEST_F(KeyPairActionsTest, NamesAreUniquePerAccount) {
  ASSERT_TRUE(Call("Action=CreateKeyPair&KeyName=dup&KeyType=ed25519").ok());
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=dup&KeyType=ed25519"),
                  "InvalidKeyPair.Duplicate");
  EXPECT_EC2_CODE(Call("Action=CreateKeyPair&KeyName=dup"), "InvalidKeyPair.Duplicate");
  Result<std::string> line = Call("Action=DescribeKeyPairs&KeyName.1=dup&IncludePublicKey=true");
  ASSERT_TRUE(line.ok());
  const std::string pub = Element(*line, "publicKey");
  EXPECT_EC2_CODE(Import("dup", pub), "InvalidKeyPair.Duplicate");
  // Another account has its own names.
  EXPECT_TRUE(Call(other_, "Action=CreateKeyPair&KeyName=dup&KeyType=ed25519").ok());
  EXPECT_EC2_CODE(Import("dup", pub, &other_), "InvalidKeyPair.Duplicate");
}

TEST_F(KeyPairActionsTest, TagSpecificationsTagTheKeyPair) {
  Result<std::string> xml = Call(
      "Action=CreateKeyPair&KeyName=t&KeyType=ed25519"
      "&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=Env"
      "&TagSpecification.1.Tag.1.Value=prod&TagSpecification.1.Tag.2.Key=Empty");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_NE(xml->find("<tagSet><item><key>Env</key><value>prod</value></item><item><key>Empty</key>"
                      "<value></value></item></tagSet>"),
            std::string::npos)
      << *xml;
  Result<std::string> described =
      Call("Action=DescribeKeyPairs&Filter.1.Name=tag%3AEnv&Filter.1.Value.1=prod");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(Elements(*described, "keyName"), std::vector<std::string>{"t"});
  EXPECT_EQ(Elements(*described, "key"), (std::vector<std::string>{"Empty", "Env"}));
  EXPECT_EQ(described->find("<publicKey>"), std::string::npos);
}

}  // namespace
}  // namespace kiln
