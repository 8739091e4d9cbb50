// XtsFile: round trips at any offset and length, holes for zero sectors, ciphertext at rest.
#include "volume/xts_file.h"

#include <gtest/gtest.h>

#include <random>

#include "env/mem_file_system.h"

namespace kiln {
namespace {

XtsKey TestKey() {
  XtsKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  return key;
}

class XtsFileTest : public ::testing::Test {
 protected:
  std::unique_ptr<XtsFile> OpenXts(uint64_t first_sector = 0) {
    auto f = fs_.Open("/data", OpenMode::kCreate);
    EXPECT_TRUE(f.ok());
    return std::make_unique<XtsFile>(std::move(f).value(), TestKey(), first_sector);
  }
  Bytes Raw() { return ReadFile(fs_, "/data").value(); }
  MemFileSystem fs_;
};

TEST_F(XtsFileTest, RandomWritesReadBackAgainstAModel) {
  auto f = OpenXts();
  const uint64_t kSize = 64 * 1024 + 123;
  ASSERT_TRUE(f->Truncate(kSize).ok());
  Bytes model(kSize, 0);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    uint64_t len = 1 + rng() % 9000, off = rng() % (kSize - len);
    Bytes d(len);
    for (auto& b : d) b = static_cast<uint8_t>(rng() % 3 == 0 ? 0 : rng());
    if (rng() % 5 == 0) {
      ASSERT_TRUE(f->PunchHole(off, len).ok());
      std::fill(model.begin() + off, model.begin() + off + len, 0);
    } else {
      ASSERT_TRUE(f->WriteAt(off, d).ok());
      std::copy(d.begin(), d.end(), model.begin() + off);
    }
    uint64_t roff = rng() % kSize, rlen = 1 + rng() % (kSize - roff);
    Bytes got(rlen);
    auto n = f->ReadAt(roff, got);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, rlen);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), model.begin() + roff)) << "step " << i;
  }
  EXPECT_EQ(f->Size().value() % kXtsSectorSize, 0u);
}

TEST_F(XtsFileTest, PlaintextNeverRestsOnDiskAndZeroSectorsAreHoles) {
  auto f = OpenXts();
  const std::string marker = "KILN-AT-REST-MARKER-0123456789";
  Bytes d(3 * kXtsSectorSize, 0);
  for (size_t i = 0; i + marker.size() <= kXtsSectorSize; i += marker.size())
    std::copy(marker.begin(), marker.end(), d.begin() + i);  // sector 0 full of markers
  ASSERT_TRUE(f->WriteAt(0, d).ok());
  Bytes raw = Raw();
  ASSERT_EQ(raw.size(), 3 * kXtsSectorSize);
  EXPECT_EQ(std::search(raw.begin(), raw.end(), marker.begin(), marker.end()), raw.end());
  EXPECT_TRUE(IsAllZero(ByteView(raw).subspan(kXtsSectorSize)));  // zero sectors: holes
  EXPECT_FALSE(IsAllZero(ByteView(raw).first(kXtsSectorSize)));
}

TEST_F(XtsFileTest, TweakDependsOnTheSectorAndTheSegment) {
  Bytes d(2 * kXtsSectorSize, 0xab);
  {
    auto f = OpenXts();
    ASSERT_TRUE(f->WriteAt(0, d).ok());
  }
  Bytes a = Raw();
  EXPECT_FALSE(std::equal(a.begin(), a.begin() + kXtsSectorSize, a.begin() + kXtsSectorSize));
  ASSERT_TRUE(fs_.Remove("/data").ok());
  {
    auto f = OpenXts(/*first_sector=*/1000);
    ASSERT_TRUE(f->WriteAt(0, d).ok());
  }
  EXPECT_NE(Raw(), a);
}

}  // namespace
}  // namespace kiln
