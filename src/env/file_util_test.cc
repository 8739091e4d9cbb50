// The helpers of file_util.cc, with their durability promises checked by crashing a
// MemFileSystem at every point.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "env/file_system.h"
#include "env/mem_file_system.h"

namespace kiln {
namespace {

TEST(PathTest, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("/x/y", "b/c"), "/x/y/b/c");
}

TEST(PathTest, DirName) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName(""), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("/"), "/");
  EXPECT_EQ(DirName("//"), "/");
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("a/b/"), "a");  // trailing slashes do not count
  EXPECT_EQ(DirName("a//b"), "a");  // nor repeated ones at the split
  EXPECT_EQ(DirName("//a"), "/");
  EXPECT_EQ(DirName("a/"), ".");
}

TEST(PathTest, BaseName) {
  EXPECT_EQ(BaseName("a/b/c"), "c");
  EXPECT_EQ(BaseName("c"), "c");
  EXPECT_EQ(BaseName("/c"), "c");
  EXPECT_EQ(BaseName("a/b/"), "b");
  EXPECT_EQ(BaseName("/"), "/");
  EXPECT_EQ(BaseName(""), "");
}

TEST(PathTest, DirNameAndBaseNameRejoin) {
  for (const char* p : {"a/b/c", "/a/b", "/a", "x/y"}) {
    EXPECT_EQ(JoinPath(DirName(p), BaseName(p)), p);
  }
}

std::string Contents(FileSystem& fs, const std::string& path) {
  Result<Bytes> b = ReadFile(fs, path);
  return b.ok() ? std::string(AsString(*b)) : "<" + std::string(CodeName(b.status().code())) + ">";
}

TEST(FileUtilTest, ExistsAndReadFile) {
  MemFileSystem fs;
  EXPECT_FALSE(Exists(fs, "f"));
  EXPECT_TRUE(Exists(fs, "/"));
  EXPECT_EQ(ReadFile(fs, "f").status().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(fs, "f", AsBytes("content")).ok());
  EXPECT_TRUE(Exists(fs, "f"));
  EXPECT_EQ(Contents(fs, "f"), "content");
  ASSERT_TRUE(WriteFileAtomic(fs, "empty", ByteView()).ok());
  EXPECT_EQ(Contents(fs, "empty"), "");
}

TEST(FileUtilTest, ReadExactly) {
  MemFileSystem fs;
  ASSERT_TRUE(WriteFileAtomic(fs, "f", AsBytes("0123456789")).ok());
  auto f = fs.Open("f", OpenMode::kRead);
  ASSERT_TRUE(f.ok());
  Bytes buf(4);
  ASSERT_TRUE(ReadExactly(**f, 3, buf).ok());
  EXPECT_EQ(AsString(buf), "3456");
  ASSERT_TRUE(ReadExactly(**f, 6, buf).ok());
  EXPECT_EQ(AsString(buf), "6789");
  Status s = ReadExactly(**f, 7, buf);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("short read"), std::string::npos);
  EXPECT_EQ(ReadExactly(**f, 100, buf).code(), Code::kCorruption);
  EXPECT_TRUE(ReadExactly(**f, 100, MutableByteView()).ok());
}

TEST(FileUtilTest, ReadExactlyPassesErrorsThrough) {
  MemFileSystem fs;
  ASSERT_TRUE(WriteFileAtomic(fs, "f", AsBytes("0123456789")).ok());
  auto f = fs.Open("f", OpenMode::kRead);
  ASSERT_TRUE(f.ok());
  fs.FailNext("f", IoError("EIO"));
  Bytes buf(4);
  EXPECT_EQ(ReadExactly(**f, 0, buf).code(), Code::kIoError);
}

TEST(FileUtilTest, CreateDirsMakesParentsAndIsIdempotent) {
  MemFileSystem fs;
  ASSERT_TRUE(CreateDirs(fs, "/a/b/c").ok());
  EXPECT_TRUE(fs.Stat("/a/b/c")->is_dir);
  ASSERT_TRUE(CreateDirs(fs, "/a/b/c").ok());
  ASSERT_TRUE(CreateDirs(fs, "a/b/d/").ok());
  EXPECT_TRUE(fs.Stat("/a/b/d")->is_dir);
  ASSERT_TRUE(CreateDirs(fs, "/").ok());
  ASSERT_TRUE(CreateDirs(fs, ".").ok());
  ASSERT_TRUE(WriteFileAtomic(fs, "/a/file", AsBytes("x")).ok());
  EXPECT_EQ(CreateDirs(fs, "/a/file").code(), Code::kAlreadyExists);
  EXPECT_FALSE(CreateDirs(fs, "/a/file/sub").ok());
}

TEST(FileUtilTest, CreateDirsIsDurable) {
  MemFileSystem fs;
  ASSERT_TRUE(CreateDirs(fs, "/a/b/c").ok());
  ASSERT_TRUE(CreateDirs(fs, "rel/x").ok());
  fs.Crash();
  EXPECT_TRUE(Exists(fs, "/a/b/c"));
  EXPECT_TRUE(Exists(fs, "/rel/x"));
}

TEST(FileUtilTest, CreateDirsAtEveryCrashPointLeavesAUsablePrefix) {
  int64_t points;
  {
    MemFileSystem fs;
    ASSERT_TRUE(CreateDirs(fs, "/a/b/c").ok());
    points = fs.mutating_ops();
  }
  EXPECT_EQ(points, 6);  // (mkdir, sync parent) per level
  for (int64_t k = 0; k < points; ++k) {
    SCOPED_TRACE("crash after " + std::to_string(k));
    MemFileSystem fs;
    fs.SetCrashAfter(k);
    EXPECT_FALSE(CreateDirs(fs, "/a/b/c").ok());
    fs.Crash();
    // What survived is a prefix of the chain, and the call completes on retry.
    const bool a = Exists(fs, "/a"), b = Exists(fs, "/a/b"), c = Exists(fs, "/a/b/c");
    EXPECT_TRUE(a || !b);
    EXPECT_TRUE(b || !c);
    EXPECT_FALSE(c);
    ASSERT_TRUE(CreateDirs(fs, "/a/b/c").ok());
    fs.Crash();
    EXPECT_TRUE(Exists(fs, "/a/b/c"));
  }
}

TEST(FileUtilTest, WriteFileAtomicReplaces) {
  MemFileSystem fs;
  ASSERT_TRUE(CreateDirs(fs, "/d").ok());
  ASSERT_TRUE(WriteFileAtomic(fs, "/d/f", AsBytes("first")).ok());
  ASSERT_TRUE(WriteFileAtomic(fs, "/d/f", AsBytes("second, longer")).ok());
  ASSERT_TRUE(WriteFileAtomic(fs, "/d/f", AsBytes("3rd")).ok());
  EXPECT_EQ(Contents(fs, "/d/f"), "3rd");
  EXPECT_EQ(fs.ListDir("/d")->size(), 1u);  // no temp file left
  fs.Crash();
  EXPECT_EQ(Contents(fs, "/d/f"), "3rd");  // durable once it returns
}

TEST(FileUtilTest, WriteFileAtomicIntoMissingDirFails) {
  MemFileSystem fs;
  EXPECT_EQ(WriteFileAtomic(fs, "/none/f", AsBytes("x")).code(), Code::kNotFound);
}

TEST(FileUtilTest, WriteFileAtomicErrorKeepsOldAndCleansUp) {
  for (const char* fail_on : {"tmp", "/d/f"}) {
    SCOPED_TRACE(fail_on);
    MemFileSystem fs;
    ASSERT_TRUE(CreateDirs(fs, "/d").ok());
    ASSERT_TRUE(WriteFileAtomic(fs, "/d/f", AsBytes("old")).ok());
    // "tmp" fails the temp file's creation; "/d/f" matches every path, so the first (the open).
    fs.FailNext(fail_on, IoError("ENOSPC"));
    EXPECT_EQ(WriteFileAtomic(fs, "/d/f", AsBytes("new")).message(), "ENOSPC");
    EXPECT_EQ(Contents(fs, "/d/f"), "old");
    EXPECT_EQ(fs.ListDir("/d")->size(), 1u);
  }
}

// A FileSystem that refuses one kind of call (FailNext cannot pick the second operation on a
// path, this can) and records the mode each file had at each WriteAt.
enum class Refuse { kNothing, kWrite, kSync, kChmod };

class RefusingFileSystem : public FileSystem {
 public:
  RefusingFileSystem(FileSystem& base, Refuse refuse) : base_(base), refuse_(refuse) {}

  // The mode of the written file at each WriteAt, in order.
  const std::vector<uint32_t>& modes_at_write() const { return modes_at_write_; }

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    ASSIGN_OR_RETURN(auto file, base_.Open(path, mode));
    return std::unique_ptr<File>(new Refusing(*this, path, std::move(file)));
  }
  Status CreateDir(const std::string& p) override { return base_.CreateDir(p); }
  Status RemoveDir(const std::string& p) override { return base_.RemoveDir(p); }
  Status SyncDir(const std::string& p) override { return base_.SyncDir(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return base_.ListDir(p);
  }
  Status Rename(const std::string& a, const std::string& b) override { return base_.Rename(a, b); }
  Status Link(const std::string& a, const std::string& b) override { return base_.Link(a, b); }
  Status Remove(const std::string& p) override { return base_.Remove(p); }
  Result<FileInfo> Stat(const std::string& p) override { return base_.Stat(p); }
  Result<uint64_t> FreeBytes(const std::string& p) override { return base_.FreeBytes(p); }
  Status SetPermissions(const std::string& p, uint32_t m) override {
    return refuse_ == Refuse::kChmod ? IoError("EPERM on chmod") : base_.SetPermissions(p, m);
  }

 private:
  class Refusing : public File {
   public:
    Refusing(RefusingFileSystem& fs, std::string path, std::unique_ptr<File> f)
        : fs_(fs), path_(std::move(path)), f_(std::move(f)) {}
    Result<size_t> ReadAt(uint64_t o, MutableByteView out) override { return f_->ReadAt(o, out); }
    Status WriteAt(uint64_t o, ByteView d) override {
      Result<FileInfo> info = fs_.base_.Stat(path_);
      fs_.modes_at_write_.push_back(info.ok() ? info->mode : 0);
      return fs_.refuse_ == Refuse::kWrite ? IoError("EIO on write") : f_->WriteAt(o, d);
    }
    Status PunchHole(uint64_t o, uint64_t n) override { return f_->PunchHole(o, n); }
    Status Sync() override {
      return fs_.refuse_ == Refuse::kSync ? IoError("EIO on sync") : f_->Sync();
    }
    Status Truncate(uint64_t n) override { return f_->Truncate(n); }
    Result<uint64_t> Size() override { return f_->Size(); }

   private:
    RefusingFileSystem& fs_;
    const std::string path_;
    std::unique_ptr<File> f_;
  };

  FileSystem& base_;
  const Refuse refuse_;
  std::vector<uint32_t> modes_at_write_;
};

TEST(FileUtilTest, WriteFileAtomicWriteOrSyncErrorRemovesTempFile) {
  for (Refuse refuse : {Refuse::kWrite, Refuse::kSync}) {
    const bool sync_fails = refuse == Refuse::kSync;
    SCOPED_TRACE(sync_fails ? "sync fails" : "write fails");
    MemFileSystem mem;
    ASSERT_TRUE(WriteFileAtomic(mem, "f", AsBytes("old")).ok());
    RefusingFileSystem fs(mem, refuse);
    Status s = WriteFileAtomic(fs, "f", AsBytes("new"));
    EXPECT_EQ(s.message(), sync_fails ? "EIO on sync" : "EIO on write");
    EXPECT_EQ(Contents(mem, "f"), "old");
    EXPECT_EQ(*mem.ListDir("/"), std::vector<std::string>{"f"});
  }
}

TEST(FileUtilTest, WriteFileAtomicPrivateIsOwnerOnlyBeforeAnyByteIsWritten) {
  MemFileSystem mem;
  ASSERT_TRUE(WriteFileAtomic(mem, "f", AsBytes("old")).ok());
  ASSERT_EQ(mem.Stat("f")->mode, 0644u);
  RefusingFileSystem fs(mem, Refuse::kNothing);
  ASSERT_TRUE(WriteFileAtomicPrivate(fs, "f", AsBytes("secret")).ok());
  EXPECT_EQ(fs.modes_at_write(), std::vector<uint32_t>{0600});
  EXPECT_EQ(mem.Stat("f")->mode, 0600u);
  EXPECT_EQ(Contents(mem, "f"), "secret");
  EXPECT_EQ(*mem.ListDir("/"), std::vector<std::string>{"f"});
}

TEST(FileUtilTest, WriteFileAtomicPrivateChmodErrorWritesNothing) {
  MemFileSystem mem;
  ASSERT_TRUE(WriteFileAtomic(mem, "f", AsBytes("old")).ok());
  RefusingFileSystem fs(mem, Refuse::kChmod);
  EXPECT_EQ(WriteFileAtomicPrivate(fs, "f", AsBytes("secret")).message(), "EPERM on chmod");
  EXPECT_TRUE(fs.modes_at_write().empty());
  EXPECT_EQ(Contents(mem, "f"), "old");
  EXPECT_EQ(*mem.ListDir("/"), std::vector<std::string>{"f"});
}

// Crashes WriteFileAtomic at every point, in both crash modes: afterwards the file holds the
// old contents or the new ones, never a mix, and the new ones once the call returned OK.
// WriteFileAtomicPrivate also leaves the file 0600 whenever it holds the new contents.
void CheckAtomicAtEveryCrashPoint(bool existed_before, bool write_private) {
  auto write = write_private ? WriteFileAtomicPrivate : WriteFileAtomic;
  const std::string old_data = existed_before ? "old contents, longer than the new" : "<NotFound>";
  const std::string new_data = "new contents";
  auto setup = [&](MemFileSystem& fs) {
    ASSERT_TRUE(CreateDirs(fs, "/d").ok());
    if (existed_before) {
      ASSERT_TRUE(WriteFileAtomic(fs, "/d/f", AsBytes(old_data)).ok());
    }
  };
  int64_t points;
  {
    MemFileSystem fs;
    setup(fs);
    const int64_t before = fs.mutating_ops();
    ASSERT_TRUE(write(fs, "/d/f", AsBytes(new_data)).ok());
    points = fs.mutating_ops() - before;
  }
  // open tmp, [chmod,] write, sync, rename, sync dir
  EXPECT_EQ(points, write_private ? 6 : 5);
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepSomeUnsynced}) {
    for (int64_t k = 0; k <= points; ++k) {
      for (uint64_t seed = 0; seed < 4; ++seed) {
        SCOPED_TRACE("crash after " + std::to_string(k) + " seed " + std::to_string(seed));
        MemFileSystem fs;
        setup(fs);
        fs.SetCrashAfter(k);
        const bool ok = write(fs, "/d/f", AsBytes(new_data)).ok();
        EXPECT_EQ(ok, k == points);
        fs.Crash(mode, seed);
        const std::string got = Contents(fs, "/d/f");
        if (ok) {
          EXPECT_EQ(got, new_data);
        } else {
          EXPECT_TRUE(got == old_data || got == new_data) << got;
        }
        if (write_private && got == new_data) {
          EXPECT_EQ(fs.Stat("/d/f")->mode, 0600u);
        }
      }
    }
  }
}

TEST(FileUtilTest, WriteFileAtomicIsOldOrNewAtEveryCrashPoint) {
  CheckAtomicAtEveryCrashPoint(/*existed_before=*/true, /*write_private=*/false);
}

TEST(FileUtilTest, WriteFileAtomicOfNewFileIsAbsentOrNewAtEveryCrashPoint) {
  CheckAtomicAtEveryCrashPoint(/*existed_before=*/false, /*write_private=*/false);
}

TEST(FileUtilTest, WriteFileAtomicPrivateIsOldOrNewAtEveryCrashPoint) {
  CheckAtomicAtEveryCrashPoint(/*existed_before=*/true, /*write_private=*/true);
}

TEST(FileUtilTest, WriteFileAtomicPrivateOfNewFileIsAbsentOrNewAtEveryCrashPoint) {
  CheckAtomicAtEveryCrashPoint(/*existed_before=*/false, /*write_private=*/true);
}

}  // namespace
}  // namespace kiln
