#include "volume/bitmap.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "env/mem_file_system.h"
#include "volume/epoch_lock.h"

namespace kiln {
namespace {

constexpr uint64_t kPageBits = Bitmap::kPageBytes * 8;

TEST(BitmapTest, SetClearTestCount) {
  Bitmap b(200);
  EXPECT_EQ(b.size(), 200u);
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_TRUE(b.Set(0));
  EXPECT_FALSE(b.Set(0));
  EXPECT_TRUE(b.Set(63));
  EXPECT_TRUE(b.Set(64));
  EXPECT_TRUE(b.Set(199));
  EXPECT_TRUE(b.Test(63));
  EXPECT_FALSE(b.Test(62));
  EXPECT_EQ(b.Count(), 4u);
  EXPECT_TRUE(b.Clear(63));
  EXPECT_FALSE(b.Clear(63));
  EXPECT_EQ(b.SetBits(), (std::vector<uint64_t>{0, 64, 199}));
  EXPECT_EQ(b.NextSet(1), 64u);
  EXPECT_EQ(b.NextSet(65), 199u);
  EXPECT_EQ(b.NextSet(200), 200u);
  b.ClearAll();
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_EQ(b.NextSet(0), 200u);
}

TEST(BitmapTest, EmptyAndResize) {
  Bitmap empty(0);
  EXPECT_EQ(empty.Count(), 0u);
  EXPECT_EQ(empty.NextSet(0), 0u);
  EXPECT_TRUE(empty.TakeChanges().empty());

  Bitmap b(70);
  b.Set(3);
  b.Set(69);
  b.Resize(kPageBits * 3 + 5);
  EXPECT_EQ(b.size(), kPageBits * 3 + 5);
  EXPECT_EQ(b.SetBits(), (std::vector<uint64_t>{3, 69}));
  EXPECT_TRUE(b.Set(kPageBits * 3 + 4));
  EXPECT_EQ(b.Count(), 3u);
}

class BitmapFileTest : public ::testing::Test {
 protected:
  std::unique_ptr<File> NewFile(uint64_t size) {
    auto f = fs_.Open("/bits", OpenMode::kTruncate);
    EXPECT_TRUE(f.ok());
    EXPECT_TRUE((*f)->Truncate(size).ok());
    return std::move(f).value();
  }
  static void Save(Bitmap& b, File& f) {
    auto pages = b.TakeChanges();
    ASSERT_TRUE(Bitmap::WriteChanges(f, pages).ok());
  }
  MemFileSystem fs_;
};

TEST_F(BitmapFileTest, SavesOnlyChangedPagesAndLoadsBack) {
  const uint64_t bits = kPageBits * 4 + 100;  // 4 full pages and a short one
  auto file = NewFile(Bitmap::FileBytes(bits));
  Bitmap b(bits);
  EXPECT_TRUE(b.TakeChanges().empty());  // a fresh map agrees with a zeroed file
  b.Set(5);
  b.Set(kPageBits * 2 + 7);
  b.Set(bits - 1);
  auto pages = b.TakeChanges();
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].index, 0u);
  EXPECT_EQ(pages[1].index, 2u);
  EXPECT_EQ(pages[2].index, 4u);
  EXPECT_EQ(pages[0].bytes.size(), Bitmap::kPageBytes);
  EXPECT_EQ(pages[2].bytes.size(), Bitmap::FileBytes(bits) - 4 * Bitmap::kPageBytes);
  ASSERT_TRUE(Bitmap::WriteChanges(*file, pages).ok());
  EXPECT_TRUE(b.TakeChanges().empty());

  // Bit i is byte i / 8, bit i % 8.
  uint8_t byte = 0;
  ASSERT_TRUE(ReadExactly(*file, 0, MutableByteView(&byte, 1)).ok());
  EXPECT_EQ(byte, 1 << 5);

  b.Clear(5);
  pages = b.TakeChanges();
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_TRUE(Bitmap::WriteChanges(*file, pages).ok());

  auto loaded = Bitmap::Load(*file, bits);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->SetBits(), (std::vector<uint64_t>{kPageBits * 2 + 7, bits - 1}));
  EXPECT_TRUE(loaded->TakeChanges().empty());
  loaded->MarkAllChanged();
  EXPECT_EQ(loaded->TakeChanges().size(), 5u);
}

TEST_F(BitmapFileTest, MarkChangedRetriesAFailedSave) {
  auto file = NewFile(Bitmap::FileBytes(kPageBits * 2));
  Bitmap b(kPageBits * 2);
  b.Set(kPageBits + 1);
  auto pages = b.TakeChanges();
  fs_.FailNext("/bits", IoError("injected"));
  EXPECT_FALSE(Bitmap::WriteChanges(*file, pages).ok());
  b.MarkChanged(pages);
  Save(b, *file);
  auto loaded = Bitmap::Load(*file, kPageBits * 2);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->Test(kPageBits + 1));
}

TEST_F(BitmapFileTest, LoadRejectsWrongSizes) {
  auto file = NewFile(9);
  auto short_load = Bitmap::Load(*file, 100);  // needs 13 bytes
  ASSERT_FALSE(short_load.ok());
  EXPECT_EQ(short_load.status().code(), Code::kCorruption);
  EXPECT_NE(short_load.status().message().find("expected 13"), std::string::npos);

  // Longer with a zero excess (an interrupted grow) is fine; bits past the end are ignored.
  ASSERT_TRUE(file->Truncate(20).ok());
  const uint8_t last = 0xff;
  ASSERT_TRUE(file->WriteAt(12, ByteView(&last, 1)).ok());
  auto ok = Bitmap::Load(*file, 100);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->Count(), 4u);  // bits 96..99

  ASSERT_TRUE(file->WriteAt(17, ByteView(&last, 1)).ok());
  auto bad = Bitmap::Load(*file, 100);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
}

// Setters race a saver; after a last save the file holds every bit.
TEST_F(BitmapFileTest, ConcurrentSetsAreNeverLostBySaves) {
  const uint64_t bits = kPageBits * 8;
  auto file = NewFile(Bitmap::FileBytes(bits));
  Bitmap b(bits);
  std::atomic<bool> stop{false};
  std::thread saver([&] {
    while (!stop.load()) Save(b, *file);
  });
  std::vector<std::thread> setters;
  for (int t = 0; t < 4; ++t) {
    setters.emplace_back([&, t] {
      for (uint64_t i = t; i < bits; i += 4 * 37) b.Set(i);
    });
  }
  for (auto& t : setters) t.join();
  stop = true;
  saver.join();
  Save(b, *file);
  auto loaded = Bitmap::Load(*file, bits);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->SetBits(), b.SetBits());
  EXPECT_GT(b.Count(), 0u);
}

// A waiting exclusive locker gets in although shared holders overlap without pause.
TEST(EpochLockTest, ExclusiveIsNotStarvedAndExcludes) {
  EpochLock lock;
  std::atomic<bool> stop{false};
  std::atomic<int> inside{0};
  std::atomic<bool> violated{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_lock l(lock);
        if (inside.load() < 0) violated = true;
        std::this_thread::yield();
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    std::lock_guard l(lock);
    inside = -1;
    std::this_thread::yield();
    inside = 0;
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_FALSE(violated.load());
}

}  // namespace
}  // namespace kiln
