#include "bench/restic_peer.h"

#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "env/subprocess.h"

namespace kiln::bench {
namespace {

// The password only keeps restic from prompting; the repository is deleted after the run.
constexpr const char* kPassword = "kiln-bench";
constexpr const char* kCompression = "auto";

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::vector<std::string> ResticPeer::Env() const {
  return {"RESTIC_REPOSITORY=" + JoinPath(dir_, "repo"),
          std::string("RESTIC_PASSWORD=") + kPassword,
          "RESTIC_CACHE_DIR=" + JoinPath(dir_, "cache")};
}

Result<ResticPeer> ResticPeer::Init(FileSystem& fs, Clock& clock, const std::string& dir) {
  ResticPeer peer(fs, clock, dir);
  auto version = RunCommand({"restic", "version"});
  if (!version.ok() || version->exit_code != 0) {
    return FailedPreconditionError("restic is not installed (apt-get install restic)");
  }
  peer.version_ = FirstLine(version->output);
  RETURN_IF_ERROR(RemoveTree(fs, dir));
  RETURN_IF_ERROR(CreateDirs(fs, dir));
  ASSIGN_OR_RETURN(std::string out,
                   RunChecked({"restic", "init", "--repository-version", "2"}, peer.Env()));
  peer.settings_ = std::string("repository version 2, backup --compression ") + kCompression +
                   " (zstd), local repository and cache in the work dir, GOMAXPROCS default (" +
                   std::to_string(std::thread::hardware_concurrency()) + " cores)";
  return peer;
}

Result<ResticBackup> ResticPeer::Backup(const std::string& file) {
  ResticBackup b;
  Stopwatch watch(*clock_);
  ASSIGN_OR_RETURN(std::string out,
                   RunChecked({"restic", "backup", "--compression", kCompression, file}, Env()));
  b.micros = watch.ElapsedMicros();
  ASSIGN_OR_RETURN(b.repo_bytes, TreeBytes(*fs_, JoinPath(dir_, "repo")));
  return b;
}

}  // namespace kiln::bench
