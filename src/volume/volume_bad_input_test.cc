// Damaged volume directories: each gives a clear error on Open, never a volume with wrong data.
#include <gtest/gtest.h>

#include <random>

#include "crypto/sha256.h"
#include "env/mem_file_system.h"
#include "volume/volume.h"
#include "volume/volume_meta.h"
#include "volume/volume_testing.h"

namespace kiln {
namespace {

using volume_testing::FakeChunkStore;
using volume_testing::MakeBase;
using volume_testing::RandomBytes;

class VolumeMetaTest : public ::testing::TestWithParam<bool> {};

TEST_P(VolumeMetaTest, RoundTripsAndRejectsEveryTruncationAndFlip) {
  VolumeMeta meta;
  meta.size = 123 * kBlockSize + 5;
  meta.lineage = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  meta.base_file = BaseFileName(42);
  meta.clean = true;
  meta.generation = 42;
  meta.encrypted = GetParam();
  if (meta.encrypted) meta.key_check = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
  const Bytes bytes = meta.Serialize();
  auto parsed = VolumeMeta::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, meta);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = VolumeMeta::Parse(ByteView(bytes).first(n));
    ASSERT_FALSE(r.ok()) << "truncated to " << n;
    EXPECT_EQ(r.status().code(), Code::kCorruption);
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    Bytes damaged = bytes;
    damaged[i] ^= 0x01;
    auto r = VolumeMeta::Parse(damaged);
    ASSERT_FALSE(r.ok()) << "bit flip at " << i;
    EXPECT_EQ(r.status().code(), Code::kCorruption);
  }
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, VolumeMetaTest, ::testing::Bool());

TEST(VolumeMetaFlagsTest, EncryptedFlagWithoutItsKeyCheckIsCorruption) {
  VolumeMeta meta;
  meta.size = kBlockSize;
  Bytes bytes = meta.Serialize();
  bytes[8] |= 2;  // claims encryption but carries no key check
  bytes.resize(bytes.size() - 32);
  const Digest256 d = Sha256(bytes);
  bytes.insert(bytes.end(), d.begin(), d.end());
  EXPECT_EQ(VolumeMeta::Parse(bytes).status().code(), Code::kCorruption);
}

// A meta re-signed after editing its fields: the checks behind the checksum.
Bytes Resign(Bytes bytes) {
  bytes.resize(bytes.size() - 32);
  const Digest256 d = Sha256(bytes);
  bytes.insert(bytes.end(), d.begin(), d.end());
  return bytes;
}

TEST(VolumeMetaFlagsTest, ClearMessages) {
  VolumeMeta meta;
  meta.size = kBlockSize;
  Bytes bytes = meta.Serialize();
  auto message = [](const Bytes& b) { return VolumeMeta::Parse(b).status().message(); };
  Bytes magic = bytes;
  magic[0] = 'X';
  EXPECT_NE(message(magic).find("magic"), std::string::npos);
  Bytes version = bytes;
  PutU32(version.data() + 4, 9);
  EXPECT_NE(message(Resign(version)).find("version 9"), std::string::npos);
  Bytes flipped = bytes;
  flipped[10] ^= 4;
  EXPECT_NE(message(flipped).find("checksum"), std::string::npos);
  Bytes zero_size = bytes;
  PutU64(zero_size.data() + 12, 0);
  EXPECT_NE(message(Resign(zero_size)).find("size"), std::string::npos);
  Bytes huge = bytes;
  PutU64(huge.data() + 12, kMaxVolumeSize + 1);
  EXPECT_NE(message(Resign(huge)).find("size"), std::string::npos);
  EXPECT_NE(message(Bytes(10, 0)).find("truncated"), std::string::npos);
}

class VolumeBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(3);
    Bytes image = RandomBytes(rng, 3 * kBlockSize);
    base_ = MakeBase(fs_, store_, "/snap.map", image);
    auto v =
        Volume::Create(fs_, store_, "/vol", 64 * kBlockSize, Volume::Base{&base_, "/snap.map"});
    ASSERT_TRUE(v.ok());
    Bytes data(100, 1);
    ASSERT_TRUE((*v)->Write(10 * kBlockSize, data).ok());
    ASSERT_TRUE((*v)->Close().ok());
  }
  Status OpenStatus() { return Volume::Open(fs_, store_, "/vol").status(); }
  void Overwrite(const std::string& path, ByteView data) {
    ASSERT_TRUE(WriteFileAtomic(fs_, path, data).ok());
  }
  void Truncate(const std::string& path, uint64_t size) {
    auto f = fs_.Open(path, OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Truncate(size).ok());
  }
  void ExpectCorruption(const std::string& needle) {
    Status s = OpenStatus();
    EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("/vol"), std::string::npos) << s.ToString();
  }

  MemFileSystem fs_;
  FakeChunkStore store_;
  BlockMap base_;
};

TEST_F(VolumeBadInputTest, IntactOpens) { EXPECT_TRUE(OpenStatus().ok()); }

TEST_F(VolumeBadInputTest, MissingMetaIsNoVolume) {
  ASSERT_TRUE(fs_.Remove("/vol/volume.meta").ok());
  Status s = OpenStatus();
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_EQ(Volume::Open(fs_, store_, "/nowhere").status().code(), Code::kNotFound);
}

TEST_F(VolumeBadInputTest, TruncatedMeta) {
  auto raw = ReadFile(fs_, "/vol/volume.meta");
  Overwrite("/vol/volume.meta", ByteView(*raw).first(raw->size() - 1));
  ExpectCorruption("checksum");
  Overwrite("/vol/volume.meta", ByteView(*raw).first(20));
  ExpectCorruption("truncated");
}

TEST_F(VolumeBadInputTest, WrongMagic) {
  Overwrite("/vol/volume.meta", AsBytes("SQLite format 3 and then some more bytes of it, 80+ bytes "
                                        "long so the length check passes........"));
  ExpectCorruption("magic");
}

TEST_F(VolumeBadInputTest, WrongVersion) {
  Bytes raw = *ReadFile(fs_, "/vol/volume.meta");
  PutU32(raw.data() + 4, 2);
  Overwrite("/vol/volume.meta", Resign(raw));
  ExpectCorruption("version 2");
}

TEST_F(VolumeBadInputTest, MissingBaseMap) {
  ASSERT_TRUE(fs_.Remove("/vol/base-0.map").ok());
  ExpectCorruption("base map 'base-0.map' is missing");
}

TEST_F(VolumeBadInputTest, DamagedBaseMap) {
  Truncate("/vol/base-0.map", 10);
  ExpectCorruption("base map");
}

TEST_F(VolumeBadInputTest, BaseMapOfAnotherLineage) {
  ASSERT_TRUE(fs_.Remove("/vol/base-0.map").ok());
  BlockMap other(kBlockSize, LineageId{7}, "");
  ASSERT_TRUE(other.WriteTo(fs_, "/vol/base-0.map").ok());
  ExpectCorruption("lineage");
}

TEST_F(VolumeBadInputTest, PresentBitmapOfTheWrongSize) {
  Truncate("/vol/present", 3);  // 64 blocks need 8 bytes
  ExpectCorruption("present map");
}

TEST_F(VolumeBadInputTest, DirtyBitmapOfTheWrongSizeMattersOnlyWhenTrusted) {
  Truncate("/vol/dirty", 3);
  ExpectCorruption("dirty map");
  // After an unclean shutdown the dirty file is not read at all.
  {
    Truncate("/vol/dirty", 8);
    auto v = Volume::Open(fs_, store_, "/vol");
    ASSERT_TRUE(v.ok());
  }  // dropped: unclean
  Truncate("/vol/dirty", 3);
  auto v = Volume::Open(fs_, store_, "/vol");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE((*v)->unclean_open());
  ASSERT_TRUE((*v)->Close().ok());  // rewrites the dirty file whole
  EXPECT_TRUE(OpenStatus().ok());
}

TEST_F(VolumeBadInputTest, MissingOrTruncatedDataFile) {
  Truncate("/vol/data", kBlockSize);
  ExpectCorruption("data file 'data'");
  ASSERT_TRUE(fs_.Remove("/vol/data").ok());
  ExpectCorruption("'data' is missing");
}

TEST_F(VolumeBadInputTest, StaleLeftoversAreRemoved) {
  ASSERT_TRUE(fs_.Link("/snap.map", "/vol/base-7.map").ok());
  Overwrite("/vol/volume.meta.tmp-3", AsBytes("half"));
  auto v = Volume::Open(fs_, store_, "/vol");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(Exists(fs_, "/vol/base-7.map"));
  EXPECT_FALSE(Exists(fs_, "/vol/volume.meta.tmp-3"));
  EXPECT_TRUE(Exists(fs_, "/vol/base-0.map"));
}

}  // namespace
}  // namespace kiln
