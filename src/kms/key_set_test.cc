// The master-keys file format: round trips, and every kind of damage is Corruption (never a
// partial set), with messages that never carry key bytes.
#include "kms/key_set.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "crypto/sha256.h"
#include "kms/kms_names.h"

namespace kiln {
namespace {

constexpr char kA[] = "111122223333";
constexpr char kB[] = "444455556666";
constexpr char kId1[] = "00000000-0000-4000-8000-000000000001";
constexpr char kId2[] = "00000000-0000-4000-8000-000000000002";
constexpr char kId3[] = "00000000-0000-4000-8000-000000000003";
// Recognizable material: if it ever shows up in a message, the test sees it.
constexpr char kMarker[] = "KEY-MATERIAL-MARKER-0123456789ab";

Key256 Material(char fill) {
  Key256 k;
  std::memcpy(k.data(), kMarker, 32);
  k[31] = static_cast<uint8_t>(fill);
  return k;
}

KeySet SampleSet() {
  KeySet set;
  set.region = "us-east-1";
  set.keys[kId1] = {
      kA, kId1, "first key", 1000, KeyManager::kCustomer, KeyState::kEnabled, Material('1')};
  set.keys[kId2] = {kA,           kId2, "Default key", 2000, KeyManager::kAws, KeyState::kEnabled,
                    Material('2')};
  set.keys[kId3] = {kB, kId3, "", 3000, KeyManager::kCustomer, KeyState::kEnabled, Material('3')};
  set.aliases[{kA, "alias/one"}] = {kA, "alias/one", kId1, 1500};
  set.aliases[{kA, "alias/aws/ebs"}] = {kA, "alias/aws/ebs", kId2, 2000};
  set.aliases[{kB, "alias/one"}] = {kB, "alias/one", kId3, 3500};
  return set;
}

// Recomputes the trailer, so a test reaches the checks behind the checksum.
Bytes Resign(Bytes file) {
  const Digest256 sum = Sha256(ByteView(file).first(file.size() - 32));
  std::memcpy(file.data() + file.size() - 32, sum.data(), 32);
  return file;
}

// Offsets in the encoding of SampleSet (docs/formats/key-service.md).
constexpr size_t kFirstKey = 21 + 9;  // header + "us-east-1"
constexpr size_t kKeyManagerAt = 56;  // within a key record
constexpr size_t kStateAt = 57;

void ExpectCorrupt(const Bytes& file, const std::string& message_part) {
  Result<KeySet> set = ParseKeySet(file);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Code::kCorruption);
  EXPECT_NE(set.status().message().find(message_part), std::string::npos) << set.status().message();
  EXPECT_EQ(set.status().message().find("KEY-MATERIAL"), std::string::npos);
}

TEST(KeySetTest, RoundTrip) {
  const KeySet set = SampleSet();
  Result<KeySet> back = ParseKeySet(EncodeKeySet(set));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, set);
}

TEST(KeySetTest, EmptySetRoundTrip) {
  KeySet set;
  set.region = "eu-west-3";
  Result<KeySet> back = ParseKeySet(EncodeKeySet(set));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, set);
}

TEST(KeySetTest, LongestDescriptionRoundTrips) {
  KeySet set = SampleSet();
  std::string accents;
  for (int i = 0; i < 8192; ++i) accents += "\xc3\xa9";
  set.keys[kId1].description = accents;
  Result<KeySet> back = ParseKeySet(EncodeKeySet(set));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, set);
}

TEST(KeySetTest, EveryTruncationIsCorruption) {
  const Bytes file = EncodeKeySet(SampleSet());
  for (size_t n = 0; n < file.size(); ++n) {
    SCOPED_TRACE(n);
    ExpectCorrupt(Bytes(file.begin(), file.begin() + n), "");
  }
}

TEST(KeySetTest, EveryFlippedByteIsCorruption) {
  const Bytes file = EncodeKeySet(SampleSet());
  for (size_t i = 0; i < file.size(); ++i) {
    SCOPED_TRACE(i);
    Bytes bad = file;
    bad[i] ^= 0x01;
    ExpectCorrupt(bad, "");
  }
}

TEST(KeySetTest, BadMagicAndVersion) {
  Bytes file = EncodeKeySet(SampleSet());
  Bytes magic = file;
  magic[0] = 'X';
  ExpectCorrupt(magic, "bad magic");
  Bytes version = file;
  PutU32(version.data() + 4, 2);
  ExpectCorrupt(Resign(version), "unsupported version 2 (this build reads 1)");
  ExpectCorrupt(version, "unsupported version 2");  // named even without a valid checksum
}

TEST(KeySetTest, ChecksumMismatchIsNamed) {
  Bytes file = EncodeKeySet(SampleSet());
  file[kFirstKey + 60] ^= 0xff;  // inside a description
  ExpectCorrupt(file, "checksum mismatch");
}

TEST(KeySetTest, HeaderFieldsAreChecked) {
  const Bytes file = EncodeKeySet(SampleSet());
  Bytes flags = file;
  flags[8] = 1;
  ExpectCorrupt(Resign(flags), "unknown flags");
  Bytes region = file;
  region[21] = 'U';
  ExpectCorrupt(Resign(region), "invalid region");
  Bytes counts = file;
  PutU32(counts.data() + 12, 0xffffffff);  // key count: checked before any allocation
  ExpectCorrupt(Resign(counts), "record counts exceed the file size");
  Bytes fewer = file;
  PutU32(fewer.data() + 16, 2);  // one alias record left over
  ExpectCorrupt(Resign(fewer), "trailing bytes");
}

TEST(KeySetTest, KeyRecordFieldsAreChecked) {
  const Bytes file = EncodeKeySet(SampleSet());
  Bytes id = file;
  id[kFirstKey + 8] = 'x';
  ExpectCorrupt(Resign(id), "key record 0: key id is not a UUID");
  Bytes account = file;
  account[kFirstKey + 36] = 'a';
  ExpectCorrupt(Resign(account), "key record 0: account id is not 12 digits");
  Bytes manager = file;
  manager[kFirstKey + kKeyManagerAt] = 2;
  ExpectCorrupt(Resign(manager), "key record 0: unknown key manager");
  Bytes state = file;
  state[kFirstKey + kStateAt] = 1;
  ExpectCorrupt(Resign(state), "key record 0: unknown key state");
}

TEST(KeySetTest, DescriptionTooLongIsCorruption) {
  KeySet set = SampleSet();
  set.keys[kId1].description = std::string(8193, 'd');  // EncodeKeySet trusts its caller
  ExpectCorrupt(EncodeKeySet(set), "key record 0: description too long");
}

TEST(KeySetTest, DuplicateKeyIdIsCorruption) {
  Bytes file = EncodeKeySet(SampleSet());
  // The second record (kId2) follows the first, whose description is "first key" (9 bytes).
  const size_t second = kFirstKey + 60 + 9 + 32;
  std::memcpy(file.data() + second, kId1, 36);
  ExpectCorrupt(Resign(file), "duplicate key id");
}

TEST(KeySetTest, ReferencesAreChecked) {
  {
    KeySet set = SampleSet();
    set.aliases[{kA, "alias/two"}] = {kA, "alias/two", "00000000-0000-4000-8000-000000000009", 1};
    ExpectCorrupt(EncodeKeySet(set), "an alias names a key its account does not have");
  }
  {
    KeySet set = SampleSet();
    set.aliases[{kB, "alias/two"}] = {kB, "alias/two", kId1, 1};  // kId1 is account A's
    ExpectCorrupt(EncodeKeySet(set), "an alias names a key its account does not have");
  }
  {
    KeySet set = SampleSet();
    set.aliases[{kA, "alias/aws/s3"}] = {kA, "alias/aws/s3", kId2, 1};
    ExpectCorrupt(EncodeKeySet(set), "unknown AWS alias");
  }
  {
    KeySet set = SampleSet();
    set.aliases[{kA, "alias/mine"}] = {kA, "alias/mine", kId2, 1};  // user alias on AWS key
    ExpectCorrupt(EncodeKeySet(set), "disagree on who manages the key");
  }
  {
    KeySet set = SampleSet();
    set.aliases.erase({kA, "alias/aws/ebs"});
    ExpectCorrupt(EncodeKeySet(set), "an AWS managed key without its alias");
  }
  {
    KeySet set = SampleSet();
    set.aliases[{kB, "alias/aws/ebs"}] = {kB, "alias/aws/ebs", kId3, 1};  // a customer key
    ExpectCorrupt(EncodeKeySet(set), "disagree on who manages the key");
  }
}

TEST(KeySetTest, BadAliasRecordsAreCorruption) {
  KeySet set = SampleSet();
  set.aliases.clear();
  set.keys.erase(kId2);
  set.aliases[{kA, "alias/one"}] = {kA, "alias/one", kId1, 1};
  const Bytes file = EncodeKeySet(set);
  const size_t alias = file.size() - 32 - (12 + 2 + 9 + 36 + 8);
  Bytes account = file;
  account[alias] = '-';
  ExpectCorrupt(Resign(account), "alias record 0: account id is not 12 digits");
  Bytes name = file;
  name[alias + 14 + 6] = ':';
  ExpectCorrupt(Resign(name), "alias record 0: invalid alias name");
  Bytes target = file;
  target[alias + 14 + 9 + 8] = 'x';
  ExpectCorrupt(Resign(target), "alias record 0: target key id is not a UUID");
}

}  // namespace
}  // namespace kiln
