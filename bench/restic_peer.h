// The peer the full and incremental snapshot figures are compared with: Debian's restic backing
// up the same data as one file, into a repository of format version 2 with compression on.
// restic reads the whole file on every backup (it finds unchanged data by content-defined
// chunking, not by tracking changed blocks), which is the difference the incremental goal is
// about.
//
// Everything restic keeps (repository, cache) lives under the directory given to Init.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "env/clock.h"
#include "env/file_system.h"

namespace kiln::bench {

struct ResticBackup {
  uint64_t micros = 0;      // wall time of `restic backup`, process start to exit
  uint64_t repo_bytes = 0;  // size of the repository after the backup (all its files)
};

class ResticPeer {
 public:
  // Checks restic is installed, records its version and initialises a repository in
  // `dir`/repo (cache in `dir`/cache). FailedPrecondition if restic is missing.
  static Result<ResticPeer> Init(FileSystem& fs, Clock& clock, const std::string& dir);

  // Backs up `file` (a snapshot of it in the repository), timed.
  Result<ResticBackup> Backup(const std::string& file);

  const std::string& version() const { return version_; }  // `restic version`, one line
  const std::string& settings() const { return settings_; }

 private:
  ResticPeer(FileSystem& fs, Clock& clock, std::string dir)
      : fs_(&fs), clock_(&clock), dir_(std::move(dir)) {}
  std::vector<std::string> Env() const;

  FileSystem* fs_;
  Clock* clock_;
  std::string dir_;
  std::string version_;
  std::string settings_;
};

}  // namespace kiln::bench
