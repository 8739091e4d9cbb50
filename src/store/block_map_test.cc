#include "store/block_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "crypto/sha256.h"
#include "env/mem_file_system.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

ChunkId IdOf(uint64_t n) {
  ChunkId id;
  PutU64(id.bytes.data(), n * 0x9e3779b97f4a7c15ULL + 1);
  id.bytes[31] = static_cast<uint8_t>(n);
  return id;
}

LineageId Lineage(uint8_t v) {
  LineageId l;
  l.fill(v);
  return l;
}

// A map of `blocks` blocks with about `density` of them set to chunks from a small pool (so
// two random maps share some chunks).
BlockMap RandomMap(std::mt19937_64& rng, uint64_t blocks, double density, LineageId lineage) {
  BlockMap m(blocks * kBlockSize - rng() % 1000 % kBlockSize, lineage, "snap-parent");
  std::bernoulli_distribution set(density);
  for (uint64_t b = 0; b < blocks; ++b) {
    if (set(rng)) m.Set(b, IdOf(rng() % 8));
  }
  return m;
}

std::vector<uint64_t> BruteForceDiff(const BlockMap& a, const BlockMap& b) {
  std::vector<uint64_t> out;
  const uint64_t n = std::max(a.block_count(), b.block_count());
  for (uint64_t i = 0; i < n; ++i) {
    if (a.Find(i) != b.Find(i)) out.push_back(i);
  }
  return out;
}

// Recomputes the SHA-256 trailer so a test can craft a damaged body that passes the checksum.
void Reseal(Bytes& b) {
  const size_t body = b.size() - 32;
  Digest256 d = Sha256(ByteView(b).first(body));
  std::copy(d.begin(), d.end(), b.begin() + body);
}

constexpr size_t kEntriesOffset = 50;  // fixed header, with an empty parent

void ExpectCorrupt(const Bytes& b, const std::string& message_part) {
  Result<BlockMap> m = BlockMap::Parse(b);
  ASSERT_FALSE(m.ok()) << "expected failure mentioning '" << message_part << "'";
  EXPECT_EQ(m.status().code(), Code::kCorruption) << m.status().ToString();
  EXPECT_NE(m.status().message().find(message_part), std::string::npos) << m.status().ToString();
}

TEST(BlockMapTest, FindAndSet) {
  BlockMap m(10 * kBlockSize + 1, Lineage(1), "");
  EXPECT_EQ(m.block_count(), 11u);
  EXPECT_EQ(m.Find(3), std::nullopt);
  m.Set(3, IdOf(3));
  m.Set(1, IdOf(1));
  m.Set(10, IdOf(10));
  m.Set(5, IdOf(5));
  EXPECT_EQ(m.Find(3), IdOf(3));
  EXPECT_EQ(m.Find(10), IdOf(10));
  EXPECT_EQ(m.Find(4), std::nullopt);
  m.Set(3, IdOf(33));
  EXPECT_EQ(m.Find(3), IdOf(33));
  m.Set(5, std::nullopt);
  m.Set(6, std::nullopt);  // clearing a zero block is a no-op
  EXPECT_EQ(m.Find(5), std::nullopt);
  std::vector<uint64_t> blocks;
  for (const auto& e : m.entries()) blocks.push_back(e.block);
  EXPECT_EQ(blocks, (std::vector<uint64_t>{1, 3, 10}));
}

TEST(BlockMapTest, ShrinkingDropsEntriesPastTheEnd) {
  BlockMap m(10 * kBlockSize, Lineage(1), "");
  for (uint64_t b = 0; b < 10; ++b) m.Set(b, IdOf(b));
  m.set_volume_size(4 * kBlockSize + 1);  // 5 blocks
  EXPECT_EQ(m.size(), 5u);
  m.set_volume_size(20 * kBlockSize);
  EXPECT_EQ(m.size(), 5u);
  EXPECT_EQ(m.Find(9), std::nullopt);
}

TEST(BlockMapTest, WithChangesMatchesSetOneByOne) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 200; ++iter) {
    const uint64_t blocks = 1 + rng() % 300;
    BlockMap base = RandomMap(rng, blocks, 0.3, Lineage(1));
    std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes;
    BlockMap expected = base;
    for (uint64_t b = 0; b < blocks; ++b) {
      if (rng() % 4 != 0) continue;
      std::optional<ChunkId> c;
      if (rng() % 2) c = IdOf(rng() % 8);
      changes.emplace_back(b, c);
      expected.Set(b, c);
    }
    EXPECT_EQ(base.WithChanges(changes), expected);
  }
}

TEST(BlockMapTest, DiffMatchesBruteForce) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    const uint64_t blocks = 1 + rng() % 200;
    BlockMap a = RandomMap(rng, blocks, (rng() % 100) / 100.0, Lineage(7));
    // b is a derived from a (small changes) half the time, unrelated otherwise, sometimes grown.
    BlockMap b = rng() % 2 ? a : RandomMap(rng, blocks, 0.5, Lineage(7));
    if (rng() % 4 == 0) b.set_volume_size((blocks + rng() % 50) * kBlockSize);
    for (int k = 0; k < 5; ++k) {
      const uint64_t blk = rng() % b.block_count();
      b.Set(blk, rng() % 3 ? std::optional<ChunkId>(IdOf(rng() % 8)) : std::nullopt);
    }
    Result<std::vector<uint64_t>> d = BlockMap::Diff(a, b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, BruteForceDiff(a, b));
    EXPECT_EQ(*BlockMap::Diff(b, a), *d);
    EXPECT_TRUE(BlockMap::Diff(a, a)->empty());
  }
}

TEST(BlockMapTest, DiffRequiresOneLineage) {
  BlockMap a(kBlockSize, Lineage(1), ""), b(kBlockSize, Lineage(2), "");
  EXPECT_EQ(BlockMap::Diff(a, b).status().code(), Code::kInvalidArgument);
}

TEST(BlockMapTest, RandomMapsRoundTrip) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 200; ++iter) {
    BlockMap m = RandomMap(rng, 1 + rng() % 500, (rng() % 100) / 100.0, Lineage(rng() % 256));
    std::string parent(rng() % 256, 'x');
    for (char& ch : parent) ch = static_cast<char>(0x20 + rng() % 95);
    m.set_parent(parent);
    Bytes bytes = m.Serialize();
    Result<BlockMap> back = BlockMap::Parse(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, m);
  }
}

TEST(BlockMapTest, EdgeMapsRoundTrip) {
  BlockMap empty;
  EXPECT_EQ(*BlockMap::Parse(empty.Serialize()), empty);
  BlockMap max(kMaxVolumeSize, Lineage(0xff), std::string(255, '~'));
  max.Set(0, IdOf(0));
  max.Set(max.block_count() - 1, IdOf(1));
  EXPECT_EQ(max.block_count(), 32u << 20);
  EXPECT_EQ(*BlockMap::Parse(max.Serialize()), max);
}

TEST(BlockMapTest, EncryptedFlagRoundTripsAndSurvivesChanges) {
  BlockMap m(3 * kBlockSize, Lineage(7), "p", /*encrypted=*/true);
  m.Set(1, IdOf(1));
  const Bytes bytes = m.Serialize();
  EXPECT_EQ(bytes[12], 1) << "flags bit 0 marks an encrypted lineage";
  Result<BlockMap> back = BlockMap::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->encrypted());
  EXPECT_EQ(*back, m);
  EXPECT_TRUE(m.WithChanges({{2, IdOf(2)}}).encrypted());
  BlockMap plain(3 * kBlockSize, Lineage(7), "p");
  plain.Set(1, IdOf(1));
  EXPECT_FALSE(plain.encrypted());
  EXPECT_NE(plain, m) << "the flag is part of the map's identity";
}

TEST(BlockMapTest, FileLayout) {
  BlockMap m(3 * kBlockSize, Lineage(0xab), "snap-1");
  m.Set(2, IdOf(2));
  Bytes b = m.Serialize();
  ASSERT_EQ(b.size(), 50u + 6 + 40 + 32);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "KLNM");
  EXPECT_EQ(GetU32(&b[4]), 1u);
  EXPECT_EQ(GetU32(&b[8]), kBlockSize);
  EXPECT_EQ(GetU32(&b[12]), 0u);
  EXPECT_EQ(GetU64(&b[16]), 3 * kBlockSize);
  EXPECT_EQ(GetU64(&b[24]), 1u);
  EXPECT_EQ(b[32], 0xab);
  EXPECT_EQ(b[48], 6);
  EXPECT_EQ(b[49], 0);
  EXPECT_EQ(std::string(b.begin() + 50, b.begin() + 56), "snap-1");
  EXPECT_EQ(GetU64(&b[56]), 2u);
  EXPECT_TRUE(std::equal(b.begin() + 64, b.begin() + 96, IdOf(2).bytes.begin()));
}

// A valid map of 3 entries and an empty parent: the base the bad-input cases damage.
Bytes GoodMap() {
  BlockMap m(100 * kBlockSize, Lineage(3), "");
  m.Set(1, IdOf(1));
  m.Set(5, IdOf(5));
  m.Set(99, IdOf(9));
  return m.Serialize();
}

TEST(BlockMapTest, ParseRejectsBadHeaders) {
  ASSERT_TRUE(BlockMap::Parse(GoodMap()).ok());
  ExpectCorrupt(Bytes(), "too short");
  ExpectCorrupt(Bytes(81, 0), "too short");
  Bytes b = GoodMap();
  b[0] = 'X';
  ExpectCorrupt(b, "magic");
  b = GoodMap();
  PutU32(&b[4], 2);
  ExpectCorrupt(b, "version 2");
  b = GoodMap();
  PutU32(&b[8], 4096);
  Reseal(b);
  ExpectCorrupt(b, "block size 4096");
  b = GoodMap();
  PutU32(&b[12], 2);
  Reseal(b);
  ExpectCorrupt(b, "flags");
  b = GoodMap();
  PutU64(&b[16], kMaxVolumeSize + 1);
  Reseal(b);
  ExpectCorrupt(b, "16 TiB");
  for (uint64_t count : {uint64_t{2}, uint64_t{4}, uint64_t{1} << 40, ~uint64_t{0}}) {
    b = GoodMap();
    PutU64(&b[24], count);
    Reseal(b);
    ExpectCorrupt(b, "entry count");
  }
  b = GoodMap();
  b[48] = 1;  // parent_len 1, taking a byte the entries need
  Reseal(b);
  ExpectCorrupt(b, "entry count");
  b = GoodMap();
  b[49] = 1;  // parent_len 256
  ExpectCorrupt(b, "parent");
}

TEST(BlockMapTest, ParseRejectsBadParent) {
  BlockMap m(kBlockSize, Lineage(1), "ok");
  Bytes b = m.Serialize();
  b[50] = '\n';
  Reseal(b);
  ExpectCorrupt(b, "printable");
}

TEST(BlockMapTest, ParseRejectsBadEntries) {
  auto entry_block = [](Bytes& b, int i) { return &b[kEntriesOffset + 40 * i]; };
  Bytes b = GoodMap();
  PutU64(entry_block(b, 1), 0);  // 1, 0, 99
  Reseal(b);
  ExpectCorrupt(b, "unsorted or duplicated");
  b = GoodMap();
  PutU64(entry_block(b, 1), 1);  // 1, 1, 99
  Reseal(b);
  ExpectCorrupt(b, "unsorted or duplicated");
  b = GoodMap();
  PutU64(entry_block(b, 2), 100);  // the volume has blocks 0..99
  Reseal(b);
  ExpectCorrupt(b, "block 100");
  b = GoodMap();
  PutU64(entry_block(b, 2), ~uint64_t{0});
  Reseal(b);
  ExpectCorrupt(b, "the volume has 100");
}

TEST(BlockMapTest, ParseRejectsChecksumMismatch) {
  Bytes good = GoodMap();
  for (size_t pos : {size_t{20}, size_t{40}, kEntriesOffset + 10, good.size() - 1}) {
    Bytes b = good;
    b[pos] ^= 0x10;
    ExpectCorrupt(b, "checksum");
  }
}

TEST(BlockMapTest, EveryDamageIsCorruption) {
  Bytes good = GoodMap();
  for (size_t len = 0; len < good.size(); ++len) {
    Result<BlockMap> m = BlockMap::Parse(ByteView(good).first(len));
    ASSERT_FALSE(m.ok()) << "truncated to " << len;
    EXPECT_EQ(m.status().code(), Code::kCorruption) << len;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(BlockMap::Parse(longer).status().code(), Code::kCorruption);
  for (size_t pos = 0; pos < good.size(); ++pos) {
    Bytes b = good;
    b[pos] ^= 1;
    EXPECT_EQ(BlockMap::Parse(b).status().code(), Code::kCorruption) << "flip at " << pos;
  }
}

TEST(BlockMapTest, WriteToAndLoad) {
  MemFileSystem fs;
  ASSERT_TRUE(CreateDirs(fs, "/snaps").ok());
  BlockMap m(50 * kBlockSize, Lineage(4), "snap-0");
  m.Set(7, IdOf(7));
  ASSERT_TRUE(m.WriteTo(fs, "/snaps/a.map").ok());
  fs.Crash();  // WriteTo is durable
  Result<BlockMap> back = BlockMap::Load(fs, "/snaps/a.map");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(BlockMap::Load(fs, "/snaps/missing.map").status().code(), Code::kNotFound);

  Bytes damaged = m.Serialize();
  damaged.pop_back();
  ASSERT_TRUE(WriteFileAtomic(fs, "/snaps/bad.map", damaged).ok());
  Result<BlockMap> bad = BlockMap::Load(fs, "/snaps/bad.map");
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
  EXPECT_NE(bad.status().message().find("/snaps/bad.map"), std::string::npos);
}

TEST(BlockMapTest, WriteToRefusesMapsItCouldNotReadBack) {
  MemFileSystem fs;
  BlockMap m(kBlockSize, Lineage(1), std::string(256, 'a'));
  EXPECT_EQ(m.WriteTo(fs, "/x.map").code(), Code::kInvalidArgument);
  m.set_parent("bad\x01");
  EXPECT_EQ(m.WriteTo(fs, "/x.map").code(), Code::kInvalidArgument);
  BlockMap huge(kMaxVolumeSize + kBlockSize, Lineage(1), "");
  EXPECT_EQ(huge.WriteTo(fs, "/x.map").code(), Code::kInvalidArgument);
  EXPECT_FALSE(Exists(fs, "/x.map"));
}

// A crash at any point of WriteTo leaves the old map or the new one, never a damaged file.
TEST(BlockMapTest, CrashDuringWriteTo) {
  BlockMap old_map(10 * kBlockSize, Lineage(1), "");
  old_map.Set(1, IdOf(1));
  BlockMap new_map = old_map.WithChanges({{2, IdOf(2)}});
  for (int64_t k = 0;; ++k) {
    MemFileSystem fs;
    ASSERT_TRUE(old_map.WriteTo(fs, "/m").ok());
    fs.SetCrashAfter(k);
    const bool done = new_map.WriteTo(fs, "/m").ok();
    fs.Crash();
    Result<BlockMap> got = BlockMap::Load(fs, "/m");
    ASSERT_TRUE(got.ok()) << "crash point " << k << ": " << got.status().ToString();
    if (done) {
      EXPECT_EQ(*got, new_map);
      break;
    }
    EXPECT_TRUE(*got == old_map || *got == new_map) << "crash point " << k;
    ASSERT_LT(k, 100) << "WriteTo never completes";
  }
}

}  // namespace
}  // namespace kiln
