// KeyService's KMS operations on a MemFileSystem: keys, aliases, the default EBS key, accounts,
// persistence and the key file's handling (permissions, damage, leftovers).
#include "kms/key_service.h"

#include <gtest/gtest.h>

#include "env/mem_file_system.h"
#include "kms/key_service_internal.h"
#include "kms/kms_testing.h"

namespace kiln {
namespace {

using kms_testing::kAccountA;
using kms_testing::kAccountB;
using kms_testing::kDir;
using kms_testing::MustOpen;

const std::string kKeysPath = std::string(kDir) + "/master-keys";

class KeyServiceTest : public testing::Test {
 protected:
  KeyServiceTest() : kms_(MustOpen(fs_, clock_)) {}

  void Reopen() {
    kms_.reset();
    kms_ = MustOpen(fs_, clock_);
    ASSERT_NE(kms_, nullptr);
  }

  KeyMetadata MustCreate(const std::string& account, const std::string& description = "") {
    Result<KeyMetadata> key = kms_->CreateKey(account, description);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : KeyMetadata{};
  }

  MemFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<KeyService> kms_;
};

TEST_F(KeyServiceTest, CreateKeyFillsKmsMetadata) {
  const KeyMetadata key = MustCreate(kAccountA, "my volumes");
  EXPECT_EQ(key.account_id, kAccountA);
  EXPECT_TRUE(IsKeyIdFormat(key.key_id)) << key.key_id;
  EXPECT_EQ(key.arn, "arn:aws:kms:us-east-1:111122223333:key/" + key.key_id);
  EXPECT_EQ(key.creation_micros, clock_.WallMicros());
  EXPECT_EQ(key.description, "my volumes");
  EXPECT_EQ(key.state, KeyState::kEnabled);
  EXPECT_TRUE(key.enabled());
  EXPECT_EQ(key.key_manager, KeyManager::kCustomer);
  EXPECT_STREQ(KeyManagerName(key.key_manager), "CUSTOMER");
  EXPECT_STREQ(KeyStateName(key.state), "Enabled");
  EXPECT_NE(MustCreate(kAccountA).key_id, key.key_id);
}

TEST_F(KeyServiceTest, DescribeKeyByIdArnAndCase) {
  const KeyMetadata key = MustCreate(kAccountA, "d");
  clock_.Advance(5);
  for (const std::string& ref : std::vector<std::string>{key.key_id, key.arn, [&] {
                                                           std::string upper = key.key_id;
                                                           for (char& c : upper)
                                                             c = static_cast<char>(std::toupper(c));
                                                           return upper;
                                                         }()}) {
    Result<KeyMetadata> got = kms_->DescribeKey(kAccountA, ref);
    ASSERT_TRUE(got.ok()) << ref << ": " << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
}

TEST_F(KeyServiceTest, KeysAndAliasesSurviveReopen) {
  const KeyMetadata a = MustCreate(kAccountA, "a");
  const KeyMetadata b = MustCreate(kAccountB, "b");
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/app", a.key_id).ok());
  Result<KeyMetadata> ebs = kms_->DefaultEbsKey(kAccountA);
  ASSERT_TRUE(ebs.ok());
  const auto aliases_before = kms_->ListAliases(kAccountA);
  ASSERT_TRUE(aliases_before.ok());
  Reopen();
  EXPECT_EQ(*kms_->DescribeKey(kAccountA, a.key_id), a);
  EXPECT_EQ(*kms_->DescribeKey(kAccountB, b.arn), b);
  EXPECT_EQ(*kms_->DescribeKey(kAccountA, "alias/app"), a);
  EXPECT_EQ(*kms_->DefaultEbsKey(kAccountA), *ebs);
  EXPECT_EQ(*kms_->ListAliases(kAccountA), *aliases_before);
}

TEST_F(KeyServiceTest, ListKeysPerAccountSorted) {
  std::vector<KeyListEntry> want;
  for (int i = 0; i < 5; ++i) {
    const KeyMetadata k = MustCreate(kAccountA);
    want.push_back({k.key_id, k.arn});
  }
  MustCreate(kAccountB);
  std::sort(want.begin(), want.end(),
            [](const KeyListEntry& x, const KeyListEntry& y) { return x.key_id < y.key_id; });
  EXPECT_EQ(*kms_->ListKeys(kAccountA), want);
  EXPECT_EQ(kms_->ListKeys(kAccountB)->size(), 1u);
  EXPECT_TRUE(kms_->ListKeys("999999999999")->empty());
}

TEST_F(KeyServiceTest, AccountsSeeOnlyTheirOwnKeys) {
  const KeyMetadata a = MustCreate(kAccountA);
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/shared-name", a.key_id).ok());
  for (const std::string& ref :
       std::vector<std::string>{a.key_id, a.arn, std::string("alias/shared-name"),
                                "arn:aws:kms:us-east-1:111122223333:alias/shared-name"}) {
    Result<KeyMetadata> got = kms_->DescribeKey(kAccountB, ref);
    EXPECT_EQ(got.status().code(), Code::kNotFound) << ref;
    EXPECT_EQ(got.status().ec2_code(), "NotFoundException") << ref;
  }
  EXPECT_EQ(kms_->CreateAlias(kAccountB, "alias/x", a.key_id).ec2_code(), "NotFoundException");
  EXPECT_EQ(kms_->ListAliases(kAccountB, a.key_id).status().ec2_code(), "NotFoundException");
  // The same alias name in another account is another alias.
  const KeyMetadata b = MustCreate(kAccountB);
  ASSERT_TRUE(kms_->CreateAlias(kAccountB, "alias/shared-name", b.key_id).ok());
  EXPECT_EQ(kms_->DescribeKey(kAccountB, "alias/shared-name")->key_id, b.key_id);
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "alias/shared-name")->key_id, a.key_id);
}

TEST_F(KeyServiceTest, NotFoundMessagesAreKmsLike) {
  Result<KeyMetadata> alias = kms_->DescribeKey(kAccountA, "alias/nope");
  EXPECT_EQ(alias.status().message(),
            "Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found.");
  const std::string id = "00000000-0000-4000-8000-000000000000";
  Result<KeyMetadata> key = kms_->DescribeKey(kAccountA, id);
  EXPECT_EQ(key.status().message(),
            "Key 'arn:aws:kms:us-east-1:111122223333:key/" + id + "' does not exist");
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "foo").status().message(), "Invalid keyId foo");
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "").status().ec2_code(), "ValidationException");
  // A key ARN of another region names nothing here.
  const KeyMetadata a = MustCreate(kAccountA);
  const std::string other_region = "arn:aws:kms:eu-west-1:111122223333:key/" + a.key_id;
  Result<KeyMetadata> far = kms_->DescribeKey(kAccountA, other_region);
  EXPECT_EQ(far.status().message(), "Key '" + other_region + "' does not exist");
}

TEST_F(KeyServiceTest, CreateAliasRules) {
  const KeyMetadata a = MustCreate(kAccountA);
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/app/prod_1-x", a.arn).ok());
  Status dup = kms_->CreateAlias(kAccountA, "alias/app/prod_1-x", a.key_id);
  EXPECT_EQ(dup.code(), Code::kAlreadyExists);
  EXPECT_EQ(dup.ec2_code(), "AlreadyExistsException");
  EXPECT_EQ(dup.message(),
            "An alias with the name "
            "arn:aws:kms:us-east-1:111122223333:alias/app/prod_1-x already exists");
  EXPECT_EQ(kms_->CreateAlias(kAccountA, "alias/aws/mine", a.key_id).ec2_code(),
            "NotAuthorizedException");
  EXPECT_EQ(kms_->CreateAlias(kAccountA, "alias/aws/ebs", a.key_id).ec2_code(),
            "NotAuthorizedException");
  for (const std::string& bad :
       std::vector<std::string>{std::string("app"), std::string("alias/"), std::string("alias/a:b"),
                                std::string("alias/a b"), "alias/" + std::string(251, 'x')}) {
    EXPECT_EQ(kms_->CreateAlias(kAccountA, bad, a.key_id).ec2_code(), "ValidationException") << bad;
  }
  // The target must be a key of the account, named by id or ARN, not an alias.
  EXPECT_EQ(kms_->CreateAlias(kAccountA, "alias/b", "alias/app/prod_1-x").ec2_code(),
            "ValidationException");
  EXPECT_EQ(
      kms_->CreateAlias(kAccountA, "alias/b", "00000000-0000-4000-8000-000000000000").ec2_code(),
      "NotFoundException");
  // AWS managed keys get no user aliases.
  Result<KeyMetadata> ebs = kms_->DefaultEbsKey(kAccountA);
  ASSERT_TRUE(ebs.ok());
  EXPECT_EQ(kms_->CreateAlias(kAccountA, "alias/b", ebs->key_id).ec2_code(),
            "NotAuthorizedException");
  // A key may have several aliases.
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/second", a.key_id).ok());
  EXPECT_EQ(*kms_->DescribeKey(kAccountA, "arn:aws:kms:us-east-1:111122223333:alias/second"), a);
}

TEST_F(KeyServiceTest, ListAliasesSortedWithPredefinedEbsAlias) {
  const KeyMetadata a = MustCreate(kAccountA);
  const KeyMetadata b = MustCreate(kAccountA);
  clock_.Advance(10);
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/zeta", a.key_id).ok());
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/alpha", b.key_id).ok());
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/beta", a.key_id).ok());
  const std::string arn = "arn:aws:kms:us-east-1:111122223333:";
  const uint64_t t = clock_.WallMicros();
  std::vector<AliasEntry> want = {
      {"alias/alpha", arn + "alias/alpha", b.key_id, t},
      {"alias/aws/ebs", arn + "alias/aws/ebs", std::nullopt, std::nullopt},
      {"alias/beta", arn + "alias/beta", a.key_id, t},
      {"alias/zeta", arn + "alias/zeta", a.key_id, t},
  };
  EXPECT_EQ(*kms_->ListAliases(kAccountA), want);
  std::vector<AliasEntry> of_a = {want[2], want[3]};
  EXPECT_EQ(*kms_->ListAliases(kAccountA, a.key_id), of_a);
  EXPECT_EQ(*kms_->ListAliases(kAccountA, a.arn), of_a);
  EXPECT_EQ(kms_->ListAliases(kAccountA, "alias/zeta").status().ec2_code(), "ValidationException");
  // Another account has only the placeholder.
  EXPECT_EQ(kms_->ListAliases(kAccountB)->size(), 1u);
}

TEST_F(KeyServiceTest, DefaultEbsKeyIsCreatedOnceOnFirstUse) {
  EXPECT_TRUE(kms_->ListKeys(kAccountA)->empty());
  Result<KeyMetadata> ebs = kms_->DefaultEbsKey(kAccountA);
  ASSERT_TRUE(ebs.ok()) << ebs.status().ToString();
  EXPECT_EQ(ebs->key_manager, KeyManager::kAws);
  EXPECT_EQ(ebs->description,
            "Default key that protects my EBS volumes when no other key is defined");
  EXPECT_EQ(ebs->account_id, kAccountA);
  clock_.Advance(100);
  EXPECT_EQ(*kms_->DefaultEbsKey(kAccountA), *ebs);
  EXPECT_EQ(*kms_->DescribeKey(kAccountA, "alias/aws/ebs"), *ebs);
  EXPECT_EQ(kms_->ListKeys(kAccountA)->size(), 1u);
  const std::vector<AliasEntry> aliases = *kms_->ListAliases(kAccountA);
  ASSERT_EQ(aliases.size(), 1u);
  EXPECT_EQ(aliases[0].target_key_id, ebs->key_id);
  // Each account has its own.
  Result<KeyMetadata> other = kms_->DefaultEbsKey(kAccountB);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->key_id, ebs->key_id);
}

TEST_F(KeyServiceTest, DescribeOfPredefinedAliasCreatesTheKeyAsKmsDoes) {
  Result<KeyMetadata> ebs = kms_->DescribeKey(kAccountA, "alias/aws/ebs");
  ASSERT_TRUE(ebs.ok()) << ebs.status().ToString();
  EXPECT_EQ(ebs->key_manager, KeyManager::kAws);
  EXPECT_EQ(*kms_->DefaultEbsKey(kAccountA), *ebs);
  // Other alias/aws/ names are not predefined here.
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "alias/aws/s3").status().ec2_code(), "NotFoundException");
}

TEST_F(KeyServiceTest, BadAccountsAndDescriptions) {
  const KeyMetadata a = MustCreate(kAccountA);
  for (const std::string& account : std::vector<std::string>{std::string(""), std::string("12345"),
                                                             std::string("11112222333x")}) {
    EXPECT_EQ(kms_->CreateKey(account, "").status().ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->DescribeKey(account, a.key_id).status().ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->ListKeys(account).status().ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->CreateAlias(account, "alias/x", a.key_id).ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->ListAliases(account).status().ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->DefaultEbsKey(account).status().ec2_code(), "ValidationException");
    EXPECT_EQ(kms_->WrapNewDataKey(account, a.key_id, {}).status().ec2_code(),
              "ValidationException");
  }
  EXPECT_TRUE(kms_->CreateKey(kAccountA, std::string(8192, 'd')).ok());
  Result<KeyMetadata> too_long = kms_->CreateKey(kAccountA, std::string(8193, 'd'));
  EXPECT_EQ(too_long.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(too_long.status().ec2_code(), "ValidationException");
  EXPECT_EQ(kms_->ListKeys(kAccountA)->size(), 2u);
}

TEST_F(KeyServiceTest, RegionMakesArnsAndIsKept) {
  MemFileSystem fs;
  auto eu = MustOpen(fs, clock_, "/k", "eu-west-1");
  ASSERT_NE(eu, nullptr);
  Result<KeyMetadata> key = eu->CreateKey(kAccountA, "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->arn, "arn:aws:kms:eu-west-1:111122223333:key/" + key->key_id);
  EXPECT_EQ(eu->region(), "eu-west-1");
  eu.reset();
  Result<std::unique_ptr<KeyService>> us = KeyService::Open(fs, clock_, "/k");
  EXPECT_EQ(us.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(KeyService::Open(fs, clock_, "/k", "EU").status().code(), Code::kInvalidArgument);
}

TEST_F(KeyServiceTest, OpenMakesOwnerOnlyDirsAndWritesNothingUntilAKeyExists) {
  EXPECT_EQ(fs_.Stat(kDir)->mode, 0700u);
  EXPECT_EQ(fs_.Stat(std::string(kDir) + "/lineages")->mode, 0700u);
  EXPECT_FALSE(Exists(fs_, kKeysPath));
  MustCreate(kAccountA);
  EXPECT_EQ(fs_.Stat(kKeysPath)->mode, 0600u);
  // Reopening a ready directory changes nothing on disk.
  const int64_t before = fs_.mutating_ops();
  Reopen();
  EXPECT_EQ(fs_.mutating_ops(), before);
}

TEST_F(KeyServiceTest, OpenRefusesAKeyFileOthersCanRead) {
  MustCreate(kAccountA);
  kms_.reset();
  ASSERT_TRUE(fs_.SetPermissions(kKeysPath, 0640).ok());
  Result<std::unique_ptr<KeyService>> s = KeyService::Open(fs_, clock_, kDir);
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("mode 0640"), std::string::npos) << s.status().message();
  ASSERT_TRUE(fs_.SetPermissions(kKeysPath, 0600).ok());
  EXPECT_TRUE(KeyService::Open(fs_, clock_, kDir).ok());
}

TEST_F(KeyServiceTest, OpenRemovesLeftoverTempFiles) {
  MustCreate(kAccountA);
  kms_.reset();
  ASSERT_TRUE(WriteFileAtomicPrivate(fs_, kKeysPath + ".tmp-7", AsBytes("half")).ok());
  const std::string lineage_tmp = std::string(kDir) + "/lineages/00.key.tmp-3";
  ASSERT_TRUE(WriteFileAtomicPrivate(fs_, lineage_tmp, AsBytes("half")).ok());
  Reopen();
  EXPECT_EQ(kms_testing::AllFiles(fs_, kDir), std::vector<std::string>{kKeysPath});
  EXPECT_EQ(kms_->ListKeys(kAccountA)->size(), 1u);
}

TEST_F(KeyServiceTest, DamagedKeyFileFailsOpenWithCorruption) {
  MustCreate(kAccountA, "one");
  MustCreate(kAccountB, "two");
  kms_.reset();
  const Bytes good = *ReadFile(fs_, kKeysPath);
  auto open_with = [&](const Bytes& contents) {
    EXPECT_TRUE(WriteFileAtomicPrivate(fs_, kKeysPath, contents).ok());
    return KeyService::Open(fs_, clock_, kDir).status();
  };
  for (size_t n : {size_t{0}, size_t{10}, good.size() / 2, good.size() - 1}) {
    Status s = open_with(Bytes(good.begin(), good.begin() + n));
    EXPECT_EQ(s.code(), Code::kCorruption) << n;
    EXPECT_NE(s.message().find(kKeysPath), std::string::npos) << s.message();
  }
  Bytes flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  EXPECT_EQ(open_with(flipped).code(), Code::kCorruption);
  Bytes version = good;
  PutU32(version.data() + 4, 7);
  Status v = open_with(version);
  EXPECT_EQ(v.code(), Code::kCorruption);
  EXPECT_NE(v.message().find("unsupported version 7"), std::string::npos) << v.message();
  EXPECT_TRUE(open_with(good).ok());
}

TEST_F(KeyServiceTest, FailedWriteLeavesTheServiceAsBefore) {
  const KeyMetadata a = MustCreate(kAccountA);
  fs_.FailNext("master-keys", IoError("ENOSPC"));
  EXPECT_EQ(kms_->CreateKey(kAccountA, "").status().code(), Code::kIoError);
  fs_.FailNext("master-keys", IoError("ENOSPC"));
  EXPECT_EQ(kms_->CreateAlias(kAccountA, "alias/x", a.key_id).code(), Code::kIoError);
  fs_.FailNext("master-keys", IoError("ENOSPC"));
  EXPECT_EQ(kms_->DefaultEbsKey(kAccountA).status().code(), Code::kIoError);
  EXPECT_EQ(kms_->ListKeys(kAccountA)->size(), 1u);
  EXPECT_EQ(kms_->ListAliases(kAccountA)->size(), 1u);  // the placeholder only
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "alias/x").status().code(), Code::kNotFound);
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/x", a.key_id).ok());
  Reopen();
  EXPECT_EQ(kms_->ListKeys(kAccountA)->size(), 1u);
  EXPECT_EQ(kms_->DescribeKey(kAccountA, "alias/x")->key_id, a.key_id);
}

}  // namespace
}  // namespace kiln
