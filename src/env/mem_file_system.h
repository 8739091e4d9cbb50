// MemFileSystem: an in-memory FileSystem for tests, with power-loss simulation and fault
// injection. It is what every crash test of kiln runs on.
//
// Crash model (the durability model of file_system.h, made adversarial):
//   - A file is an inode with a *current* content (what reads see) and a *durable* content
//     (what survives a crash). File::Sync() makes the inode's current content and size durable.
//   - A directory has *current* entries and *durable* entries. Open (creating), CreateDir,
//     RemoveDir, Rename, Link and Remove change only current entries; SyncDir(dir) makes that
//     directory's current entries durable. Two entries may name one inode (hard links).
//   - Crash() is a power loss: every directory reverts to its durable entries, every inode to
//     its durable content. A directory that is not durably linked in its parent disappears with
//     everything under it. With CrashMode::kKeepSomeUnsynced each unsynced WriteAt, PunchHole
//     and Truncate (since that file's last Sync) is independently kept or dropped, chosen by the
//     seed, as when the kernel flushed some dirty pages on its own; directory changes still
//     revert to durable. After Crash() every File opened before it is dead (all its calls return
//     IoError) and the file system is usable again.
//
// Crash points: SetCrashAfter(n) makes the (n+1)-th mutating operation from now fail with
// IoError("simulated crash"); from then on every call on the file system and its files fails
// with IoError until Crash(). The mutating operations are: Open in kCreate, kCreateExclusive or
// kTruncate mode (counted whether or not the file existed), WriteAt, PunchHole, Sync, Truncate,
// CreateDir, RemoveDir, SyncDir, Rename, Link, Remove, SetPermissions. Each call of one of them
// counts once in mutating_ops(), whatever its outcome, so a deterministic operation has a fixed
// number of crash points: run it once to count them, then replay it with SetCrashAfter(k) for
// every k.
//
// Fault injection: FailNext(substring, error, count) makes the next `count` mutating or reading
// operations on a path containing `substring` fail with `error`, without effect. Reading
// operations are Open (any mode), ReadAt and ListDir; Stat, Size and FreeBytes never fail this
// way. Paths are matched in normalized form: "/" followed by the components joined with "/"
// ("a//b/" and "/a/b" are both "/a/b"). For Rename and Link either path may match; a File's
// path is the one it was opened with. Rules persist across Crash().
//
// Paths: '/'-separated; empty components and "." are dropped, ".." removes the previous
// component. Relative and absolute paths name the same tree: "", "/" and "." are the root,
// which always exists and is durable.
//
// Storage: files are sparse, in 4 KiB pages (missing pages read as zeros); Stat's
// allocated_bytes counts stored pages. Pages are shared copy-on-write between current and
// durable content, so Sync costs only the pages written since the last Sync, and a write at a
// 1 TiB offset costs one page. Each unsynced WriteAt also keeps a copy of its data (for
// kKeepSomeUnsynced) until the file's next Sync.
//
// Errors follow POSIX as PosixFileSystem reports them: Open kRead/kReadWrite of a missing file,
// and any operation whose parent directory is missing, give NotFound; kCreateExclusive of an
// existing name, CreateDir of an existing name and Link onto an existing name give
// AlreadyExists; a non-empty RemoveDir, a path component that is a file, a file operation on a
// directory, moving a directory into itself and writes through a kRead handle give IoError;
// offsets and sizes past 2^63 - 1 give InvalidArgument.
//
// Thread-safety: everything is safe for concurrent use. Namespace operations share one mutex;
// file I/O locks only its inode, so threads writing different files do not contend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "env/file_system.h"

namespace kiln {

enum class CrashMode {
  kDropUnsynced,      // all unsynced data and unsynced directory changes are lost
  kKeepSomeUnsynced,  // unsynced data writes are kept or lost one by one (seeded)
};

namespace mem_fs_internal {
struct Core;
}  // namespace mem_fs_internal

class MemFileSystem : public FileSystem {
 public:
  MemFileSystem();
  ~MemFileSystem() override;
  MemFileSystem(const MemFileSystem&) = delete;
  MemFileSystem& operator=(const MemFileSystem&) = delete;

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  // The value of set_free_bytes (default 1 TiB) if `path` exists.
  Result<uint64_t> FreeBytes(const std::string& path) override;
  // New files are 0644 and directories (the root too) 0755; no umask applies. A mode change is
  // durable at once: a crash keeps it (it is inode metadata, like PosixFileSystem's fsynced one).
  Status SetPermissions(const std::string& path, uint32_t mode) override;

  // Simulates a power loss (see the crash model above), then clears the crash point and the
  // crashed state. `seed` chooses what kKeepSomeUnsynced keeps; the same seed and the same
  // history keep the same writes. Files opened before the call are dead afterwards.
  void Crash(CrashMode mode = CrashMode::kDropUnsynced, uint64_t seed = 0);

  // Arms the crash point: the (n+1)-th mutating operation from now fails and the file system
  // becomes crashed (n = 0: the next one). A negative n disarms it.
  void SetCrashAfter(int64_t n);
  // True from the crash point until Crash().
  bool crashed() const;
  // Mutating operations called since construction (see the list above).
  int64_t mutating_ops() const;

  // See "Fault injection" above. An OK `error` or a count below 1 adds nothing.
  void FailNext(std::string path_substring, Status error, int count = 1);

  void set_free_bytes(uint64_t bytes);

 private:
  std::shared_ptr<mem_fs_internal::Core> core_;  // shared with open Files, which may outlive us
};

}  // namespace kiln
