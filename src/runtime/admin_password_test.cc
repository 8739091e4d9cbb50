#include "runtime/admin_password.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <set>

namespace kiln {
namespace {

TEST(LaunchSettingsTest, DefaultsWhenEmpty) {
  Result<LaunchSettings> s = ParseLaunchSettings("");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->admin_user, "root");
  EXPECT_FALSE(s->random_password);
}

TEST(LaunchSettingsTest, ReadsUserAndRandomPassword) {
  Result<LaunchSettings> s = ParseLaunchSettings(
      "# kiln launch settings\n\n admin_user = admin \r\nadmin_password=random\nfuture=1\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->admin_user, "admin");
  EXPECT_TRUE(s->random_password);
  EXPECT_FALSE(ParseLaunchSettings("admin_password=keep\n")->random_password);
}

TEST(LaunchSettingsTest, RejectsMalformedLinesAndUsers) {
  EXPECT_EQ(ParseLaunchSettings("admin_password random\n").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseLaunchSettings("admin_user=../etc\n").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseLaunchSettings("admin_user=\n").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseLaunchSettings("admin_user=a:b\n").status().code(), Code::kInvalidArgument);
}

TEST(RandomPasswordTest, LengthAlphabetAndVariety) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    Result<std::string> p = RandomPassword();
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->size(), 20u);
    EXPECT_EQ(p->find_first_of(" :'\"\\$`\n"), std::string::npos) << *p;
    seen.insert(*p);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Sha512CryptHashTest, VerifiesWithCrypt) {
  Result<std::string> h = Sha512CryptHash("s3cret-Pass");
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->starts_with("$6$"));
  EXPECT_EQ(h->size(), 3u + 16 + 1 + 86);
  // crypt(3) with the hash as its setting hashes the same password to the same string.
  crypt_data data{};
  EXPECT_EQ(std::string(crypt_r("s3cret-Pass", h->c_str(), &data)), *h);
  EXPECT_NE(std::string(crypt_r("other", h->c_str(), &data)), *h);
  EXPECT_NE(*Sha512CryptHash("s3cret-Pass"), *h);  // a fresh salt each time
}

TEST(SetShadowHashTest, ReplacesOnlyTheUsersHashAndDate) {
  const std::string shadow =
      "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nadmin:!:19000::::::\n";
  Result<std::string> out = SetShadowHash(shadow, "nobody", "$6$salt$hash", 20000);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "root:*:19000:0:99999:7:::\nnobody:$6$salt$hash:20000:0:99999:7:::\n"
            "admin:!:19000::::::\n");
  // No trailing newline, a two-field line: kept as they are, the date added.
  EXPECT_EQ(*SetShadowHash("a:x:1:2\nroot:*", "root", "H", 5), "a:x:1:2\nroot:H:5");
  EXPECT_EQ(SetShadowHash(shadow, "rootx", "H", 5).status().code(), Code::kNotFound);
  EXPECT_EQ(SetShadowHash(shadow, "roo", "H", 5).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kiln
