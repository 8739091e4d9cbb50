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
};

}  // namespace kiln
