// Names and references as KMS checks them.
#include "kms/kms_names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kiln {
namespace {

constexpr char kId[] = "1234abcd-12ab-34cd-56ef-1234567890ab";

TEST(KmsNamesTest, AccountIds) {
  EXPECT_TRUE(IsValidAccountId("111122223333"));
  EXPECT_FALSE(IsValidAccountId("11112222333"));
  EXPECT_FALSE(IsValidAccountId("1111222233334"));
  EXPECT_FALSE(IsValidAccountId("11112222333a"));
  EXPECT_FALSE(IsValidAccountId(""));
  EXPECT_EQ(ValidateAccountId("x").ec2_code(), "ValidationException");
}

TEST(KmsNamesTest, Regions) {
  EXPECT_TRUE(IsValidRegion("us-east-1"));
  EXPECT_TRUE(IsValidRegion("eu-central-2"));
  EXPECT_FALSE(IsValidRegion(""));
  EXPECT_FALSE(IsValidRegion("US-EAST-1"));
  EXPECT_FALSE(IsValidRegion("1us"));
  EXPECT_FALSE(IsValidRegion("us:east"));
  EXPECT_FALSE(IsValidRegion(std::string(33, 'a')));
}

TEST(KmsNamesTest, NewKeyIdsAreDistinctUuidV4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Result<std::string> id = NewKeyId();
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(IsKeyIdFormat(*id)) << *id;
    EXPECT_EQ((*id)[14], '4') << *id;                                   // version 4
    EXPECT_NE(std::string("89ab").find((*id)[19]), std::string::npos);  // variant 10xx
    EXPECT_TRUE(seen.insert(*id).second);
  }
}

TEST(KmsNamesTest, KeyIdFormat) {
  EXPECT_TRUE(IsKeyIdFormat(kId));
  EXPECT_FALSE(IsKeyIdFormat("1234ABCD-12ab-34cd-56ef-1234567890ab"));  // canonical is lower-case
  EXPECT_FALSE(IsKeyIdFormat("1234abcd-12ab-34cd-56ef-1234567890a"));
  EXPECT_FALSE(IsKeyIdFormat("1234abcd012ab-34cd-56ef-1234567890ab"));
  EXPECT_FALSE(IsKeyIdFormat("1234abcg-12ab-34cd-56ef-1234567890ab"));
  EXPECT_FALSE(IsKeyIdFormat(""));
}

TEST(KmsNamesTest, Arns) {
  EXPECT_EQ(KeyArn("us-east-1", "111122223333", kId),
            std::string("arn:aws:kms:us-east-1:111122223333:key/") + kId);
  EXPECT_EQ(AliasArn("eu-west-1", "111122223333", "alias/x"),
            "arn:aws:kms:eu-west-1:111122223333:alias/x");
}

TEST(KmsNamesTest, AliasNames) {
  EXPECT_TRUE(ValidateNewAliasName("alias/my-key_1/Prod").ok());
  EXPECT_TRUE(ValidateNewAliasName("alias/aws").ok());  // only "alias/aws/" is reserved
  EXPECT_TRUE(ValidateNewAliasName("alias/" + std::string(250, 'a')).ok());
  for (const std::string& bad :
       {std::string(""), std::string("alias/"), std::string("foo"), std::string("aliasx/y"),
        std::string("alias/a:b"), std::string("alias/a b"), std::string("alias/\xc3\xa9"),
        std::string("alias/a.b"), "alias/" + std::string(251, 'a'), std::string("Alias/x")}) {
    Status s = ValidateNewAliasName(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.ec2_code(), "ValidationException") << bad;
    EXPECT_FALSE(IsValidAliasName(bad)) << bad;
  }
  Status reserved = ValidateNewAliasName("alias/aws/ebs");
  EXPECT_EQ(reserved.ec2_code(), "NotAuthorizedException");
  EXPECT_EQ(ValidateNewAliasName("alias/aws/mine").ec2_code(), "NotAuthorizedException");
  EXPECT_TRUE(IsValidAliasName("alias/aws/ebs"));  // valid as a name, reserved for AWS
}

TEST(KmsNamesTest, Descriptions) {
  EXPECT_TRUE(ValidateDescription("").ok());
  EXPECT_TRUE(ValidateDescription(std::string(8192, 'd')).ok());
  EXPECT_EQ(ValidateDescription(std::string(8193, 'd')).ec2_code(), "ValidationException");
  std::string accents;
  for (int i = 0; i < 8192; ++i) accents += "\xc3\xa9";  // 8192 characters, 16 KiB
  EXPECT_TRUE(ValidateDescription(accents).ok());
  EXPECT_FALSE(ValidateDescription(accents + "x").ok());
  // Malformed UTF-8 (only continuation bytes) is bounded by bytes.
  EXPECT_FALSE(ValidateDescription(std::string(4 * 8192 + 1, '\x80')).ok());
}

TEST(KmsNamesTest, ParseKeyRefForms) {
  Result<KeyRef> id = ParseKeyRef(kId);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->kind, KeyRef::Kind::kKeyId);
  EXPECT_EQ(id->value, kId);
  EXPECT_FALSE(id->region.has_value());

  Result<KeyRef> upper = ParseKeyRef("1234ABCD-12AB-34CD-56EF-1234567890AB");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->value, kId);

  Result<KeyRef> arn = ParseKeyRef(std::string("arn:aws:kms:eu-west-1:111122223333:key/") + kId);
  ASSERT_TRUE(arn.ok());
  EXPECT_EQ(arn->kind, KeyRef::Kind::kKeyId);
  EXPECT_EQ(arn->value, kId);
  EXPECT_EQ(arn->region, "eu-west-1");
  EXPECT_EQ(arn->account, "111122223333");

  Result<KeyRef> alias = ParseKeyRef("alias/aws/ebs");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->kind, KeyRef::Kind::kAlias);
  EXPECT_EQ(alias->value, "alias/aws/ebs");

  Result<KeyRef> alias_arn = ParseKeyRef("arn:aws:kms:us-east-1:111122223333:alias/x/y");
  ASSERT_TRUE(alias_arn.ok());
  EXPECT_EQ(alias_arn->kind, KeyRef::Kind::kAlias);
  EXPECT_EQ(alias_arn->value, "alias/x/y");
  EXPECT_EQ(alias_arn->account, "111122223333");
}

TEST(KmsNamesTest, ParseKeyRefErrors) {
  EXPECT_EQ(ParseKeyRef("").status().ec2_code(), "ValidationException");
  EXPECT_EQ(ParseKeyRef(std::string(2049, 'a')).status().ec2_code(), "ValidationException");
  for (const std::string& bad :
       {std::string("foo"), std::string("key/") + kId, std::string("1234abcd"),
        std::string("arn:aws:kms:us-east-1:111122223333:key/foo"),
        std::string("arn:aws:kms:us-east-1:111122223333:key/alias/x"),
        std::string("arn:aws:s3:us-east-1:111122223333:key/") + kId,
        std::string("arn:aws-cn:kms:us-east-1:111122223333:key/") + kId,
        std::string("arn:aws:kms:us-east-1:111122223333:") + kId,
        std::string("arn:aws:kms::111122223333:alias/x"), std::string("arn:aws:kms:us-east-1"),
        std::string("alias/"), std::string("alias/a b")}) {
    Result<KeyRef> r = ParseKeyRef(bad);
    EXPECT_EQ(r.status().code(), Code::kNotFound) << bad;
    EXPECT_EQ(r.status().ec2_code(), "NotFoundException") << bad;
    EXPECT_EQ(r.status().message(), "Invalid keyId " + bad);
  }
}

}  // namespace
}  // namespace kiln
