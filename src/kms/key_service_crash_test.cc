// Crash tests: a script of key service calls is crashed at every mutating file-system operation
// (MemFileSystem), in both crash modes. After the crash the service reopens, every key, alias
// and lineage key whose call returned OK is there and unwraps what it wrapped, and nothing is
// half-written.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "env/mem_file_system.h"
#include "kms/key_service.h"
#include "kms/kms_testing.h"

namespace kiln {
namespace {

using kms_testing::kAccountA;
using kms_testing::kAccountB;
using kms_testing::kDir;
using kms_testing::Lineage;
using kms_testing::MustOpen;

// What the script was told: every call that returned OK.
struct Acknowledged {
  std::vector<KeyMetadata> keys;
  std::map<std::pair<std::string, std::string>, std::string> aliases;  // (account, name) -> key
  std::vector<std::pair<LineageId, NewDataKey>> wrapped;               // wrapped (stored or not)
  std::vector<LineageId> stored;
  int calls_ok = 0;
};

using Step = std::function<Status(KeyService&, Acknowledged&)>;

Status CreateKeyStep(KeyService& kms, Acknowledged& ack, const std::string& account) {
  ASSIGN_OR_RETURN(KeyMetadata key, kms.CreateKey(account, "key " + std::to_string(ack.calls_ok)));
  ack.keys.push_back(key);
  return Status::Ok();
}

Status AliasStep(KeyService& kms, Acknowledged& ack, const std::string& account,
                 const std::string& alias) {
  std::string target;
  for (const KeyMetadata& k : ack.keys) {
    if (k.account_id == account && k.key_manager == KeyManager::kCustomer) target = k.key_id;
  }
  RETURN_IF_ERROR(kms.CreateAlias(account, alias, target));
  ack.aliases[{account, alias}] = target;
  return Status::Ok();
}

Status DefaultEbsStep(KeyService& kms, Acknowledged& ack, const std::string& account,
                      bool via_describe) {
  Result<KeyMetadata> key =
      via_describe ? kms.DescribeKey(account, "alias/aws/ebs") : kms.DefaultEbsKey(account);
  RETURN_IF_ERROR(key.status());
  ack.keys.push_back(*key);
  ack.aliases[{account, "alias/aws/ebs"}] = key->key_id;
  return Status::Ok();
}

Status WrapAndStoreStep(KeyService& kms, Acknowledged& ack, const std::string& account,
                        const std::string& ref, uint8_t lineage) {
  ASSIGN_OR_RETURN(NewDataKey key, kms.WrapNewDataKey(account, ref, Lineage(lineage)));
  ack.wrapped.push_back({Lineage(lineage), key});
  RETURN_IF_ERROR(kms.StoreLineageKey(Lineage(lineage), key.wrapped));
  ack.stored.push_back(Lineage(lineage));
  return Status::Ok();
}

std::vector<Step> Script() {
  return {
      [](KeyService& k, Acknowledged& a) { return CreateKeyStep(k, a, kAccountA); },
      [](KeyService& k, Acknowledged& a) { return AliasStep(k, a, kAccountA, "alias/one"); },
      [](KeyService& k, Acknowledged& a) { return DefaultEbsStep(k, a, kAccountA, false); },
      [](KeyService& k, Acknowledged& a) {
        return WrapAndStoreStep(k, a, kAccountA, "alias/one", 1);
      },
      [](KeyService& k, Acknowledged& a) { return CreateKeyStep(k, a, kAccountB); },
      [](KeyService& k, Acknowledged& a) { return DefaultEbsStep(k, a, kAccountB, true); },
      [](KeyService& k, Acknowledged& a) {
        return WrapAndStoreStep(k, a, kAccountB, "alias/aws/ebs", 2);
      },
      [](KeyService& k, Acknowledged& a) { return AliasStep(k, a, kAccountB, "alias/two"); },
      [](KeyService& k, Acknowledged& a) {
        return WrapAndStoreStep(k, a, kAccountA, "alias/aws/ebs", 3);
      },
      [](KeyService& k, Acknowledged& a) { return CreateKeyStep(k, a, kAccountA); },
  };
}

// Runs the script until a call fails; returns what was acknowledged.
Acknowledged RunScript(KeyService& kms) {
  Acknowledged ack;
  for (const Step& step : Script()) {
    if (!step(kms, ack).ok()) break;
    ++ack.calls_ok;
  }
  return ack;
}

void CheckAfterCrash(MemFileSystem& fs, ManualClock& clock, const Acknowledged& ack) {
  auto kms = MustOpen(fs, clock);
  ASSERT_NE(kms, nullptr);
  size_t keys_seen = 0;
  for (const char* account : {kAccountA, kAccountB}) keys_seen += kms->ListKeys(account)->size();
  // Only the call in flight may have left a key the script was not told about.
  EXPECT_LE(keys_seen, ack.keys.size() + 1);
  EXPECT_GE(keys_seen, ack.keys.size());
  for (const KeyMetadata& key : ack.keys) {
    Result<KeyMetadata> got = kms->DescribeKey(key.account_id, key.key_id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
  for (const auto& [id, target] : ack.aliases) {
    Result<KeyMetadata> got = kms->DescribeKey(id.first, id.second);
    ASSERT_TRUE(got.ok()) << id.second << ": " << got.status().ToString();
    EXPECT_EQ(got->key_id, target);
  }
  for (const auto& [lineage, key] : ack.wrapped) {
    Result<Key256> back = kms->UnwrapDataKey(key.wrapped, lineage);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, key.plaintext);
  }
  for (const LineageId& lineage : ack.stored) {
    Result<WrappedDataKey> w = kms->LoadLineageKey(lineage);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_TRUE(kms->UnwrapDataKey(*w, lineage).ok());
  }
  // Nothing half-written: every lineage file there (acknowledged or not) loads, and no temp
  // file is left.
  for (const std::string& path : kms_testing::AllFiles(fs, kDir)) {
    EXPECT_EQ(path.find(".tmp-"), std::string::npos) << path;
    EXPECT_EQ(fs.Stat(path)->mode, 0600u) << path;
  }
  for (uint8_t l : {1, 2, 3}) {
    Result<WrappedDataKey> w = kms->LoadLineageKey(Lineage(l));
    if (w.status().code() == Code::kNotFound) continue;
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_TRUE(kms->UnwrapDataKey(*w, Lineage(l)).ok());
  }
  // And the service goes on.
  EXPECT_TRUE(kms->CreateKey(kAccountA, "after").ok());
}

TEST(KeyServiceCrashTest, EveryCrashPointKeepsWhatWasAcknowledged) {
  int64_t points;
  {
    MemFileSystem fs;
    ManualClock clock;
    auto kms = MustOpen(fs, clock);
    const int64_t before = fs.mutating_ops();
    const Acknowledged ack = RunScript(*kms);
    ASSERT_EQ(ack.calls_ok, static_cast<int>(Script().size()));
    points = fs.mutating_ops() - before;
  }
  // 7 writes of master-keys and 3 lineage files, 6 operations each.
  EXPECT_EQ(points, 10 * 6);
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepSomeUnsynced}) {
    for (int64_t k = 0; k <= points; ++k) {
      for (uint64_t seed = 0; seed < 2; ++seed) {
        SCOPED_TRACE("crash after " + std::to_string(k) + " seed " + std::to_string(seed) +
                     (mode == CrashMode::kDropUnsynced ? " drop" : " keep some"));
        MemFileSystem fs;
        ManualClock clock;
        auto kms = MustOpen(fs, clock);
        ASSERT_NE(kms, nullptr);
        fs.SetCrashAfter(k);
        const Acknowledged ack = RunScript(*kms);
        EXPECT_EQ(ack.calls_ok == static_cast<int>(Script().size()), k == points);
        kms.reset();
        fs.Crash(mode, seed);
        CheckAfterCrash(fs, clock, ack);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// Each call's own crash points: CreateKey, CreateAlias, DefaultEbsKey and StoreLineageKey are
// one atomic private write each (open, chmod, write, sync, rename, sync dir).
TEST(KeyServiceCrashTest, EachChangeIsOneAtomicWrite) {
  MemFileSystem fs;
  ManualClock clock;
  auto kms = MustOpen(fs, clock);
  auto ops = [&, last = fs.mutating_ops()]() mutable {
    const int64_t n = fs.mutating_ops() - last;
    last = fs.mutating_ops();
    return n;
  };
  Result<KeyMetadata> key = kms->CreateKey(kAccountA, "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ops(), 6);
  ASSERT_TRUE(kms->CreateAlias(kAccountA, "alias/a", key->key_id).ok());
  EXPECT_EQ(ops(), 6);
  ASSERT_TRUE(kms->DefaultEbsKey(kAccountA).ok());
  EXPECT_EQ(ops(), 6);
  ASSERT_TRUE(kms->DefaultEbsKey(kAccountA).ok());
  EXPECT_EQ(ops(), 0);
  Result<NewDataKey> data = kms->WrapNewDataKey(kAccountA, "alias/a", Lineage(1));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ops(), 0);
  ASSERT_TRUE(kms->StoreLineageKey(Lineage(1), data->wrapped).ok());
  EXPECT_EQ(ops(), 6);
  ASSERT_TRUE(kms->StoreLineageKey(Lineage(1), data->wrapped).ok());
  EXPECT_EQ(ops(), 1);  // the same key again: a directory sync only
}

}  // namespace
}  // namespace kiln
