#include "catalog/account_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOther;
using catalog_testing::kOwner;

using AccountTableTest = CatalogTest;

TEST_F(AccountTableTest, InsertGetAndFind) {
  Account kiln{"000011112222", "kiln", "kiln", "2024-01-01T00:00:00.000Z"};
  ASSERT_OK(catalog().accounts().Insert(kiln));
  EXPECT_EQ(catalog().accounts().Get("000011112222").value(), kiln);
  EXPECT_EQ(catalog().accounts().FindByName("kiln").value(), kiln);
  EXPECT_EQ(catalog().accounts().FindByAlias("kiln").value(), kiln);
  EXPECT_CODE(catalog().accounts().Get("999999999999"), kNotFound);
  EXPECT_CODE(catalog().accounts().FindByName("nobody"), kNotFound);
  EXPECT_CODE(catalog().accounts().FindByAlias(""), kNotFound);  // "" is no alias
}

TEST_F(AccountTableTest, IdNameAndAliasAreUnique) {
  EXPECT_CODE(catalog().accounts().Insert({kOwner, "again", "", ""}), kAlreadyExists);
  EXPECT_CODE(catalog().accounts().Insert({"000000000001", "default", "", ""}), kAlreadyExists);
  ASSERT_OK(catalog().accounts().Insert({"000000000002", "a", "kiln", ""}));
  EXPECT_CODE(catalog().accounts().Insert({"000000000003", "b", "kiln", ""}), kAlreadyExists);
  // Many accounts may have no alias.
  EXPECT_OK(catalog().accounts().Insert({"000000000004", "c", "", ""}));
}

TEST_F(AccountTableTest, MalformedAccountsAreRefused) {
  EXPECT_CODE(catalog().accounts().Insert({"12345", "short", "", ""}), kInvalidArgument);
  EXPECT_CODE(catalog().accounts().Insert({"12345678901x", "letter", "", ""}), kInvalidArgument);
  EXPECT_CODE(catalog().accounts().Insert({"123456789012", "", "", ""}), kInvalidArgument);
}

TEST_F(AccountTableTest, ListPagesById) {
  Result<std::vector<Account>> all = catalog().accounts().List({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].account_id, kOwner);
  EXPECT_EQ((*all)[1].account_id, kOther);
  Result<std::vector<Account>> page = catalog().accounts().List({.after_id = kOwner, .limit = 1});
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().account_id, kOther);
  EXPECT_CODE(catalog().accounts().List({.owner_id = kOwner}), kInvalidArgument);
}

TEST_F(AccountTableTest, Credentials) {
  Credential key{NewAccessKeyId().value(), NewSecretAccessKey().value(), kOwner};
  ASSERT_OK(catalog().accounts().InsertCredential(key));
  EXPECT_EQ(catalog().accounts().GetCredential(key.access_key_id).value(), key);
  EXPECT_CODE(catalog().accounts().InsertCredential(key), kAlreadyExists);
  Credential second{NewAccessKeyId().value(), NewSecretAccessKey().value(), kOwner};
  ASSERT_OK(catalog().accounts().InsertCredential(second));
  Result<std::vector<Credential>> keys = catalog().accounts().ListCredentials(kOwner);
  ASSERT_OK(keys);
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_TRUE(catalog().accounts().ListCredentials(kOther)->empty());
  EXPECT_CODE(catalog().accounts().GetCredential("AKIAAAAAAAAAAAAAAAAA"), kNotFound);
}

TEST_F(AccountTableTest, CredentialsAreCheckedAndNeedTheirAccount) {
  std::string secret = NewSecretAccessKey().value();
  EXPECT_CODE(catalog().accounts().InsertCredential({"AKIAshort", secret, kOwner}),
              kInvalidArgument);
  EXPECT_CODE(catalog().accounts().InsertCredential({"ASIAAAAAAAAAAAAAAAAA", secret, kOwner}),
              kInvalidArgument);
  EXPECT_CODE(catalog().accounts().InsertCredential({NewAccessKeyId().value(), "short", kOwner}),
              kInvalidArgument);
  EXPECT_CODE(
      catalog().accounts().InsertCredential({NewAccessKeyId().value(), secret, "999999999999"}),
      kFailedPrecondition);
}

TEST_F(AccountTableTest, EbsEncryptionDefaultsStartAsEc2sAndChangeApart) {
  EXPECT_EQ(catalog().accounts().GetEbsEncryptionDefaults(kOwner).value(), EbsEncryptionDefaults{});
  ASSERT_OK(catalog().accounts().SetEbsEncryptionByDefault(kOwner, true));
  const std::string key =
      "arn:aws:kms:us-east-1:" + std::string(kOwner) + ":key/0b6e0c1e-9d1d-4c1a-8a57-3f0e1d2c3b4a";
  ASSERT_OK(catalog().accounts().SetEbsDefaultKmsKeyId(kOwner, key));
  EXPECT_EQ(catalog().accounts().GetEbsEncryptionDefaults(kOwner).value(),
            (EbsEncryptionDefaults{.encrypted_by_default = true, .kms_key_id = key}));
  // Each setter keeps the other setting; accounts are apart.
  ASSERT_OK(catalog().accounts().SetEbsEncryptionByDefault(kOwner, false));
  EXPECT_EQ(catalog().accounts().GetEbsEncryptionDefaults(kOwner)->kms_key_id, key);
  ASSERT_OK(catalog().accounts().SetEbsEncryptionByDefault(kOwner, true));
  ASSERT_OK(catalog().accounts().SetEbsDefaultKmsKeyId(kOwner, ""));
  EXPECT_EQ(catalog().accounts().GetEbsEncryptionDefaults(kOwner).value(),
            (EbsEncryptionDefaults{.encrypted_by_default = true, .kms_key_id = ""}));
  EXPECT_EQ(catalog().accounts().GetEbsEncryptionDefaults(kOther).value(), EbsEncryptionDefaults{});
}

TEST_F(AccountTableTest, EbsEncryptionDefaultsNeedTheAccount) {
  EXPECT_CODE(catalog().accounts().GetEbsEncryptionDefaults("999999999999"), kNotFound);
  EXPECT_CODE(catalog().accounts().SetEbsEncryptionByDefault("999999999999", true), kNotFound);
  EXPECT_CODE(catalog().accounts().SetEbsDefaultKmsKeyId("999999999999", ""), kNotFound);
}

TEST_F(AccountTableTest, EbsEncryptionDefaultsJoinATransaction) {
  {
    Transaction tx = catalog().Begin().value();
    ASSERT_OK(tx.accounts().SetEbsEncryptionByDefault(kOwner, true));
    EXPECT_TRUE(tx.accounts().GetEbsEncryptionDefaults(kOwner)->encrypted_by_default);
  }  // rolled back
  EXPECT_FALSE(catalog().accounts().GetEbsEncryptionDefaults(kOwner)->encrypted_by_default);
}

}  // namespace
}  // namespace kiln
