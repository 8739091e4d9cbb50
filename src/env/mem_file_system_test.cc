// MemFileSystem without crashes: POSIX semantics, paths, sparse files, fault injection,
// concurrency, and a randomized comparison against a byte-string model. The crash model is
// tested in mem_file_system_crash_test.cc.
#include "env/mem_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace kiln {
namespace {

constexpr uint64_t kTiB = uint64_t{1} << 40;

std::unique_ptr<File> MustOpen(FileSystem& fs, const std::string& path, OpenMode mode) {
  Result<std::unique_ptr<File>> f = fs.Open(path, mode);
  EXPECT_TRUE(f.ok()) << path << ": " << f.status().ToString();
  return f.ok() ? std::move(f).value() : nullptr;
}

void WriteString(FileSystem& fs, const std::string& path, const std::string& data) {
  auto f = MustOpen(fs, path, OpenMode::kTruncate);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->WriteAt(0, AsBytes(data)).ok());
}

// The whole file as a string, or "<error: ...>".
std::string ReadString(FileSystem& fs, const std::string& path) {
  Result<std::unique_ptr<File>> f = fs.Open(path, OpenMode::kRead);
  if (!f.ok()) return "<error: " + f.status().ToString() + ">";
  Result<uint64_t> size = (*f)->Size();
  if (!size.ok()) return "<error: " + size.status().ToString() + ">";
  std::string s(*size, '\0');
  Result<size_t> n =
      (*f)->ReadAt(0, MutableByteView(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  if (!n.ok()) return "<error: " + n.status().ToString() + ">";
  s.resize(*n);
  return s;
}

std::vector<std::string> Sorted(Result<std::vector<std::string>> names) {
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  if (!names.ok()) return {};
  std::sort(names->begin(), names->end());
  return *names;
}

using Names = std::vector<std::string>;

TEST(MemFileSystemTest, OpenModes) {
  MemFileSystem fs;
  EXPECT_EQ(fs.Open("f", OpenMode::kRead).status().code(), Code::kNotFound);
  EXPECT_EQ(fs.Open("f", OpenMode::kReadWrite).status().code(), Code::kNotFound);
  WriteString(fs, "f", "hello");
  EXPECT_EQ(fs.Open("f", OpenMode::kCreateExclusive).status().code(), Code::kAlreadyExists);
  MustOpen(fs, "f", OpenMode::kCreate);
  EXPECT_EQ(ReadString(fs, "f"), "hello");  // kCreate keeps an existing file
  MustOpen(fs, "f", OpenMode::kTruncate);
  EXPECT_EQ(ReadString(fs, "f"), "");
  auto g = MustOpen(fs, "g", OpenMode::kCreateExclusive);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(*g->Size(), 0u);
}

TEST(MemFileSystemTest, ReadOnlyHandleRejectsWrites) {
  MemFileSystem fs;
  WriteString(fs, "f", "abc");
  auto f = MustOpen(fs, "f", OpenMode::kRead);
  EXPECT_EQ(f->WriteAt(0, AsBytes("x")).code(), Code::kIoError);
  EXPECT_EQ(f->PunchHole(0, 1).code(), Code::kIoError);
  EXPECT_EQ(f->Truncate(0).code(), Code::kIoError);
  EXPECT_TRUE(f->Sync().ok());  // fdatasync works on a read-only descriptor too
  EXPECT_EQ(f->fd(), -1);
  EXPECT_EQ(ReadString(fs, "f"), "abc");
}

TEST(MemFileSystemTest, ReadsStopAtEndAndHolesAreZero) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(10000, AsBytes("xyz")).ok());
  EXPECT_EQ(*f->Size(), 10003u);
  Bytes buf(20000, 0xee);
  Result<size_t> n = f->ReadAt(0, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10003u);
  EXPECT_TRUE(IsAllZero(ByteView(buf).first(10000)));
  EXPECT_EQ(AsString(ByteView(buf).subspan(10000, 3)), "xyz");
  EXPECT_EQ(buf[10003], 0xee);  // past the end: untouched
  EXPECT_EQ(*f->ReadAt(10003, buf), 0u);
  EXPECT_EQ(*f->ReadAt(kTiB, buf), 0u);
  ASSERT_TRUE(f->WriteAt(50000, ByteView()).ok());  // an empty write does not grow the file
  EXPECT_EQ(*f->Size(), 10003u);
}

TEST(MemFileSystemTest, OffsetsPastOffTAreInvalid) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  EXPECT_EQ(f->WriteAt(UINT64_MAX - 1, AsBytes("ab")).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->WriteAt(uint64_t{1} << 63, AsBytes("a")).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->Truncate(UINT64_MAX).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->PunchHole(1, UINT64_MAX).code(), Code::kInvalidArgument);
}

TEST(MemFileSystemTest, PathsAreNormalized) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("a").ok());
  ASSERT_TRUE(fs.CreateDir("/a/b/").ok());
  WriteString(fs, "a//b///f", "data");
  for (const char* p : {"a/b/f", "/a/b/f", "./a/./b/f", "a/c/../b/f", "//a/b/f"}) {
    EXPECT_EQ(ReadString(fs, p), "data") << p;
  }
  for (const char* root : {"", "/", ".", "//", "/.."}) {
    Result<FileInfo> info = fs.Stat(root);
    ASSERT_TRUE(info.ok()) << root;
    EXPECT_TRUE(info->is_dir) << root;
    EXPECT_EQ(Sorted(fs.ListDir(root)), Names{"a"}) << root;
  }
  EXPECT_EQ(fs.CreateDir("/").code(), Code::kAlreadyExists);
  EXPECT_FALSE(fs.RemoveDir("/").ok());
}

TEST(MemFileSystemTest, Directories) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  EXPECT_EQ(fs.CreateDir("d").code(), Code::kAlreadyExists);
  EXPECT_EQ(fs.CreateDir("missing/d").code(), Code::kNotFound);
  EXPECT_EQ(fs.ListDir("missing").status().code(), Code::kNotFound);
  EXPECT_EQ(Sorted(fs.ListDir("d")), Names{});
  WriteString(fs, "d/f1", "1");
  ASSERT_TRUE(fs.CreateDir("d/sub").ok());
  EXPECT_EQ(Sorted(fs.ListDir("d")), (Names{"f1", "sub"}));
  EXPECT_EQ(fs.CreateDir("d/f1").code(), Code::kAlreadyExists);
  EXPECT_EQ(fs.RemoveDir("d").code(), Code::kIoError);     // not empty
  EXPECT_EQ(fs.RemoveDir("d/f1").code(), Code::kIoError);  // not a directory
  EXPECT_EQ(fs.RemoveDir("d/nope").code(), Code::kNotFound);
  ASSERT_TRUE(fs.RemoveDir("d/sub").ok());
  ASSERT_TRUE(fs.Remove("d/f1").ok());
  ASSERT_TRUE(fs.RemoveDir("d").ok());
  EXPECT_EQ(fs.Stat("d").status().code(), Code::kNotFound);
}

TEST(MemFileSystemTest, FilesAndDirectoriesDoNotMix) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  WriteString(fs, "f", "x");
  EXPECT_EQ(fs.Open("d", OpenMode::kRead).status().code(), Code::kIoError);
  EXPECT_EQ(fs.Open("d", OpenMode::kCreate).status().code(), Code::kIoError);
  EXPECT_EQ(fs.Remove("d").code(), Code::kIoError);
  EXPECT_EQ(fs.ListDir("f").status().code(), Code::kIoError);
  EXPECT_EQ(fs.SyncDir("f").code(), Code::kIoError);
  // A file used as a directory: ENOTDIR, not ENOENT.
  EXPECT_EQ(fs.Open("f/x", OpenMode::kCreate).status().code(), Code::kIoError);
  EXPECT_EQ(fs.Stat("f/x").status().code(), Code::kIoError);
  EXPECT_EQ(fs.SyncDir("missing").code(), Code::kNotFound);
}

TEST(MemFileSystemTest, StatReportsSizeAndAllocation) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(4096 * 3 + 100, Bytes(10, 1)).ok());
  Result<FileInfo> info = fs.Stat("f");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_dir);
  EXPECT_EQ(info->size, 4096u * 3 + 110);
  EXPECT_EQ(info->allocated_bytes, 4096u);
  EXPECT_EQ(fs.Stat("nope").status().code(), Code::kNotFound);
}

TEST(MemFileSystemTest, PermissionsDefaultAndChange) {
  MemFileSystem fs;
  WriteString(fs, "f", "x");
  ASSERT_TRUE(fs.CreateDir("d").ok());
  EXPECT_EQ(fs.Stat("f")->mode, 0644u);
  EXPECT_EQ(fs.Stat("d")->mode, 0755u);
  EXPECT_EQ(fs.Stat("/")->mode, 0755u);
  ASSERT_TRUE(fs.SetPermissions("d", 0700).ok());
  ASSERT_TRUE(fs.SetPermissions("/", 0711).ok());
  EXPECT_EQ(fs.Stat("d")->mode, 0700u);
  EXPECT_EQ(fs.Stat(".")->mode, 0711u);
  ASSERT_TRUE(fs.Link("f", "d/g").ok());
  ASSERT_TRUE(fs.SetPermissions("d/g", 0400).ok());
  EXPECT_EQ(fs.Stat("f")->mode, 0400u);                              // one inode, one mode
  EXPECT_EQ(fs.SetPermissions("f/x", 0600).code(), Code::kIoError);  // ENOTDIR
  fs.FailNext("f", IoError("EPERM"));
  EXPECT_EQ(fs.SetPermissions("f", 0600).message(), "EPERM");
  EXPECT_EQ(fs.Stat("f")->mode, 0400u);  // a failed call changes nothing
}

TEST(MemFileSystemTest, RenameReplacesAtomically) {
  MemFileSystem fs;
  WriteString(fs, "a", "new");
  WriteString(fs, "b", "old");
  auto old_handle = MustOpen(fs, "b", OpenMode::kRead);
  ASSERT_TRUE(fs.Rename("a", "b").ok());
  EXPECT_EQ(ReadString(fs, "b"), "new");
  EXPECT_EQ(fs.Stat("a").status().code(), Code::kNotFound);
  uint8_t c[3];
  EXPECT_EQ(*old_handle->ReadAt(0, c), 3u);  // the replaced file lives on while open
  EXPECT_EQ(AsString(c), "old");
}

TEST(MemFileSystemTest, RenameErrors) {
  MemFileSystem fs;
  WriteString(fs, "f", "x");
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.CreateDir("e").ok());
  WriteString(fs, "e/g", "y");
  EXPECT_EQ(fs.Rename("missing", "z").code(), Code::kNotFound);
  EXPECT_EQ(fs.Rename("f", "nodir/z").code(), Code::kNotFound);
  EXPECT_EQ(fs.Rename("f", "d").code(), Code::kIoError);  // file over a directory
  EXPECT_EQ(fs.Rename("d", "f").code(), Code::kIoError);  // directory over a file
  EXPECT_EQ(fs.Rename("d", "e").code(), Code::kIoError);  // over a non-empty directory
  EXPECT_EQ(fs.Rename("d", "d/inner").code(), Code::kIoError);
  EXPECT_TRUE(fs.Rename("f", "f").ok());
  EXPECT_EQ(ReadString(fs, "f"), "x");
  ASSERT_TRUE(fs.Rename("e", "d").ok());  // over an empty directory
  EXPECT_EQ(ReadString(fs, "d/g"), "y");
  EXPECT_EQ(fs.Stat("e").status().code(), Code::kNotFound);
}

TEST(MemFileSystemTest, RenameOfHardLinksToOneFileDoesNothing) {
  MemFileSystem fs;
  WriteString(fs, "a", "x");
  ASSERT_TRUE(fs.Link("a", "b").ok());
  ASSERT_TRUE(fs.Rename("a", "b").ok());
  EXPECT_EQ(ReadString(fs, "a"), "x");
  EXPECT_EQ(ReadString(fs, "b"), "x");
}

TEST(MemFileSystemTest, HardLinksShareOneFile) {
  MemFileSystem fs;
  WriteString(fs, "a", "one");
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.Link("a", "d/b").ok());
  EXPECT_EQ(fs.Link("a", "d/b").code(), Code::kAlreadyExists);
  EXPECT_EQ(fs.Link("missing", "c").code(), Code::kNotFound);
  EXPECT_EQ(fs.Link("a", "nodir/c").code(), Code::kNotFound);
  EXPECT_EQ(fs.Link("d", "c").code(), Code::kIoError);
  auto f = MustOpen(fs, "d/b", OpenMode::kReadWrite);
  ASSERT_TRUE(f->WriteAt(0, AsBytes("ONE")).ok());
  EXPECT_EQ(ReadString(fs, "a"), "ONE");
  ASSERT_TRUE(fs.Remove("a").ok());
  EXPECT_EQ(ReadString(fs, "d/b"), "ONE");
}

TEST(MemFileSystemTest, RemoveMissingIsNotFound) {
  MemFileSystem fs;
  EXPECT_EQ(fs.Remove("x").code(), Code::kNotFound);
  EXPECT_EQ(fs.Remove("nodir/x").code(), Code::kNotFound);
}

TEST(MemFileSystemTest, PunchHoleZerosAndFreesPages) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(0, Bytes(5 * 4096, 0xab)).ok());
  EXPECT_EQ(fs.Stat("f")->allocated_bytes, 5u * 4096);
  ASSERT_TRUE(f->PunchHole(100, 3 * 4096).ok());  // partial, two whole pages, partial
  EXPECT_EQ(*f->Size(), 5u * 4096);
  EXPECT_EQ(fs.Stat("f")->allocated_bytes, 3u * 4096);
  Bytes buf(5 * 4096);
  ASSERT_EQ(*f->ReadAt(0, buf), buf.size());
  for (size_t i = 0; i < buf.size(); ++i) {
    const bool hole = i >= 100 && i < 100 + 3 * 4096;
    ASSERT_EQ(buf[i], hole ? 0 : 0xab) << i;
  }
  ASSERT_TRUE(f->PunchHole(0, 100 * 4096).ok());  // past the end: size kept
  EXPECT_EQ(*f->Size(), 5u * 4096);
  EXPECT_EQ(fs.Stat("f")->allocated_bytes, 0u);
}

TEST(MemFileSystemTest, TruncateShrinksAndGrowsWithZeros) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(0, Bytes(10000, 7)).ok());
  ASSERT_TRUE(f->Truncate(5000).ok());
  EXPECT_EQ(fs.Stat("f")->allocated_bytes, 2u * 4096);
  ASSERT_TRUE(f->Truncate(12000).ok());
  Bytes buf(12000);
  ASSERT_EQ(*f->ReadAt(0, buf), 12000u);
  for (size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf[i], i < 5000 ? 7 : 0) << i;
}

TEST(MemFileSystemTest, SparseFileAtOneTiBIsCheap) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "big", OpenMode::kCreate);
  ASSERT_TRUE(f->Truncate(16 * kTiB).ok());
  ASSERT_TRUE(f->WriteAt(kTiB, AsBytes("far away")).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->WriteAt(kTiB + 4090, Bytes(10, 1)).ok());  // straddles two pages
  ASSERT_TRUE(f->Sync().ok());
  EXPECT_EQ(*f->Size(), 16 * kTiB);
  EXPECT_EQ(fs.Stat("big")->allocated_bytes, 2u * 4096);
  Bytes buf(8);
  ASSERT_EQ(*f->ReadAt(kTiB, buf), 8u);
  EXPECT_EQ(AsString(buf), "far away");
  Bytes hole(1 << 20, 0xff);  // a read across a big hole costs a memset
  ASSERT_EQ(*f->ReadAt(8 * kTiB, hole), hole.size());
  EXPECT_TRUE(IsAllZero(hole));
  ASSERT_TRUE(f->Truncate(0).ok());
  EXPECT_EQ(fs.Stat("big")->allocated_bytes, 0u);
}

TEST(MemFileSystemTest, FreeBytes) {
  MemFileSystem fs;
  EXPECT_GE(*fs.FreeBytes("/"), kTiB);
  fs.set_free_bytes(12345);
  EXPECT_EQ(*fs.FreeBytes("/"), 12345u);
  EXPECT_EQ(fs.FreeBytes("missing").status().code(), Code::kNotFound);
}

TEST(MemFileSystemTest, FailNextFailsMatchingOpsThenStops) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("chunks").ok());
  auto f = MustOpen(fs, "chunks/ab", OpenMode::kCreate);
  auto other = MustOpen(fs, "other", OpenMode::kCreate);
  fs.FailNext("chunks/", IoError("EIO"), 2);
  EXPECT_TRUE(other->WriteAt(0, AsBytes("x")).ok());  // not matching
  EXPECT_TRUE(fs.Stat("chunks/ab").ok());             // Stat is never failed
  Status s = f->WriteAt(0, AsBytes("data"));
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(s.message(), "EIO");
  EXPECT_EQ(*f->Size(), 0u);                 // the failed write had no effect
  EXPECT_TRUE(fs.ListDir("/chunks/").ok());  // "/chunks" does not contain "chunks/"
  EXPECT_EQ(fs.Open("chunks//ab", OpenMode::kRead).status().message(), "EIO");
  EXPECT_TRUE(f->WriteAt(0, AsBytes("data")).ok());
  EXPECT_EQ(ReadString(fs, "chunks/ab"), "data");
}

TEST(MemFileSystemTest, FailNextOnNamespaceOps) {
  MemFileSystem fs;
  fs.FailNext("full", IoError("ENOSPC: no space left on device"));
  EXPECT_EQ(fs.CreateDir("full").message(), "ENOSPC: no space left on device");
  EXPECT_EQ(fs.Stat("full").status().code(), Code::kNotFound);  // no effect
  ASSERT_TRUE(fs.CreateDir("full").ok());
  WriteString(fs, "a", "x");
  fs.FailNext("/target", CorruptionError("bad"));
  EXPECT_EQ(fs.Rename("a", "target").code(), Code::kCorruption);  // either path matches
  EXPECT_TRUE(fs.Rename("a", "target").ok());
  fs.FailNext("target", IoError("EIO"));
  EXPECT_EQ(fs.Open("target", OpenMode::kRead).status().message(), "EIO");
  fs.FailNext("x", Status::Ok());     // ignored
  fs.FailNext("x", IoError("e"), 0);  // ignored
  EXPECT_TRUE(fs.CreateDir("x").ok());
}

TEST(MemFileSystemTest, ConcurrentIoFromEightThreads) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  auto shared = MustOpen(fs, "d/shared", OpenMode::kCreate);
  constexpr int kThreads = 8;
  constexpr int kBlocks = 64;
  constexpr size_t kBlock = 6000;  // not page-aligned: neighbours share pages
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = "d/own" + std::to_string(t);
      auto f = fs.Open(own, OpenMode::kCreate);
      ASSERT_TRUE(f.ok());
      for (int b = 0; b < kBlocks; ++b) {
        const Bytes data(kBlock, static_cast<uint8_t>(t * kBlocks + b));
        const uint64_t slot = static_cast<uint64_t>(b) * kThreads + t;
        ASSERT_TRUE(shared->WriteAt(slot * kBlock, data).ok());
        ASSERT_TRUE((*f)->WriteAt(b * kBlock, data).ok());
        if (b % 8 == 0) {
          ASSERT_TRUE(shared->Sync().ok());
        }
        ASSERT_TRUE(fs.SyncDir("d").ok());
        Bytes back(kBlock);
        ASSERT_EQ(*shared->ReadAt(slot * kBlock, back), kBlock);
        ASSERT_EQ(back, data);
      }
    });
  }
  for (auto& th : threads) th.join();
  Bytes buf(kBlock);
  for (uint64_t slot = 0; slot < uint64_t{kThreads} * kBlocks; ++slot) {
    ASSERT_EQ(*shared->ReadAt(slot * kBlock, buf), kBlock);
    const int t = static_cast<int>(slot % kThreads), b = static_cast<int>(slot / kThreads);
    ASSERT_EQ(buf, Bytes(kBlock, static_cast<uint8_t>(t * kBlocks + b))) << slot;
  }
  EXPECT_EQ(Sorted(fs.ListDir("d")).size(), static_cast<size_t>(kThreads) + 1);
}

uint64_t TestSeed() {
  if (const char* s = std::getenv("KILN_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// Random writes, holes, truncates, syncs and crashes on one file, checked against two strings:
// the current and the durable bytes.
TEST(MemFileSystemTest, RandomizedAgainstModel) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto rand = [&](uint64_t n) { return rng() % n; };
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  std::string current, durable;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t op = rand(100);
    const uint64_t offset = rand(40000);
    const uint64_t len = rand(100) < 10 ? rand(20000) : rand(5000);
    if (op < 40) {
      std::string data(len, '\0');
      const uint64_t base = rng();
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((base + i * 7) % 255 + 1);
      ASSERT_TRUE(f->WriteAt(offset, AsBytes(data)).ok());
      if (!data.empty()) {
        if (offset + len > current.size()) current.resize(offset + len, '\0');
        current.replace(offset, len, data);
      }
    } else if (op < 55) {
      ASSERT_TRUE(f->PunchHole(offset, len).ok());
      if (offset < current.size()) {
        const uint64_t n = std::min(len, current.size() - offset);
        current.replace(offset, n, std::string(n, '\0'));
      }
    } else if (op < 62) {
      ASSERT_TRUE(f->Truncate(offset).ok());
      current.resize(offset, '\0');
    } else if (op < 75) {
      ASSERT_TRUE(f->Sync().ok());
      durable = current;
    } else if (op < 80) {
      fs.Crash();
      current = durable;
      f = MustOpen(fs, "f", OpenMode::kReadWrite);
      ASSERT_NE(f, nullptr);
    } else {
      std::string got(len, '\x7f');
      Result<size_t> n =
          f->ReadAt(offset, MutableByteView(reinterpret_cast<uint8_t*>(got.data()), got.size()));
      ASSERT_TRUE(n.ok());
      const std::string want = offset < current.size() ? current.substr(offset, len) : "";
      ASSERT_EQ(*n, want.size()) << "step " << step;
      ASSERT_EQ(got.substr(0, *n), want) << "step " << step;
    }
    ASSERT_EQ(*f->Size(), current.size()) << "step " << step;
  }
  EXPECT_EQ(ReadString(fs, "f"), current);
}

}  // namespace
}  // namespace kiln
