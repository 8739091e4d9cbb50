// PosixFileSystem on a temporary directory, and a conformance suite run against both
// PosixFileSystem and MemFileSystem: the in-memory one must answer every call as the real one
// does, or crash tests would test a different program.
#include "env/posix_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "env/mem_file_system.h"
#include "env/env_testing.h"

namespace kiln {
namespace {

using env_testing::TempDir;

enum class Kind { kPosix, kMem };

class FileSystemConformanceTest : public testing::TestWithParam<Kind> {
 protected:
  FileSystemConformanceTest() {
    if (GetParam() == Kind::kPosix) {
      fs_ = std::make_unique<PosixFileSystem>();
      root_ = tmp_.path();
    } else {
      fs_ = std::make_unique<MemFileSystem>();
      root_ = "/work";
      EXPECT_TRUE(fs_->CreateDir(root_).ok());
    }
  }

  std::string P(const std::string& name) const { return JoinPath(root_, name); }

  std::unique_ptr<File> MustOpen(const std::string& name, OpenMode mode) {
    Result<std::unique_ptr<File>> f = fs_->Open(P(name), mode);
    EXPECT_TRUE(f.ok()) << name << ": " << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }

  void Write(const std::string& name, const std::string& data) {
    auto f = MustOpen(name, OpenMode::kTruncate);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->WriteAt(0, AsBytes(data)).ok());
    ASSERT_TRUE(f->Sync().ok());
  }

  std::string Read(const std::string& name) {
    Result<Bytes> b = ReadFile(*fs_, P(name));
    return b.ok() ? std::string(AsString(*b))
                  : "<" + std::string(CodeName(b.status().code())) + ">";
  }

  std::vector<std::string> List(const std::string& name) {
    Result<std::vector<std::string>> names = fs_->ListDir(P(name));
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    if (!names.ok()) return {};
    std::sort(names->begin(), names->end());
    return *names;
  }

  TempDir tmp_;
  std::unique_ptr<FileSystem> fs_;
  std::string root_;
};

TEST_P(FileSystemConformanceTest, OpenModes) {
  EXPECT_EQ(fs_->Open(P("f"), OpenMode::kRead).status().code(), Code::kNotFound);
  EXPECT_EQ(fs_->Open(P("f"), OpenMode::kReadWrite).status().code(), Code::kNotFound);
  EXPECT_EQ(fs_->Open(P("no/f"), OpenMode::kCreate).status().code(), Code::kNotFound);
  Write("f", "hello");
  EXPECT_EQ(fs_->Open(P("f"), OpenMode::kCreateExclusive).status().code(), Code::kAlreadyExists);
  MustOpen("f", OpenMode::kCreate);
  MustOpen("f", OpenMode::kReadWrite);
  EXPECT_EQ(Read("f"), "hello");
  MustOpen("f", OpenMode::kTruncate);
  EXPECT_EQ(Read("f"), "");
  EXPECT_NE(MustOpen("g", OpenMode::kCreateExclusive), nullptr);
}

TEST_P(FileSystemConformanceTest, ReadWriteHolesAndSize) {
  auto f = MustOpen("f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(100000, AsBytes("tail")).ok());
  ASSERT_TRUE(f->WriteAt(0, AsBytes("head")).ok());
  EXPECT_EQ(*f->Size(), 100004u);
  Bytes buf(200000, 0xee);
  ASSERT_EQ(*f->ReadAt(0, buf), 100004u);
  EXPECT_EQ(AsString(ByteView(buf).first(4)), "head");
  EXPECT_TRUE(IsAllZero(ByteView(buf).subspan(4, 100000 - 4)));
  EXPECT_EQ(AsString(ByteView(buf).subspan(100000, 4)), "tail");
  EXPECT_EQ(*f->ReadAt(100004, buf), 0u);
  EXPECT_EQ(*f->ReadAt(uint64_t{1} << 40, buf), 0u);
  ASSERT_TRUE(f->Sync().ok());
  Result<FileInfo> info = fs_->Stat(P("f"));
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_dir);
  EXPECT_EQ(info->size, 100004u);
  EXPECT_LT(info->allocated_bytes, 100004u);  // sparse
}

TEST_P(FileSystemConformanceTest, PunchHoleAndTruncate) {
  auto f = MustOpen("f", OpenMode::kCreate);
  ASSERT_TRUE(f->WriteAt(0, Bytes(64 * 1024, 0x5a)).ok());
  ASSERT_TRUE(f->Sync().ok());
  const uint64_t before = fs_->Stat(P("f"))->allocated_bytes;
  Status s = f->PunchHole(4096, 32 * 1024);
  if (s.code() == Code::kIoError && GetParam() == Kind::kPosix) {
    GTEST_SKIP() << "file system cannot punch holes: " << s.ToString();
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*f->Size(), 64u * 1024);
  EXPECT_LT(fs_->Stat(P("f"))->allocated_bytes, before);
  Bytes buf(64 * 1024);
  ASSERT_EQ(*f->ReadAt(0, buf), buf.size());
  for (size_t i = 0; i < buf.size(); ++i) {
    ASSERT_EQ(buf[i], i >= 4096 && i < 4096 + 32 * 1024 ? 0 : 0x5a) << i;
  }
  ASSERT_TRUE(f->Truncate(10).ok());
  ASSERT_TRUE(f->Truncate(5000).ok());
  ASSERT_EQ(*f->ReadAt(0, buf), 5000u);
  EXPECT_TRUE(IsAllZero(ByteView(buf).subspan(10, 4990)));
}

TEST_P(FileSystemConformanceTest, ReadOnlyHandle) {
  Write("f", "abc");
  auto f = MustOpen("f", OpenMode::kRead);
  EXPECT_EQ(f->WriteAt(0, AsBytes("x")).code(), Code::kIoError);
  EXPECT_EQ(f->Truncate(0).code(), Code::kIoError);
  EXPECT_EQ(f->PunchHole(0, 1).code(), Code::kIoError);
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_EQ(Read("f"), "abc");
}

TEST_P(FileSystemConformanceTest, OffsetsPastOffT) {
  auto f = MustOpen("f", OpenMode::kCreate);
  uint8_t b[1];
  EXPECT_EQ(f->WriteAt(uint64_t{1} << 63, AsBytes("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->WriteAt(INT64_MAX, AsBytes("xy")).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->PunchHole(1, UINT64_MAX).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->Truncate(UINT64_MAX).code(), Code::kInvalidArgument);
  EXPECT_EQ(f->ReadAt(UINT64_MAX, b).status().code(), Code::kInvalidArgument);
}

TEST_P(FileSystemConformanceTest, Directories) {
  ASSERT_TRUE(fs_->CreateDir(P("d")).ok());
  EXPECT_EQ(fs_->CreateDir(P("d")).code(), Code::kAlreadyExists);
  EXPECT_EQ(fs_->CreateDir(P("no/d")).code(), Code::kNotFound);
  EXPECT_EQ(fs_->ListDir(P("no")).status().code(), Code::kNotFound);
  EXPECT_TRUE(List("d").empty());  // no "." or ".."
  Write("d/f", "x");
  ASSERT_TRUE(fs_->CreateDir(P("d/e")).ok());
  EXPECT_EQ(List("d"), (std::vector<std::string>{"e", "f"}));
  EXPECT_EQ(fs_->CreateDir(P("d/f")).code(), Code::kAlreadyExists);
  EXPECT_EQ(fs_->RemoveDir(P("d")).code(), Code::kIoError);
  EXPECT_EQ(fs_->RemoveDir(P("d/f")).code(), Code::kIoError);
  EXPECT_EQ(fs_->RemoveDir(P("d/none")).code(), Code::kNotFound);
  EXPECT_TRUE(fs_->SyncDir(P("d")).ok());
  EXPECT_EQ(fs_->SyncDir(P("none")).code(), Code::kNotFound);
  EXPECT_EQ(fs_->SyncDir(P("d/f")).code(), Code::kIoError);
  EXPECT_EQ(fs_->ListDir(P("d/f")).status().code(), Code::kIoError);
  Result<FileInfo> info = fs_->Stat(P("d"));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_dir);
  ASSERT_TRUE(fs_->RemoveDir(P("d/e")).ok());
  ASSERT_TRUE(fs_->Remove(P("d/f")).ok());
  ASSERT_TRUE(fs_->RemoveDir(P("d")).ok());
  EXPECT_EQ(fs_->Stat(P("d")).status().code(), Code::kNotFound);
}

TEST_P(FileSystemConformanceTest, FilesAndDirectoriesDoNotMix) {
  ASSERT_TRUE(fs_->CreateDir(P("d")).ok());
  Write("f", "x");
  EXPECT_EQ(fs_->Open(P("d"), OpenMode::kRead).status().code(), Code::kIoError);
  EXPECT_EQ(fs_->Open(P("d"), OpenMode::kCreate).status().code(), Code::kIoError);
  EXPECT_EQ(fs_->Remove(P("d")).code(), Code::kIoError);
  EXPECT_EQ(fs_->Link(P("d"), P("d2")).code(), Code::kIoError);
  EXPECT_EQ(fs_->Open(P("f/x"), OpenMode::kCreate).status().code(), Code::kIoError);
  EXPECT_EQ(fs_->Stat(P("f/x")).status().code(), Code::kIoError);
}

TEST_P(FileSystemConformanceTest, Rename) {
  Write("a", "new");
  Write("b", "old");
  ASSERT_TRUE(fs_->Rename(P("a"), P("b")).ok());
  EXPECT_EQ(Read("b"), "new");
  EXPECT_EQ(Read("a"), "<NotFound>");
  EXPECT_EQ(fs_->Rename(P("a"), P("c")).code(), Code::kNotFound);
  EXPECT_EQ(fs_->Rename(P("b"), P("no/c")).code(), Code::kNotFound);
  EXPECT_TRUE(fs_->Rename(P("b"), P("b")).ok());
  ASSERT_TRUE(fs_->CreateDir(P("d")).ok());
  ASSERT_TRUE(fs_->CreateDir(P("e")).ok());
  Write("e/x", "1");
  EXPECT_EQ(fs_->Rename(P("b"), P("d")).code(), Code::kIoError);
  EXPECT_EQ(fs_->Rename(P("d"), P("b")).code(), Code::kIoError);
  EXPECT_EQ(fs_->Rename(P("d"), P("e")).code(), Code::kIoError);
  EXPECT_EQ(fs_->Rename(P("d"), P("d/sub")).code(), Code::kIoError);
  ASSERT_TRUE(fs_->Rename(P("e"), P("d")).ok());
  EXPECT_EQ(Read("d/x"), "1");
  ASSERT_TRUE(fs_->Link(P("b"), P("b2")).ok());
  ASSERT_TRUE(fs_->Rename(P("b"), P("b2")).ok());  // one file: nothing happens
  EXPECT_EQ(Read("b"), "new");
  EXPECT_EQ(Read("b2"), "new");
}

TEST_P(FileSystemConformanceTest, LinkAndRemove) {
  Write("a", "one");
  ASSERT_TRUE(fs_->Link(P("a"), P("b")).ok());
  EXPECT_EQ(fs_->Link(P("a"), P("b")).code(), Code::kAlreadyExists);
  EXPECT_EQ(fs_->Link(P("none"), P("c")).code(), Code::kNotFound);
  EXPECT_EQ(fs_->Link(P("a"), P("no/c")).code(), Code::kNotFound);
  auto f = MustOpen("b", OpenMode::kReadWrite);
  ASSERT_TRUE(f->WriteAt(0, AsBytes("ONE")).ok());
  EXPECT_EQ(Read("a"), "ONE");
  ASSERT_TRUE(fs_->Remove(P("a")).ok());
  EXPECT_EQ(fs_->Remove(P("a")).code(), Code::kNotFound);
  EXPECT_EQ(Read("b"), "ONE");
  // An open file outlives its last name.
  ASSERT_TRUE(fs_->Remove(P("b")).ok());
  uint8_t buf[3];
  EXPECT_EQ(*f->ReadAt(0, buf), 3u);
  EXPECT_EQ(fs_->Stat(P("b")).status().code(), Code::kNotFound);
}

TEST_P(FileSystemConformanceTest, FreeBytes) {
  Result<uint64_t> free = fs_->FreeBytes(root_);
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
  EXPECT_EQ(fs_->FreeBytes(P("none")).status().code(), Code::kNotFound);
}

TEST_P(FileSystemConformanceTest, ConcurrentPositionalWrites) {
  auto f = MustOpen("f", OpenMode::kCreate);
  constexpr int kThreads = 8;
  constexpr size_t kChunk = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 16; ++i) {
        const uint64_t slot = static_cast<uint64_t>(i) * kThreads + t;
        EXPECT_TRUE(f->WriteAt(slot * kChunk, Bytes(kChunk, static_cast<uint8_t>(slot))).ok());
      }
      EXPECT_TRUE(f->Sync().ok());
    });
  }
  for (auto& th : threads) th.join();
  Bytes buf(kChunk);
  for (uint64_t slot = 0; slot < 16 * kThreads; ++slot) {
    ASSERT_EQ(*f->ReadAt(slot * kChunk, buf), kChunk);
    ASSERT_EQ(buf, Bytes(kChunk, static_cast<uint8_t>(slot))) << slot;
  }
}

TEST_P(FileSystemConformanceTest, SetPermissionsOfFilesAndDirectories) {
  Write("f", "secret");
  ASSERT_TRUE(fs_->CreateDir(P("d")).ok());
  ASSERT_TRUE(fs_->SetPermissions(P("f"), 0600).ok());
  ASSERT_TRUE(fs_->SetPermissions(P("d"), 0700).ok());
  EXPECT_EQ(fs_->Stat(P("f"))->mode, 0600u);
  EXPECT_EQ(fs_->Stat(P("d"))->mode, 0700u);
  ASSERT_TRUE(fs_->SetPermissions(P("f"), 0640 | 0170000).ok());  // only the low 12 bits count
  EXPECT_EQ(fs_->Stat(P("f"))->mode, 0640u);
  EXPECT_EQ(Read("f"), "secret");  // contents untouched
  EXPECT_EQ(fs_->SetPermissions(P("none"), 0600).code(), Code::kNotFound);
  EXPECT_EQ(fs_->SetPermissions(P("none/f"), 0600).code(), Code::kNotFound);
}

TEST_P(FileSystemConformanceTest, RenameKeepsPermissions) {
  Write("f", "x");
  ASSERT_TRUE(fs_->SetPermissions(P("f"), 0600).ok());
  Write("g", "old");
  ASSERT_TRUE(fs_->Rename(P("f"), P("g")).ok());
  EXPECT_EQ(fs_->Stat(P("g"))->mode, 0600u);
}

TEST_P(FileSystemConformanceTest, WriteFileAtomicPrivateIsOwnerOnly) {
  ASSERT_TRUE(WriteFileAtomic(*fs_, P("f"), AsBytes("public")).ok());
  ASSERT_TRUE(fs_->SetPermissions(P("f"), 0644).ok());  // readable by all, whatever the umask
  ASSERT_TRUE(WriteFileAtomicPrivate(*fs_, P("f"), AsBytes("private")).ok());
  EXPECT_EQ(fs_->Stat(P("f"))->mode, 0600u);
  EXPECT_EQ(Read("f"), "private");
  ASSERT_TRUE(WriteFileAtomicPrivate(*fs_, P("new"), AsBytes("fresh")).ok());
  EXPECT_EQ(fs_->Stat(P("new"))->mode, 0600u);
  EXPECT_EQ(List(""), (std::vector<std::string>{"f", "new"}));  // no temp file left
}

INSTANTIATE_TEST_SUITE_P(Both, FileSystemConformanceTest, testing::Values(Kind::kPosix, Kind::kMem),
                         [](const testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kPosix ? "Posix" : "Mem";
                         });

// --- PosixFileSystem only ---

TEST(PosixFileSystemTest, DescriptorsAreCloseOnExec) {
  TempDir tmp;
  PosixFileSystem fs;
  Result<std::unique_ptr<File>> f = fs.Open(JoinPath(tmp.path(), "f"), OpenMode::kCreate);
  ASSERT_TRUE(f.ok());
  const int fd = (*f)->fd();
  ASSERT_GE(fd, 0);
  const int flags = ::fcntl(fd, F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_NE(flags & FD_CLOEXEC, 0);
}

TEST(PosixFileSystemTest, ClosingTheFileReleasesTheDescriptor) {
  TempDir tmp;
  PosixFileSystem fs;
  int fd;
  {
    Result<std::unique_ptr<File>> f = fs.Open(JoinPath(tmp.path(), "f"), OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    fd = (*f)->fd();
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST(PosixFileSystemTest, DataIsVisibleToAnotherInstance) {
  TempDir tmp;
  const std::string path = JoinPath(tmp.path(), "f");
  {
    PosixFileSystem fs;
    ASSERT_TRUE(WriteFileAtomic(fs, path, AsBytes("persisted")).ok());
  }
  PosixFileSystem other;
  Result<Bytes> b = ReadFile(other, path);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(AsString(*b), "persisted");
}

TEST(PosixFileSystemTest, ErrorsNameThePath) {
  PosixFileSystem fs;
  Status s = fs.Open("/nonexistent-kiln-dir/f", OpenMode::kRead).status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent-kiln-dir/f"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace kiln
