// PosixFileSystem: FileSystem over the host's files (open/pread/pwrite/fdatasync/rename...).
// Every descriptor is opened O_CLOEXEC so none leaks into processes kiln spawns.
#pragma once

#include "env/file_system.h"

namespace kiln {

class PosixFileSystem : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<uint64_t> FreeBytes(const std::string& path) override;
  // fchmod and fsync through a read-only descriptor, so the caller must be able to open `path`
  // for reading (its owner can, under any mode with the owner's read bit).
  Status SetPermissions(const std::string& path, uint32_t mode) override;
};

}  // namespace kiln
