#include "store/chunk_id.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

#include "store/store_testing.h"

namespace kiln {
namespace {

ChunkId RandomId(std::mt19937_64& rng) {
  ChunkId id;
  for (auto& b : id.bytes) b = static_cast<uint8_t>(rng());
  return id;
}

TEST(ChunkIdTest, HexRoundTrip) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 1000; ++i) {
    ChunkId id = RandomId(rng);
    std::string hex = id.ToHex();
    ASSERT_EQ(hex.size(), 64u);
    Result<ChunkId> back = ChunkId::FromHex(hex);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, id);
  }
}

TEST(ChunkIdTest, ToHexIsLowerCaseBigEndianByteOrder) {
  ChunkId id;
  id.bytes[0] = 0xab;
  id.bytes[31] = 0x0f;
  EXPECT_EQ(id.ToHex(), "ab" + std::string(60, '0') + "0f");
}

TEST(ChunkIdTest, FromHexAcceptsUpperCase) {
  Result<ChunkId> id = ChunkId::FromHex("AB" + std::string(62, 'F'));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToHex(), "ab" + std::string(62, 'f'));
}

TEST(ChunkIdTest, FromHexRejectsWrongLength) {
  for (size_t n : {0, 1, 2, 62, 63, 65, 66, 128}) {
    Result<ChunkId> id = ChunkId::FromHex(std::string(n, 'a'));
    ASSERT_FALSE(id.ok()) << n;
    EXPECT_EQ(id.status().code(), Code::kInvalidArgument) << n;
  }
}

TEST(ChunkIdTest, FromHexRejectsNonHex) {
  for (char bad : {'g', 'G', ' ', '-', 'x', '\0', '/', ':'}) {
    for (size_t pos : {0, 1, 31, 63}) {
      std::string hex(64, '0');
      hex[pos] = bad;
      Result<ChunkId> id = ChunkId::FromHex(hex);
      ASSERT_FALSE(id.ok()) << "char " << int(bad) << " at " << pos;
      EXPECT_EQ(id.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(ChunkIdTest, OrderingAndHashing) {
  ChunkId a, b;
  b.bytes[0] = 1;
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
  std::unordered_set<ChunkId, ChunkIdHash> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace kiln
