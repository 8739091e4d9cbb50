#include "catalog/key_pair_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::Id;
using catalog_testing::kOther;
using catalog_testing::kOwner;

class KeyPairTableTest : public CatalogTest {
 protected:
  KeyPairTable key_pairs() { return catalog().key_pairs(); }
  static KeyPair Make(const std::string& name, const std::string& owner = kOwner) {
    return {Id("key"),
            owner,
            name,
            "ed25519",
            "SHA256:abc",
            "ssh-ed25519 AAAA...",
            "2024-01-02T03:04:05.000Z"};
  }
};

TEST_F(KeyPairTableTest, InsertGetFindListDelete) {
  KeyPair key = Make("packer_1");
  ASSERT_OK(key_pairs().Insert(key));
  EXPECT_EQ(key_pairs().Get(key.key_pair_id).value(), key);
  EXPECT_EQ(key_pairs().FindByName(kOwner, "packer_1").value(), key);
  EXPECT_CODE(key_pairs().FindByName(kOther, "packer_1"), kNotFound);
  EXPECT_CODE(key_pairs().FindByName(kOwner, ""), kNotFound);
  ASSERT_OK(key_pairs().Insert(Make("second")));
  ASSERT_OK(key_pairs().Insert(Make("theirs", kOther)));
  EXPECT_EQ(key_pairs().List({.owner_id = kOwner})->size(), 2u);
  ASSERT_OK(catalog().tags().Set(key.key_pair_id, {{"", "k", "v"}}));
  ASSERT_OK(key_pairs().Delete(key.key_pair_id));
  EXPECT_CODE(key_pairs().Get(key.key_pair_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(key.key_pair_id)->empty());
  EXPECT_CODE(key_pairs().Delete(key.key_pair_id), kNotFound);
  // The name is free again.
  EXPECT_OK(key_pairs().Insert(Make("packer_1")));
}

TEST_F(KeyPairTableTest, NameIsUniquePerOwner) {
  ASSERT_OK(key_pairs().Insert(Make("dup")));
  Status again = key_pairs().Insert(Make("dup"));
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_NE(again.message().find("The keypair dup already exists"), std::string::npos);
  EXPECT_OK(key_pairs().Insert(Make("dup", kOther)));
}

TEST_F(KeyPairTableTest, MalformedKeyPairsAreRefused) {
  KeyPair bad = Make("x");
  bad.key_pair_id = "key-1";
  EXPECT_CODE(key_pairs().Insert(bad), kInvalidArgument);
  EXPECT_CODE(key_pairs().Insert(Make("")), kInvalidArgument);
  EXPECT_CODE(key_pairs().Insert(Make("x", "999999999999")), kFailedPrecondition);
}

}  // namespace
}  // namespace kiln
