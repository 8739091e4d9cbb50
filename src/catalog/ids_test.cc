#include "catalog/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

bool AllOf(const std::string& s, std::string_view alphabet) {
  return s.find_first_not_of(alphabet) == std::string::npos;
}

TEST(IdsTest, NewIdIsPrefixDashSeventeenLowercaseHex) {
  for (const char* prefix : {"ami", "snap", "vol", "i", "r", "key", "job"}) {
    Result<std::string> id = NewId(prefix);
    ASSERT_OK(id);
    std::string p = std::string(prefix) + "-";
    ASSERT_EQ(id->substr(0, p.size()), p);
    EXPECT_EQ(id->size(), p.size() + 17);
    EXPECT_TRUE(AllOf(id->substr(p.size()), "0123456789abcdef")) << *id;
    EXPECT_TRUE(IsResourceId(prefix, *id));
  }
}

TEST(IdsTest, NewIdsDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(seen.insert(NewId("ami").value()).second);
}

TEST(IdsTest, NewIdRefusesABadPrefix) {
  EXPECT_CODE(NewId(""), kInvalidArgument);
  EXPECT_CODE(NewId("AMI"), kInvalidArgument);
  EXPECT_CODE(NewId("ami-"), kInvalidArgument);
  EXPECT_CODE(NewId("abcdefghijklmnopq"), kInvalidArgument);
}

TEST(IdsTest, AccountIdsAreTwelveDigitsWithEveryLeadingDigit) {
  std::set<char> leading;
  for (int i = 0; i < 500; ++i) {
    std::string id = NewAccountId().value();
    ASSERT_EQ(id.size(), 12u);
    ASSERT_TRUE(AllOf(id, "0123456789")) << id;
    EXPECT_TRUE(IsAccountId(id));
    leading.insert(id[0]);
  }
  EXPECT_EQ(leading.size(), 10u);  // uniform: 0..9 all appear in 500 draws
}

TEST(IdsTest, AccessKeysHaveAwsForm) {
  std::string key = NewAccessKeyId().value();
  EXPECT_EQ(key.size(), 20u);
  EXPECT_EQ(key.substr(0, 4), "AKIA");
  EXPECT_TRUE(AllOf(key.substr(4), "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) << key;
  std::string secret = NewSecretAccessKey().value();
  EXPECT_EQ(secret.size(), 40u);
  EXPECT_TRUE(AllOf(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"));
  EXPECT_NE(NewSecretAccessKey().value(), secret);
}

TEST(IdsTest, IsResourceIdAcceptsShortAndLongForms) {
  EXPECT_TRUE(IsResourceId("ami", "ami-12345678"));
  EXPECT_TRUE(IsResourceId("ami", "ami-0123456789abcdef0"));
  EXPECT_FALSE(IsResourceId("ami", "ami-0123456789ABCDEF0"));
  EXPECT_FALSE(IsResourceId("ami", "ami-123456789"));
  EXPECT_FALSE(IsResourceId("ami", "snap-12345678"));
  EXPECT_FALSE(IsResourceId("ami", "ami12345678"));
  EXPECT_FALSE(IsResourceId("ami", "ami-"));
  EXPECT_FALSE(IsResourceId("i", "ami-12345678"));
  EXPECT_FALSE(IsAccountId("12345678901"));
  EXPECT_FALSE(IsAccountId("12345678901a"));
}

}  // namespace
}  // namespace kiln
