#include "bench/bench_util.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <set>

namespace kiln::bench {
namespace {

TEST(ParseSizeTest, AcceptsBinaryUnits) {
  EXPECT_EQ(*ParseSize("64MiB"), 64ULL << 20);
  EXPECT_EQ(*ParseSize("512MiB"), 512ULL << 20);
  EXPECT_EQ(*ParseSize("1GiB"), 1ULL << 30);
  EXPECT_EQ(*ParseSize("4gib"), 4ULL << 30);
  EXPECT_EQ(*ParseSize("2G"), 2ULL << 30);
  EXPECT_EQ(*ParseSize("1048576"), 1ULL << 20);
}

TEST(ParseSizeTest, RejectsNonsense) {
  for (const char* bad : {"", "GiB", "0", "1XB", "-1GiB", "1.5GiB", "99999999999TiB"}) {
    EXPECT_EQ(ParseSize(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(FormatBytesTest, PicksTheUnit) {
  EXPECT_EQ(FormatBytes(100), "100 B");
  EXPECT_EQ(FormatBytes(64ULL << 20), "64.00 MiB");
  EXPECT_EQ(FormatBytes(512ULL << 20), "512.0 MiB");
  EXPECT_EQ(FormatBytes(1ULL << 30), "1.00 GiB");
}

TEST(MbpsTest, IsBytesPerMicrosecond) {
  EXPECT_DOUBLE_EQ(Mbps(1'000'000, 1'000'000), 1.0);
  EXPECT_DOUBLE_EQ(Mbps(5, 0), 0.0);
}

TEST(PickBlocksTest, DistinctSortedInRangeAndReproducible) {
  auto a = PickBlocks(7, 2048, 20);
  ASSERT_EQ(a.size(), 20u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<uint64_t>(a.begin(), a.end()).size(), 20u);
  EXPECT_LT(a.back(), 2048u);
  EXPECT_EQ(a, PickBlocks(7, 2048, 20));
  EXPECT_NE(a, PickBlocks(8, 2048, 20));
  EXPECT_EQ(PickBlocks(1, 5, 10).size(), 5u);  // capped by the block count
}

TEST(FillCompressibleTest, UniquePerSeedAndCompressible) {
  Bytes a(512 * 1024), b(512 * 1024);
  FillCompressible(1, a);
  FillCompressible(2, b);
  EXPECT_NE(a, b);
  Bytes again(a.size());
  FillCompressible(1, again);
  EXPECT_EQ(a, again);
  Bytes out(ZSTD_compressBound(a.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), a.data(), a.size(), 1);
  ASSERT_FALSE(ZSTD_isError(n));
  EXPECT_LT(n, a.size() / 2);   // compressible, like text
  EXPECT_GT(n, a.size() / 20);  // but not trivially so
}

}  // namespace
}  // namespace kiln::bench
