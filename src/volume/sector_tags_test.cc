// SectorTags through XtsFile: tampering of any kind is Corruption, never data; tags stay
// consistent through power loss (write intents and Recover); intents clear only when safe.
#include "volume/sector_tags.h"

#include <gtest/gtest.h>

#include <random>

#include "env/mem_file_system.h"
#include "volume/volume_testing.h"
#include "volume/xts_file.h"

namespace kiln {
namespace {

constexpr uint64_t kSector = SectorTags::kSectorSize;
constexpr uint64_t kFileBytes = SectorTags::kRegionBytes + 64 * kSector;  // two regions

XtsKey TestXtsKey() {
  XtsKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  return key;
}

Key256 TestMacKey() {
  Key256 key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(200 - i);
  return key;
}

Bytes Pattern(uint64_t len, uint64_t seed) {
  Bytes out(len);
  std::mt19937_64 rng(seed);
  for (auto& b : out) b = static_cast<uint8_t>(rng() | 1);  // never a zero sector
  return out;
}

class SectorTagsTest : public ::testing::Test {
 protected:
  // The data file, wrapped; `mode` kCreateExclusive for a new one.
  std::unique_ptr<XtsFile> Open(OpenMode mode = OpenMode::kReadWrite, uint64_t first = 0) {
    auto data = fs_.Open(dir_ + "/data", mode);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    auto tags = SectorTags::Open(fs_, dir_ + "/tags", dir_ + "/intent", mode, kFileBytes,
                                 TestMacKey(), first);
    EXPECT_TRUE(tags.ok()) << tags.status().ToString();
    if (!data.ok() || !tags.ok()) return nullptr;
    tags_ = tags->get();
    auto f = std::make_unique<XtsFile>(std::move(data).value(), TestXtsKey(), first,
                                       std::move(tags).value());
    if (mode == OpenMode::kCreateExclusive) EXPECT_TRUE(f->Truncate(kFileBytes).ok());
    EXPECT_TRUE(f->Recover().ok());
    return f;
  }
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir(dir_).ok());
    file_ = Open(OpenMode::kCreateExclusive);
    ASSERT_NE(file_, nullptr);
  }
  // Changes one byte of a file behind the volume's back.
  void Poke(const std::string& path, uint64_t offset, uint8_t xor_with) {
    auto f = fs_.Open(path, OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    uint8_t b = 0;
    auto n = (*f)->ReadAt(offset, MutableByteView(&b, 1));
    ASSERT_TRUE(n.ok());
    b ^= xor_with;
    ASSERT_TRUE((*f)->WriteAt(offset, ByteView(&b, 1)).ok());
  }
  Status ReadSector(uint64_t index, Bytes& out) {
    out.assign(kSector, 0);
    auto n = file_->ReadAt(index * kSector, out);
    return n.status();
  }

  MemFileSystem fs_;
  std::string dir_ = "/v";
  std::unique_ptr<XtsFile> file_;
  SectorTags* tags_ = nullptr;
};

TEST_F(SectorTagsTest, ByteFlipsInDataOrTagsAreCorruptionNamingTheSector) {
  const Bytes data = Pattern(8 * kSector, 1);
  ASSERT_TRUE(file_->WriteAt(0, data).ok());
  Bytes got;
  ASSERT_TRUE(ReadSector(3, got).ok());
  // Every byte position class: first, middle, last byte of a sector, and each tag byte.
  for (uint64_t offset : {3 * kSector, 3 * kSector + 1000, 4 * kSector - 1}) {
    Poke("/v/data", offset, 0x01);
    Status s = ReadSector(3, got);
    EXPECT_EQ(s.code(), Code::kCorruption) << offset;
    EXPECT_NE(s.message().find("sector 3"), std::string::npos) << s.ToString();
    Poke("/v/data", offset, 0x01);  // undo
    EXPECT_TRUE(ReadSector(3, got).ok());
  }
  for (uint64_t i = 0; i < SectorTags::kTagSize; ++i) {
    Poke("/v/tags", 3 * SectorTags::kTagSize + i, 0x80);
    EXPECT_EQ(ReadSector(3, got).code(), Code::kCorruption) << "tag byte " << i;
    Poke("/v/tags", 3 * SectorTags::kTagSize + i, 0x80);
  }
  // A read spanning the damaged sector fails whole: no partial data.
  Poke("/v/data", 5 * kSector + 7, 0x10);
  Bytes span(8 * kSector);
  EXPECT_EQ(file_->ReadAt(0, span).status().code(), Code::kCorruption);
}

TEST_F(SectorTagsTest, ZeroedOrMovedSectorsAreDetected) {
  const Bytes data = Pattern(4 * kSector, 2);
  ASSERT_TRUE(file_->WriteAt(0, data).ok());
  auto raw = fs_.Open("/v/data", OpenMode::kReadWrite);
  ASSERT_TRUE(raw.ok());
  // Zeroing a sector would read as plaintext zeros (a hole) without tags.
  ASSERT_TRUE((*raw)->PunchHole(1 * kSector, kSector).ok());
  Bytes got;
  EXPECT_EQ(ReadSector(1, got).code(), Code::kCorruption);
  // Sector 2's ciphertext and tag copied to sector 3: the tag binds the position.
  Bytes sector2(kSector), tag2(SectorTags::kTagSize);
  ASSERT_TRUE((*raw)->ReadAt(2 * kSector, sector2).ok());
  ASSERT_TRUE((*raw)->WriteAt(3 * kSector, sector2).ok());
  auto tags = fs_.Open("/v/tags", OpenMode::kReadWrite);
  ASSERT_TRUE((*tags)->ReadAt(2 * SectorTags::kTagSize, tag2).ok());
  ASSERT_TRUE((*tags)->WriteAt(3 * SectorTags::kTagSize, tag2).ok());
  EXPECT_EQ(ReadSector(3, got).code(), Code::kCorruption);
  EXPECT_TRUE(ReadSector(2, got).ok());
}

TEST_F(SectorTagsTest, ErasingDataAndTagTogetherIsDetected) {
  ASSERT_TRUE(file_->WriteAt(0, Pattern(4 * kSector, 10)).ok());
  auto raw = fs_.Open(dir_ + "/data", OpenMode::kReadWrite);
  auto tags = fs_.Open(dir_ + "/tags", OpenMode::kReadWrite);
  ASSERT_TRUE(raw.ok() && tags.ok());
  ASSERT_TRUE((*raw)->PunchHole(2 * kSector, kSector).ok());
  ASSERT_TRUE((*tags)->WriteAt(2 * SectorTags::kTagSize, Bytes(SectorTags::kTagSize, 0)).ok());
  Bytes got;
  Status s = ReadSector(2, got);
  EXPECT_EQ(s.code(), Code::kCorruption) << "a hole's tag is authenticated, not zeros";
  EXPECT_NE(s.message().find("no integrity tag"), std::string::npos) << s.ToString();
  // A sector never written has no tag either: the volume never reads one, so it is an error.
  EXPECT_EQ(ReadSector(100, got).code(), Code::kCorruption);
  // Another sector's zero tag does not fit here (the tag binds the position).
  ASSERT_TRUE(file_->PunchHole(3 * kSector, kSector).ok());
  Bytes zero_tag(SectorTags::kTagSize);
  ASSERT_TRUE((*tags)->ReadAt(3 * SectorTags::kTagSize, zero_tag).ok());
  ASSERT_TRUE((*tags)->WriteAt(1 * SectorTags::kTagSize, zero_tag).ok());
  ASSERT_TRUE((*raw)->PunchHole(1 * kSector, kSector).ok());
  EXPECT_EQ(ReadSector(1, got).code(), Code::kCorruption);
  EXPECT_TRUE(ReadSector(3, got).ok());
  EXPECT_TRUE(IsAllZero(got));
}

TEST_F(SectorTagsTest, WritesReachingTheLogicalEndNeedNoReadOfThePadding) {
  // A file whose size is not whole sectors: the last sector is written whole, padded.
  file_.reset();
  dir_ = "/odd";
  ASSERT_TRUE(fs_.CreateDir(dir_).ok());
  file_ = Open(OpenMode::kCreateExclusive);
  const uint64_t size = 3 * kSector + 100;
  ASSERT_TRUE(file_->Truncate(size).ok());
  const Bytes data = Pattern(size, 11);
  ASSERT_TRUE(file_->WriteAt(0, data).ok()) << "the tail sector was never written: no RMW read";
  Bytes got(size);
  ASSERT_TRUE(file_->ReadAt(0, got).ok());
  EXPECT_EQ(got, data);
  ASSERT_TRUE(file_->WriteAt(size - 50, Pattern(50, 12)).ok());
  ASSERT_TRUE(file_->ReadAt(0, got).ok());
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + size - 50, data.begin()));
}

TEST_F(SectorTagsTest, HolesStayHolesAndVerify) {
  ASSERT_TRUE(file_->WriteAt(0, Pattern(16 * kSector, 3)).ok());
  ASSERT_TRUE(file_->PunchHole(4 * kSector, 8 * kSector).ok());
  ASSERT_TRUE(file_->WriteAt(13 * kSector, Bytes(kSector, 0)).ok());
  Bytes got(16 * kSector);
  ASSERT_TRUE(file_->ReadAt(0, got).ok());
  const Bytes expect_zero(kSector, 0);
  for (uint64_t s : {4, 7, 11, 13}) {
    EXPECT_TRUE(std::equal(expect_zero.begin(), expect_zero.end(), got.begin() + s * kSector));
  }
  // A tag where there should be a hole is tampering too.
  Poke("/v/tags", 5 * SectorTags::kTagSize, 0x01);
  Bytes one;
  EXPECT_EQ(ReadSector(5, one).code(), Code::kCorruption);
}

TEST_F(SectorTagsTest, SyncClearsIntentsUnlessAWriteRacedIt) {
  ASSERT_TRUE(file_->WriteAt(0, Pattern(kSector, 4)).ok());
  ASSERT_TRUE(file_->WriteAt(SectorTags::kRegionBytes, Pattern(kSector, 5)).ok());
  EXPECT_EQ(tags_->regions_with_intent(), 2u);
  EXPECT_EQ(ReadFile(fs_, "/v/intent").value(), Bytes({1, 1})) << "durable before the write";
  ASSERT_TRUE(file_->Sync().ok());
  EXPECT_EQ(tags_->regions_with_intent(), 0u);
  EXPECT_EQ(ReadFile(fs_, "/v/intent").value(), Bytes({0, 0}));

  // A write that ends while the data is being synced may not be in the sync: its region keeps
  // its intent. (The data sync callback is where such a write would land.)
  ASSERT_TRUE(file_->WriteAt(0, Pattern(kSector, 6)).ok());
  ASSERT_TRUE(tags_->Sync([&] { return file_->WriteAt(kSector, Pattern(kSector, 7)); }).ok());
  EXPECT_EQ(tags_->regions_with_intent(), 1u);
  // A writer still inside its scope keeps it too.
  {
    auto scope = tags_->BeginWrite(SectorTags::kRegionBytes / kSector, 1);
    ASSERT_TRUE(scope.ok());
    ASSERT_TRUE(file_->Sync().ok());
    EXPECT_EQ(tags_->regions_with_intent(), 1u) << "the open scope's region (region 0 cleared)";
  }
  ASSERT_TRUE(file_->Sync().ok());
  EXPECT_EQ(tags_->regions_with_intent(), 0u);
}

// Power loss in the middle of unflushed writes: after Recover every sector reads as one of the
// values written to it (never Corruption), and a region quiet since its last flush still
// detects tampering.
TEST_F(SectorTagsTest, PowerLossThenRecoverReadsOldOrNewAndStillDetectsTampering) {
  const uint64_t seed = volume_testing::TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 40; ++round) {
    file_.reset();
    dir_ = "/r" + std::to_string(round);
    ASSERT_TRUE(fs_.CreateDir(dir_).ok());
    ASSERT_TRUE(fs_.SyncDir("/").ok());
    file_ = Open(OpenMode::kCreateExclusive);
    ASSERT_TRUE(fs_.SyncDir(dir_).ok());
    const uint64_t kSectors = 32;
    // Region 0: the first half; region 1 (quiet after the flush): sectors from kRegion on.
    std::vector<std::vector<Bytes>> versions(kSectors);
    const uint64_t quiet = SectorTags::kRegionBytes / kSector;
    Bytes quiet_data = Pattern(kSector, 1000 + round);
    ASSERT_TRUE(file_->WriteAt(quiet * kSector, quiet_data).ok());
    for (uint64_t s = 0; s < kSectors; ++s) {
      Bytes d = rng() % 4 == 0 ? Bytes(kSector, 0) : Pattern(kSector, rng());
      ASSERT_TRUE(file_->WriteAt(s * kSector, d).ok());
      versions[s].push_back(std::move(d));
    }
    ASSERT_TRUE(file_->Sync().ok());
    for (int w = 0; w < 24; ++w) {  // unflushed: any subset survives
      const uint64_t s = rng() % kSectors;
      Bytes d = rng() % 4 == 0 ? Bytes(kSector, 0) : Pattern(kSector, rng());
      if (rng() % 3 == 0) {
        ASSERT_TRUE(file_->PunchHole(s * kSector, kSector).ok());
        d.assign(kSector, 0);
      } else {
        ASSERT_TRUE(file_->WriteAt(s * kSector, d).ok());
      }
      versions[s].push_back(std::move(d));
    }
    file_.reset();
    fs_.Crash(rng() % 2 ? CrashMode::kDropUnsynced : CrashMode::kKeepSomeUnsynced, rng());
    file_ = Open();
    ASSERT_NE(file_, nullptr);
    for (uint64_t s = 0; s < kSectors; ++s) {
      Bytes got;
      Status st = ReadSector(s, got);
      ASSERT_TRUE(st.ok()) << "round " << round << " sector " << s << ": " << st.ToString();
      EXPECT_TRUE(std::find(versions[s].begin(), versions[s].end(), got) != versions[s].end())
          << "round " << round << " sector " << s << " reads a value never written";
    }
    EXPECT_EQ(tags_->regions_with_intent(), 0u);
    Bytes got;
    ASSERT_TRUE(ReadSector(quiet, got).ok());
    EXPECT_EQ(got, quiet_data);
    Poke(dir_ + "/data", quiet * kSector + 9, 0x04);
    EXPECT_EQ(ReadSector(quiet, got).code(), Code::kCorruption) << "round " << round;
  }
}

TEST_F(SectorTagsTest, FailedIntentWriteFailsTheWriteAndLeavesNoScope) {
  fs_.FailNext("/v/intent", IoError("disk full"));
  EXPECT_EQ(file_->WriteAt(0, Pattern(kSector, 8)).code(), Code::kIoError);
  EXPECT_EQ(tags_->regions_with_intent(), 0u);
  ASSERT_TRUE(file_->WriteAt(0, Pattern(kSector, 8)).ok());
  ASSERT_TRUE(file_->Sync().ok());
  EXPECT_EQ(tags_->regions_with_intent(), 0u) << "the failed scope released its region";
}

TEST_F(SectorTagsTest, SectorNumbersIncludeTheFileOffset) {
  // The same plaintext at the same index of two segments (first sectors differ) has different
  // ciphertext and tags, so segments cannot be swapped.
  ASSERT_TRUE(file_->WriteAt(0, Pattern(kSector, 9)).ok());
  ASSERT_TRUE(file_->Sync().ok());
  const Bytes tags_a = ReadFile(fs_, "/v/tags").value();
  file_.reset();
  ASSERT_TRUE(fs_.Rename("/v/data", "/v/data0").ok());
  ASSERT_TRUE(fs_.Rename("/v/tags", "/v/tags0").ok());
  ASSERT_TRUE(fs_.Rename("/v/intent", "/v/intent0").ok());
  file_ = Open(OpenMode::kCreateExclusive, /*first=*/1 << 20);
  ASSERT_TRUE(file_->WriteAt(0, Pattern(kSector, 9)).ok());
  ASSERT_TRUE(file_->Sync().ok());
  EXPECT_NE(ReadFile(fs_, "/v/tags").value(), tags_a);
  file_.reset();
  ASSERT_TRUE(fs_.Rename("/v/tags0", "/v/tags").ok());  // the other segment's tags
  ASSERT_TRUE(fs_.Remove("/v/intent").ok());
  ASSERT_TRUE(fs_.Rename("/v/intent0", "/v/intent").ok());
  file_ = Open(OpenMode::kReadWrite, 1 << 20);
  Bytes got;
  EXPECT_EQ(ReadSector(0, got).code(), Code::kCorruption);
}

}  // namespace
}  // namespace kiln
