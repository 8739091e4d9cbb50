// The key service on the real file system: permissions as the kernel reports them, and a key
// file with recognizable material whose bytes must never reach a Status message.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "kms/key_service.h"
#include "kms/kms_testing.h"

namespace kiln {
namespace {

using kms_testing::ContainsSecret;
using kms_testing::kAccountA;
using kms_testing::Lineage;
using kms_testing::MustOpen;

using env_testing::TempDir;

// The mode bits as the kernel reports them (not through our FileSystem).
uint32_t KernelMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0xffffffff;
  return st.st_mode & 07777;
}

TEST(KeyServicePosixTest, KeyFilesAreOwnerOnly) {
  TempDir tmp;
  PosixFileSystem fs;
  ManualClock clock;
  const std::string dir = tmp.path() + "/data/kms";
  auto kms = MustOpen(fs, clock, dir);
  ASSERT_NE(kms, nullptr);
  Result<KeyMetadata> key = kms->CreateKey(kAccountA, "posix");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  Result<NewDataKey> data = kms->WrapNewDataKey(kAccountA, key->key_id, Lineage(1));
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(kms->StoreLineageKey(Lineage(1), data->wrapped).ok());
  EXPECT_EQ(KernelMode(dir), 0700u);
  EXPECT_EQ(KernelMode(dir + "/lineages"), 0700u);
  EXPECT_EQ(KernelMode(dir + "/master-keys"), 0600u);
  EXPECT_EQ(KernelMode(dir + "/lineages/" + HexEncode(Lineage(1)) + ".key"), 0600u);
  // Still so after more changes and a reopen.
  ASSERT_TRUE(kms->CreateAlias(kAccountA, "alias/p", key->key_id).ok());
  kms = MustOpen(fs, clock, dir);
  EXPECT_EQ(KernelMode(dir + "/master-keys"), 0600u);
  EXPECT_EQ(*kms->UnwrapDataKey(*kms->LoadLineageKey(Lineage(1)), Lineage(1)), data->plaintext);
  // An operator's `chmod 644` is refused at the next start.
  ASSERT_EQ(::chmod((dir + "/master-keys").c_str(), 0644), 0);
  kms.reset();
  EXPECT_EQ(KeyService::Open(fs, clock, dir).status().code(), Code::kFailedPrecondition);
}

TEST(KeyServicePosixTest, MarkerMaterialNeverAppearsInAStatusMessage) {
  TempDir tmp;
  PosixFileSystem fs;
  ManualClock clock;
  const std::string dir = tmp.path() + "/kms";
  const std::string keys_path = dir + "/master-keys";
  // A key file whose one key has recognizable material.
  Key256 marker;
  std::memcpy(marker.data(), "MASTER-KEY-MARKER-do-not-leak-!!", 32);
  const std::string id = "0badc0de-0000-4000-8000-00000000cafe";
  KeySet set;
  set.region = "us-east-1";
  set.keys[id] = {kAccountA, id, "marked", 1, KeyManager::kCustomer, KeyState::kEnabled, marker};
  set.aliases[{kAccountA, "alias/marked"}] = {kAccountA, "alias/marked", id, 1};
  ASSERT_TRUE(CreateDirs(fs, dir).ok());
  ASSERT_TRUE(WriteFileAtomicPrivate(fs, keys_path, EncodeKeySet(set)).ok());

  auto kms = MustOpen(fs, clock, dir);
  ASSERT_NE(kms, nullptr);
  Result<NewDataKey> data = kms->WrapNewDataKey(kAccountA, "alias/marked", Lineage(4));
  ASSERT_TRUE(data.ok());
  std::vector<Status> errors;
  WrappedDataKey bad = data->wrapped;
  bad.blob.back() ^= 1;
  errors.push_back(kms->UnwrapDataKey(bad, Lineage(4)).status());
  errors.push_back(kms->UnwrapDataKey(data->wrapped, Lineage(5)).status());
  errors.push_back(kms->StoreLineageKey(Lineage(5), data->wrapped));
  errors.push_back(kms->DescribeKey("999999999999", id).status());
  errors.push_back(kms->CreateAlias(kAccountA, "alias/marked", id));
  const Bytes good = *ReadFile(fs, keys_path);
  // Damage around the material (and in it): the parse errors must not quote it.
  for (size_t i = 0; i + 32 < good.size(); i += 7) {
    Bytes damaged = good;
    damaged[i] ^= 0x01;
    ASSERT_TRUE(WriteFileAtomicPrivate(fs, keys_path, damaged).ok());
    errors.push_back(KeyService::Open(fs, clock, dir).status());
  }
  ASSERT_TRUE(WriteFileAtomicPrivate(fs, keys_path, good).ok());
  for (const Status& s : errors) {
    ASSERT_FALSE(s.ok());
    EXPECT_FALSE(ContainsSecret(s.ToString(), marker)) << s.ToString();
    EXPECT_EQ(s.ToString().find("MARKER"), std::string::npos) << s.ToString();
    EXPECT_FALSE(ContainsSecret(s.ToString(), data->plaintext)) << s.ToString();
  }
}

}  // namespace
}  // namespace kiln
