// KeyService's data keys: wrapping per lineage, unwrapping failures, lineage key files, and
// where key material may (not) appear.
#include <gtest/gtest.h>

#include <cstring>

#include "env/mem_file_system.h"
#include "kms/key_service.h"
#include "kms/kms_testing.h"
#include "kms/lineage_key_file.h"

namespace kiln {
namespace {

using kms_testing::ContainsSecret;
using kms_testing::kAccountA;
using kms_testing::kAccountB;
using kms_testing::kDir;
using kms_testing::Lineage;
using kms_testing::MustOpen;

const std::string kKeysPath = std::string(kDir) + "/master-keys";

class DataKeysTest : public testing::Test {
 protected:
  DataKeysTest() : kms_(MustOpen(fs_, clock_)) {
    Result<KeyMetadata> key = kms_->CreateKey(kAccountA, "data");
    EXPECT_TRUE(key.ok());
    key_ = *key;
  }

  NewDataKey MustWrap(const std::string& ref, const LineageId& lineage,
                      const std::string& account = kAccountA) {
    Result<NewDataKey> k = kms_->WrapNewDataKey(account, ref, lineage);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : NewDataKey{};
  }

  std::string LineagePath(const LineageId& l) const {
    return std::string(kDir) + "/lineages/" + HexEncode(l) + ".key";
  }

  // The material of every master key, read from the key file as an attacker with the file
  // would; the tests check it never shows up anywhere else.
  std::vector<Key256> MasterMaterial() {
    std::vector<Key256> out;
    Result<KeySet> set = ParseKeySet(*ReadFile(fs_, kKeysPath));
    EXPECT_TRUE(set.ok());
    for (const auto& [id, key] : set->keys) out.push_back(key.material);
    return out;
  }

  MemFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<KeyService> kms_;
  KeyMetadata key_;
};

TEST_F(DataKeysTest, WrapThenUnwrapGivesTheDataKey) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  EXPECT_EQ(k.wrapped.master_key_id, key_.key_id);
  EXPECT_EQ(k.wrapped.blob.size(), kGcmNonceSize + 32 + kGcmTagSize);
  Result<Key256> back = kms_->UnwrapDataKey(k.wrapped, Lineage(1));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, k.plaintext);
  // Every wrap makes a new random data key.
  const NewDataKey again = MustWrap(key_.key_id, Lineage(1));
  EXPECT_NE(again.plaintext, k.plaintext);
  EXPECT_NE(again.wrapped.blob, k.wrapped.blob);
}

TEST_F(DataKeysTest, WrapAcceptsEveryKeyReference) {
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/vol", key_.key_id).ok());
  for (const std::string& ref :
       std::vector<std::string>{key_.key_id, key_.arn, std::string("alias/vol"),
                                "arn:aws:kms:us-east-1:111122223333:alias/vol"}) {
    const NewDataKey k = MustWrap(ref, Lineage(2));
    EXPECT_EQ(k.wrapped.master_key_id, key_.key_id) << ref;
  }
  // The predefined EBS alias makes the account's default key, as KMS does.
  const NewDataKey ebs = MustWrap("alias/aws/ebs", Lineage(3));
  EXPECT_EQ(ebs.wrapped.master_key_id, kms_->DefaultEbsKey(kAccountA)->key_id);
  // Another account's key is not found.
  Result<NewDataKey> other = kms_->WrapNewDataKey(kAccountB, key_.key_id, Lineage(2));
  EXPECT_EQ(other.status().ec2_code(), "NotFoundException");
}

TEST_F(DataKeysTest, WrongLineageFailsClearly) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  Result<Key256> wrong = kms_->UnwrapDataKey(k.wrapped, Lineage(9));
  EXPECT_EQ(wrong.status().code(), Code::kCorruption);
  EXPECT_EQ(wrong.status().ec2_code(), "InvalidCiphertextException");
  EXPECT_NE(wrong.status().message().find(key_.key_id), std::string::npos);
  EXPECT_NE(wrong.status().message().find(HexEncode(Lineage(9))), std::string::npos);
}

TEST_F(DataKeysTest, EveryTamperedByteIsDetected) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  for (size_t i = 0; i < k.wrapped.blob.size(); ++i) {
    WrappedDataKey bad = k.wrapped;
    bad.blob[i] ^= 0x01;
    EXPECT_EQ(kms_->UnwrapDataKey(bad, Lineage(1)).status().code(), Code::kCorruption) << i;
  }
  WrappedDataKey truncated = k.wrapped;
  truncated.blob.pop_back();
  EXPECT_EQ(kms_->UnwrapDataKey(truncated, Lineage(1)).status().code(), Code::kCorruption);
  WrappedDataKey empty = k.wrapped;
  empty.blob.clear();
  EXPECT_EQ(kms_->UnwrapDataKey(empty, Lineage(1)).status().code(), Code::kCorruption);
}

TEST_F(DataKeysTest, WrongOrMissingMasterKeyFailsClearly) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  // Relabelled with another existing key: that key does not open it.
  Result<KeyMetadata> other = kms_->CreateKey(kAccountA, "");
  ASSERT_TRUE(other.ok());
  WrappedDataKey relabelled = k.wrapped;
  relabelled.master_key_id = other->key_id;
  Result<Key256> wrong = kms_->UnwrapDataKey(relabelled, Lineage(1));
  EXPECT_EQ(wrong.status().code(), Code::kCorruption);
  EXPECT_NE(wrong.status().message().find(other->key_id), std::string::npos);
  // A key this service does not have (another data dir's, or a lost key file).
  WrappedDataKey unknown = k.wrapped;
  unknown.master_key_id = "00000000-0000-4000-8000-000000000000";
  Result<Key256> missing = kms_->UnwrapDataKey(unknown, Lineage(1));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find(unknown.master_key_id), std::string::npos);
  EXPECT_NE(missing.status().message().find(kKeysPath), std::string::npos);
  WrappedDataKey garbage = k.wrapped;
  garbage.master_key_id = "not a key id";
  EXPECT_EQ(kms_->UnwrapDataKey(garbage, Lineage(1)).status().code(), Code::kNotFound);
  // A fresh service in another directory has none of these keys.
  auto elsewhere = MustOpen(fs_, clock_, "/other");
  EXPECT_EQ(elsewhere->UnwrapDataKey(k.wrapped, Lineage(1)).status().code(), Code::kNotFound);
}

TEST_F(DataKeysTest, UnwrapWorksAfterReopen) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  kms_ = MustOpen(fs_, clock_);
  EXPECT_EQ(*kms_->UnwrapDataKey(k.wrapped, Lineage(1)), k.plaintext);
}

TEST_F(DataKeysTest, StoreAndLoadLineageKeys) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  EXPECT_EQ(kms_->LoadLineageKey(Lineage(1)).status().code(), Code::kNotFound);
  ASSERT_TRUE(kms_->StoreLineageKey(Lineage(1), k.wrapped).ok());
  EXPECT_EQ(fs_.Stat(LineagePath(Lineage(1)))->mode, 0600u);
  EXPECT_EQ(*kms_->LoadLineageKey(Lineage(1)), k.wrapped);
  // After a restart the lineage's data key comes back from its file.
  kms_ = MustOpen(fs_, clock_);
  Result<WrappedDataKey> loaded = kms_->LoadLineageKey(Lineage(1));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*kms_->UnwrapDataKey(*loaded, Lineage(1)), k.plaintext);
  // Storing the same key again is fine; another key for the lineage is not.
  EXPECT_TRUE(kms_->StoreLineageKey(Lineage(1), k.wrapped).ok());
  const NewDataKey second = MustWrap(key_.key_id, Lineage(1));
  EXPECT_EQ(kms_->StoreLineageKey(Lineage(1), second.wrapped).code(), Code::kAlreadyExists);
  EXPECT_EQ(*kms_->LoadLineageKey(Lineage(1)), k.wrapped);
}

TEST_F(DataKeysTest, StoreRefusesKeysThatDoNotUnwrap) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  EXPECT_EQ(kms_->StoreLineageKey(Lineage(2), k.wrapped).code(), Code::kInvalidArgument);
  WrappedDataKey bad = k.wrapped;
  bad.blob[0] ^= 1;
  EXPECT_EQ(kms_->StoreLineageKey(Lineage(1), bad).code(), Code::kInvalidArgument);
  EXPECT_EQ(kms_->LoadLineageKey(Lineage(1)).status().code(), Code::kNotFound);
  EXPECT_EQ(kms_->LoadLineageKey(Lineage(2)).status().code(), Code::kNotFound);
}

TEST_F(DataKeysTest, DamagedLineageFileIsCorruptionAndIsNotOverwritten) {
  const NewDataKey k = MustWrap(key_.key_id, Lineage(1));
  ASSERT_TRUE(kms_->StoreLineageKey(Lineage(1), k.wrapped).ok());
  const std::string path = LineagePath(Lineage(1));
  Bytes file = *ReadFile(fs_, path);
  file[30] ^= 0x04;
  ASSERT_TRUE(WriteFileAtomicPrivate(fs_, path, file).ok());
  Result<WrappedDataKey> loaded = kms_->LoadLineageKey(Lineage(1));
  EXPECT_EQ(loaded.status().code(), Code::kCorruption);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos);
  EXPECT_EQ(kms_->StoreLineageKey(Lineage(1), k.wrapped).code(), Code::kCorruption);
  EXPECT_EQ(*ReadFile(fs_, path), file);
  // Truncated, and a file copied over from another lineage.
  ASSERT_TRUE(WriteFileAtomicPrivate(fs_, path, ByteView(file).first(20)).ok());
  EXPECT_EQ(kms_->LoadLineageKey(Lineage(1)).status().code(), Code::kCorruption);
  const NewDataKey k2 = MustWrap(key_.key_id, Lineage(2));
  ASSERT_TRUE(kms_->StoreLineageKey(Lineage(2), k2.wrapped).ok());
  ASSERT_TRUE(fs_.Rename(LineagePath(Lineage(2)), path).ok());
  Result<WrappedDataKey> swapped = kms_->LoadLineageKey(Lineage(1));
  EXPECT_EQ(swapped.status().code(), Code::kCorruption);
  EXPECT_NE(swapped.status().message().find("another lineage"), std::string::npos);
}

TEST_F(DataKeysTest, KeyMaterialAppearsOnlyInTheKeyFileAndNeverInMessages) {
  ASSERT_TRUE(kms_->CreateAlias(kAccountA, "alias/vol", key_.key_id).ok());
  const NewDataKey k = MustWrap("alias/vol", Lineage(1));
  const NewDataKey ebs = MustWrap("alias/aws/ebs", Lineage(2));
  ASSERT_TRUE(kms_->StoreLineageKey(Lineage(1), k.wrapped).ok());
  ASSERT_TRUE(kms_->StoreLineageKey(Lineage(2), ebs.wrapped).ok());
  const std::vector<Key256> masters = MasterMaterial();
  ASSERT_EQ(masters.size(), 2u);

  // Every failure we can provoke.
  std::vector<Status> errors;
  WrappedDataKey bad = k.wrapped;
  bad.blob[5] ^= 1;
  errors.push_back(kms_->UnwrapDataKey(bad, Lineage(1)).status());
  errors.push_back(kms_->UnwrapDataKey(k.wrapped, Lineage(7)).status());
  errors.push_back(kms_->StoreLineageKey(Lineage(3), k.wrapped));
  errors.push_back(kms_->StoreLineageKey(Lineage(1), ebs.wrapped));
  errors.push_back(kms_->DescribeKey(kAccountB, key_.key_id).status());
  errors.push_back(kms_->CreateAlias(kAccountA, "alias/vol", key_.key_id));
  Bytes keys_file = *ReadFile(fs_, kKeysPath);
  for (size_t i : {size_t{40}, keys_file.size() / 2, keys_file.size() - 40}) {
    Bytes damaged = keys_file;
    damaged[i] ^= 0x20;
    ASSERT_TRUE(WriteFileAtomicPrivate(fs_, kKeysPath, damaged).ok());
    errors.push_back(KeyService::Open(fs_, clock_, kDir).status());
  }
  ASSERT_TRUE(WriteFileAtomicPrivate(fs_, kKeysPath, keys_file).ok());
  for (const Status& s : errors) {
    ASSERT_FALSE(s.ok());
    for (const Key256& secret : masters) EXPECT_FALSE(ContainsSecret(s.ToString(), secret));
    EXPECT_FALSE(ContainsSecret(s.ToString(), k.plaintext)) << s.ToString();
    EXPECT_FALSE(ContainsSecret(s.ToString(), ebs.plaintext)) << s.ToString();
  }

  // Master material is in master-keys only; data keys in plaintext are nowhere.
  for (const std::string& path : kms_testing::AllFiles(fs_, kDir)) {
    SCOPED_TRACE(path);
    const Bytes data = *ReadFile(fs_, path);
    EXPECT_EQ(fs_.Stat(path)->mode, 0600u);
    for (const Key256& secret : masters) {
      EXPECT_EQ(ContainsSecret(AsString(data), secret), path == kKeysPath);
    }
    EXPECT_FALSE(ContainsSecret(AsString(data), k.plaintext));
    EXPECT_FALSE(ContainsSecret(AsString(data), ebs.plaintext));
  }
}

TEST_F(DataKeysTest, ConcurrentWrapsAndStoresFromManyThreads) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<NewDataKey> keys(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Result<NewDataKey> k = kms_->WrapNewDataKey(kAccountA, "alias/aws/ebs", Lineage(10 + t));
      ASSERT_TRUE(k.ok()) << k.status().ToString();
      keys[t] = *k;
      EXPECT_TRUE(kms_->StoreLineageKey(Lineage(10 + t), k->wrapped).ok());
      EXPECT_TRUE(kms_->CreateKey(kAccountB, std::to_string(t)).ok());
    });
  }
  for (auto& th : threads) th.join();
  // One default key for all of them, and every lineage's key back after a restart.
  const std::string ebs = kms_->DefaultEbsKey(kAccountA)->key_id;
  kms_ = MustOpen(fs_, clock_);
  EXPECT_EQ(kms_->ListKeys(kAccountB)->size(), size_t{kThreads});
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(keys[t].wrapped.master_key_id, ebs);
    Result<WrappedDataKey> w = kms_->LoadLineageKey(Lineage(10 + t));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(*kms_->UnwrapDataKey(*w, Lineage(10 + t)), keys[t].plaintext);
  }
}

}  // namespace
}  // namespace kiln
