// FileSystem: the only way kiln's storage code touches files.
//
// Production uses PosixFileSystem; tests use MemFileSystem (in memory, with crash simulation and
// fault injection). Paths are absolute or relative strings with '/' separators, interpreted by
// the implementation; callers build them with JoinPath.
//
// Durability model (the one every crash test relies on, and the one POSIX gives on ext4):
//   - data written to a file is durable only after File::Sync() returns;
//   - a create, rename, link or remove is durable only after SyncDir() of the directory that
//     holds the name returns.
// Everything not made durable may be lost at a crash, independently.
//
// Thread-safety: a FileSystem is safe for concurrent use. A File is safe for concurrent
// ReadAt/WriteAt/PunchHole/Sync at any offsets (positional I/O); Truncate must not race writes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace kiln {

class File {
 public:
  virtual ~File() = default;

  // Reads up to out.size() bytes at `offset`; returns how many were read (fewer only at end of
  // file). Holes read as zeros.
  virtual Result<size_t> ReadAt(uint64_t offset, MutableByteView out) = 0;
  // Writes all of `data` at `offset`, extending the file if needed.
  virtual Status WriteAt(uint64_t offset, ByteView data) = 0;
  // Deallocates [offset, offset+len): reads return zeros, the size is unchanged.
  virtual Status PunchHole(uint64_t offset, uint64_t len) = 0;
  // Makes the file's data durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;
  // The OS descriptor when there is one (PosixFileSystem), else -1. For code that must hand the
  // file to the kernel (FUSE, loop devices); storage logic never uses it.
  virtual int fd() const { return -1; }
};

enum class OpenMode {
  kRead,            // existing file, read only
  kReadWrite,       // existing file
  kCreate,          // read-write; created empty if missing, kept as is if present
  kCreateExclusive, // read-write; AlreadyExists if present
  kTruncate,        // read-write; created if missing, emptied if present
};

struct FileInfo {
  uint64_t size = 0;
  bool is_dir = false;
  uint64_t allocated_bytes = 0;  // blocks really on disk (sparse files report less than size)
  uint32_t mode = 0;             // permission bits (st_mode & 07777), e.g. 0600
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;

  // Creates one directory; AlreadyExists if it exists (callers that don't care use
  // CreateDirs). Not durable until SyncDir of its parent.
  virtual Status CreateDir(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;  // must be empty
  virtual Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries of `path`, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

  // Atomically replaces `to` if it exists.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // A hard link: `to` names the same file as `from`. AlreadyExists if `to` exists.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;  // a file; NotFound if missing
  virtual Result<FileInfo> Stat(const std::string& path) = 0;  // NotFound if missing
  // Free bytes on the file system holding `path` (benchmarks scale down when short).
  virtual Result<uint64_t> FreeBytes(const std::string& path) = 0;
  // Sets the permission bits of the file or directory `path` to `mode & 07777` (chmod), and
  // makes the change durable before returning. NotFound if missing. New files are created 0644
  // and directories 0755 (less the process umask on PosixFileSystem).
  virtual Status SetPermissions(const std::string& path, uint32_t mode) = 0;
};

// --- Helpers built only from the interface above (file_util.cc) ---

std::string JoinPath(std::string_view a, std::string_view b);
std::string DirName(std::string_view path);   // "a/b/c" -> "a/b"; "c" -> "."
std::string BaseName(std::string_view path);  // "a/b/c" -> "c"

bool Exists(FileSystem& fs, const std::string& path);
// Creates `path` and missing parents (mkdir -p). Durable: syncs each parent it changed.
Status CreateDirs(FileSystem& fs, const std::string& path);
// Whole-file read.
Result<Bytes> ReadFile(FileSystem& fs, const std::string& path);
// Atomic, durable replacement of `path` with `data`: write `path.tmp`, Sync, Rename, SyncDir.
// After a crash `path` holds either the old or the new contents, never a mix.
Status WriteFileAtomic(FileSystem& fs, const std::string& path, ByteView data);
// WriteFileAtomic for secrets: the file is owner-only (0600) from the start. The temp file's
// permissions are set before any byte of `data` is written to it, and the rename carries them
// to `path`. (The temp file exists, empty, with default permissions for an instant: keep the
// directory owner-only too if nobody else may even open it.)
Status WriteFileAtomicPrivate(FileSystem& fs, const std::string& path, ByteView data);
// Reads exactly out.size() bytes at `offset`; Corruption("short read") if the file is shorter.
Status ReadExactly(File& f, uint64_t offset, MutableByteView out);

}  // namespace kiln
