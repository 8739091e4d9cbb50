// ImportKeyPair, DescribeKeyPairs and DeleteKeyPair (CreateKeyPair: key_pair_actions_test.cc).
#include <gtest/gtest.h>

#include "actions/actions_testing.h"
#include "actions/key_pair_actions.h"
#include "actions/key_pair_testing.h"
#include "actions/ssh_testing.h"
#include "crypto/base64.h"

namespace kiln {
namespace {

using actions_testing::ActionsTest;
using actions_testing::Element;
using actions_testing::Elements;
using actions_testing::Enc;
using namespace ssh_testing;  // NOLINT: test helpers

class KeyPairImportTest : public actions_testing::KeyPairTest {
 protected:
  // A fresh key pair of `type` made by ssh-keygen: the private key file's path.
  std::string SshKeygen(const std::string& type, const std::string& name) {
    const std::string path = dir_.path() + "/" + name;
    EXPECT_FALSE(
        RunCommand("ssh-keygen -q -t " + type + " -N '' -C 'me@host x' -f " + path + " && echo ok")
            .empty());
    return path;
  }
  std::string PublicLine(const std::string& name) {
    Result<std::string> xml =
        Call("Action=DescribeKeyPairs&KeyName.1=" + name + "&IncludePublicKey=true");
    EXPECT_TRUE(xml.ok());
    return xml.ok() ? Element(*xml, "publicKey") : "";
  }
};

TEST_F(KeyPairImportTest, ImportedRsaFingerprintIsMd5OfSpki) {
  // A key whose private half the test holds: made by CreateKeyPair in another account.
  Result<std::string> made = Call(other_, "Action=CreateKeyPair&KeyName=src");
  ASSERT_TRUE(made.ok());
  EVP_PKEY* key = LoadPrivateKey(Element(*made, "keyMaterial"));
  ASSERT_NE(key, nullptr);
  const std::string expected = SpkiMd5(key);
  EVP_PKEY_free(key);
  Result<std::string> other_line =
      Call(other_, "Action=DescribeKeyPairs&KeyName.1=src&IncludePublicKey=true");
  ASSERT_TRUE(other_line.ok());
  Result<std::string> xml = Import("mine", Element(*other_line, "publicKey"));
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_NE(xml->find("<ImportKeyPairResponse xmlns="), std::string::npos);
  EXPECT_EQ(Element(*xml, "keyFingerprint"), expected);
  EXPECT_EQ(Element(*xml, "keyName"), "mine");
  EXPECT_TRUE(Element(*xml, "keyPairId").starts_with("key-"));
  EXPECT_EQ(xml->find("keyMaterial"), std::string::npos);
}

TEST_F(KeyPairImportTest, FingerprintsEqualSshKeygens) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (OpenSSL check above covers RSA)";
  const std::string rsa = SshKeygen("rsa", "id_rsa");  // OpenSSH's default size, 3072 bits
  const std::string line = RunCommand("cat " + rsa + ".pub");
  Result<std::string> xml = Import("rsa", line);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  // EC2's MD5 is over the DER SubjectPublicKeyInfo (AWS's "verify-keys" page), which is not
  // what `ssh-keygen -l -E md5` hashes (the SSH blob): derive the SPKI with ssh-keygen -e.
  const std::string spki = RunCommand("ssh-keygen -e -m PKCS8 -f " + rsa + ".pub");
  ASSERT_TRUE(spki.starts_with("-----BEGIN PUBLIC KEY-----")) << spki;
  BIO* bio = BIO_new_mem_buf(spki.data(), static_cast<int>(spki.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(Element(*xml, "keyFingerprint"), SpkiMd5(pub));
  EVP_PKEY_free(pub);
  const std::string ssh_md5 = RunCommand("ssh-keygen -l -E md5 -f " + rsa + ".pub");
  EXPECT_EQ(ssh_md5.find(Element(*xml, "keyFingerprint")), std::string::npos) << ssh_md5;
  // The line is kept as given, comment included.
  EXPECT_EQ(PublicLine("rsa") + "\n", line);

  const std::string ed = SshKeygen("ed25519", "id_ed25519");
  xml = Import("ed", RunCommand("cat " + ed + ".pub"));
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  const std::string sha = RunCommand("ssh-keygen -l -E sha256 -f " + ed + ".pub");
  const std::string fingerprint = Element(*xml, "keyFingerprint");
  ASSERT_EQ(fingerprint.size(), 44u);
  EXPECT_NE(sha.find("SHA256:" + fingerprint.substr(0, 43) + " "), std::string::npos) << sha;
  Result<std::string> described = Call("Action=DescribeKeyPairs&KeyName.1=ed");
  EXPECT_EQ(Element(*described, "keyType"), "ed25519");
}

TEST_F(KeyPairImportTest, BadMaterialIsInvalidKeyFormat) {
  ASSERT_TRUE(Call("Action=CreateKeyPair&KeyName=ed&KeyType=ed25519").ok());
  ASSERT_TRUE(Call("Action=CreateKeyPair&KeyName=rsa").ok());
  const std::string ed = PublicLine("ed");
  const std::string rsa = PublicLine("rsa");
  const std::string ed_b64 = ed.substr(12, ed.find(' ', 12) - 12);
  Bytes ed_blob = Base64Decode(ed_b64).value();
  auto with_blob = [](const std::string& type, Bytes blob) {
    return type + " " + Base64Encode(blob);
  };
  Bytes truncated(ed_blob.begin(), ed_blob.end() - 1);
  Bytes padded = ed_blob;
  padded.push_back(0);
  const std::vector<std::string> bad = {
      " ",
      "ssh-ed25519",
      "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
      "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
      "ssh-ed25519 not*base64",
      with_blob("ssh-ed25519", truncated),
      with_blob("ssh-ed25519", padded),
      with_blob("ssh-rsa", ed_blob),  // the blob says ed25519
      "-----BEGIN PUBLIC KEY-----",
      rsa.substr(0, 60),  // truncated RSA blob
      "ssh-ed25519 " + ed_b64 + "\nssh-ed25519 " + ed_b64,
  };
  for (const std::string& line : bad) {
    SCOPED_TRACE(line);
    EXPECT_EC2_CODE(Import("bad", line), "InvalidKey.Format");
  }
  // Material that is not base64 at all (a client that did not encode the blob).
  EXPECT_EC2_CODE(Call("Action=ImportKeyPair&KeyName=bad&PublicKeyMaterial=" + Enc(ed)),
                  "InvalidKey.Format");
  EXPECT_EC2_CODE(Call("Action=ImportKeyPair&KeyName=bad"), "MissingParameter");
  EXPECT_EC2_CODE(Import("", ed), "MissingParameter");
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&KeyName.1=bad"), "InvalidKeyPair.NotFound");
  // The same key under another name is fine; surrounding whitespace too.
  EXPECT_TRUE(Import("again", "  " + ed + " \r\n").ok());
}

TEST_F(KeyPairImportTest, DescribeSelectsAndFilters) {
  ASSERT_TRUE(Call("Action=CreateKeyPair&KeyName=web-1&KeyType=ed25519"
                   "&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=Env"
                   "&TagSpecification.1.Tag.1.Value=prod")
                  .ok());
  ASSERT_TRUE(Call("Action=CreateKeyPair&KeyName=web-2").ok());
  Result<std::string> db = Call("Action=CreateKeyPair&KeyName=db&KeyType=ed25519");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Call(other_, "Action=CreateKeyPair&KeyName=theirs&KeyType=ed25519").ok());
  const std::string db_id = Element(*db, "keyPairId");
  auto names = [&](const std::string& query) {
    Result<std::string> xml = Call("Action=DescribeKeyPairs" + query);
    EXPECT_TRUE(xml.ok()) << query << ": " << xml.status().ToString();
    std::vector<std::string> out =
        xml.ok() ? Elements(*xml, "keyName") : std::vector<std::string>{};
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(""), (V{"db", "web-1", "web-2"}));
  EXPECT_EQ(names("&KeyName.1=web-2&KeyPairId.1=" + db_id), (V{"db", "web-2"}));
  EXPECT_EQ(names("&Filter.1.Name=key-name&Filter.1.Value.1=web-%3F"), (V{"web-1", "web-2"}));
  EXPECT_EQ(names("&Filter.1.Name=key-name&Filter.1.Value.1=w*&Filter.2.Name=key-type"
                  "&Filter.2.Value.1=rsa"),
            (V{"web-2"}));
  EXPECT_EQ(names("&Filter.1.Name=key-pair-id&Filter.1.Value.1=" + db_id), (V{"db"}));
  EXPECT_EQ(
      names("&Filter.1.Name=fingerprint&Filter.1.Value.1=" + Enc(Element(*db, "keyFingerprint"))),
      (V{"db"}));
  EXPECT_EQ(names("&Filter.1.Name=tag-key&Filter.1.Value.1=E*"), (V{"web-1"}));
  EXPECT_EQ(names("&Filter.1.Name=tag-value&Filter.1.Value.1=prod"), (V{"web-1"}));
  EXPECT_EQ(names("&Filter.1.Name=tag%3AEnv&Filter.1.Value.1=dev"), V{});
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&Filter.1.Name=owner-id&Filter.1.Value.1=x"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&Filter.1.Name=key-name"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&KeyName.1=web-1&KeyName.2=nope"),
                  "InvalidKeyPair.NotFound");
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&KeyPairId.1=key-0123456789abcdef0"),
                  "InvalidKeyPair.NotFound");
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&IncludePublicKey=yes"), "InvalidParameterValue");
  // Isolation: the other account sees only its own, and not ours by name or id.
  Result<std::string> theirs = Call(other_, "Action=DescribeKeyPairs");
  EXPECT_EQ(Elements(*theirs, "keyName"), V{"theirs"});
  EXPECT_EC2_CODE(Call(other_, "Action=DescribeKeyPairs&KeyName.1=db"), "InvalidKeyPair.NotFound");
  EXPECT_EC2_CODE(Call(other_, "Action=DescribeKeyPairs&KeyPairId.1=" + db_id),
                  "InvalidKeyPair.NotFound");
}

TEST_F(KeyPairImportTest, DeleteByNameOrIdAndAbsentIsSuccess) {
  Result<std::string> a = Call(
      "Action=CreateKeyPair&KeyName=a&KeyType=ed25519"
      "&TagSpecification.1.ResourceType=key-pair"
      "&TagSpecification.1.Tag.1.Key=k");
  Result<std::string> b = Call("Action=CreateKeyPair&KeyName=b&KeyType=ed25519");
  Result<std::string> theirs = Call(other_, "Action=CreateKeyPair&KeyName=a&KeyType=ed25519");
  ASSERT_TRUE(a.ok() && b.ok() && theirs.ok());
  const std::string a_id = Element(*a, "keyPairId");
  Result<std::string> deleted = Call("Action=DeleteKeyPair&KeyName=a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(Element(*deleted, "return"), "true");
  EXPECT_EQ(Element(*deleted, "keyPairId"), a_id);
  EXPECT_TRUE(catalog().tags().List(a_id)->empty());
  EXPECT_EC2_CODE(Call("Action=DescribeKeyPairs&KeyName.1=a"), "InvalidKeyPair.NotFound");
  // The other account's key of the same name is untouched, and ours cannot be deleted by it.
  EXPECT_TRUE(Call(other_, "Action=DescribeKeyPairs&KeyName.1=a").ok());
  const std::string b_id = Element(*b, "keyPairId");
  Result<std::string> foreign = Call(other_, "Action=DeleteKeyPair&KeyPairId=" + b_id);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(Element(*foreign, "keyPairId"), "");
  EXPECT_TRUE(Call("Action=DescribeKeyPairs&KeyName.1=b").ok());
  // By id; again (absent) succeeds without an id.
  deleted = Call("Action=DeleteKeyPair&KeyPairId=" + b_id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(Element(*deleted, "keyPairId"), b_id);
  deleted = Call("Action=DeleteKeyPair&KeyPairId=" + b_id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(Element(*deleted, "return"), "true");
  EXPECT_TRUE(Call("Action=DeleteKeyPair&KeyName=never-was").ok());
  EXPECT_EC2_CODE(Call("Action=DeleteKeyPair"), "MissingParameter");
  EXPECT_EC2_CODE(Call("Action=DeleteKeyPair&KeyPairId=nope"), "InvalidParameterValue");
  // The name is free again.
  EXPECT_TRUE(Call("Action=CreateKeyPair&KeyName=a&KeyType=ed25519").ok());
}

}  // namespace
}  // namespace kiln
