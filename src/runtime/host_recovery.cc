#include "runtime/host_recovery.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "runtime/cgroup.h"

#ifndef FITHAW
#define FITHAW _IOWR('X', 120, int)
#endif

namespace kiln {
namespace {

namespace fs = std::filesystem;

void Keep(Status& first, const Status& s) {
  if (first.ok() && !s.ok()) first = s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The process state letter of /proc/<pid>/stat ('Z' for a zombie), or 0 if gone.
char ProcessState(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

// Thaws every disk file system mounted in process `pid`'s mount namespace, innermost first.
int ThawAll(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/mounts");
  std::vector<std::string> targets;
  std::string source, target, type, rest;
  while (in >> source >> target >> type && std::getline(in, rest)) {
    if (type == "ext4" || type == "ext3" || type == "ext2" || type == "xfs") {
      targets.push_back(target);
    }
  }
  int thawed = 0;
  const std::string root = "/proc/" + std::to_string(pid) + "/root";
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    const int fd = open((root + *it).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    if (ioctl(fd, FITHAW, 0) == 0) ++thawed;  // EINVAL: it was not frozen
    close(fd);
  }
  return thawed;
}

// Kills the instance whose init is recorded in `pid_file`, if it is still that process.
Status KillRecorded(const std::string& pid_file, const std::string& id, RecoveryReport& report) {
  std::ifstream in(pid_file);
  pid_t pid = 0;
  uint64_t start = 0;
  if (!(in >> pid >> start) || pid <= 1) return Status::Ok();  // torn or empty: nothing to do
  auto now = ProcessStartTime(pid);
  if (!now.ok() || *now != start || ProcessState(pid) == 'Z') return Status::Ok();
  report.thawed_file_systems += ThawAll(pid);
  kill(pid, SIGKILL);  // the whole pid namespace goes with its init
  report.killed_instances.push_back(id);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto again = ProcessStartTime(pid);
    if (!again.ok() || *again != start || ProcessState(pid) == 'Z') return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return IoError("instance " + id + ": init " + std::to_string(pid) +
                     " did not end after SIGKILL");
    }
    usleep(10 * 1000);  // not our child: poll until it is gone or a zombie
  }
}

// Unbinds loop devices whose backing file is under `dir`.
Status UnbindLoops(const std::string& dir, RecoveryReport& report) {
  Status first;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/block", ec)) {
    const std::string name = entry.path().filename();
    if (!name.starts_with("loop")) continue;
    std::string backing = ReadFile(entry.path().string() + "/loop/backing_file");
    if (!backing.starts_with(dir + "/")) continue;
    const std::string dev = "/dev/" + name;
    const int fd = open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Keep(first, ErrnoError("opening " + dev, errno));
      continue;
    }
    // With users left (a mount) the kernel marks it to unbind when they go.
    if (ioctl(fd, LOOP_CLR_FD, 0) == 0) ++report.unbound_loop_devices;
    close(fd);
  }
  return first;
}

// Decodes mountinfo's octal escapes ("\040" for a space).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto octal = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct MountEntry {
  std::string devno;   // "major:minor"
  std::string fstype;  // after mountinfo's " - " separator, e.g. "fuse.kiln-volumes"
};

// The mount at `path` as /proc/self/mountinfo lists it (the last one: the top of a stack).
// Read from the table, never from the mount itself: a FUSE mount whose server is gone
// would block a stat of it.
std::optional<MountEntry> FindMount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::optional<MountEntry> found;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, target, field;
    if (!(fields >> id >> parent >> devno >> root >> target) || Unescape(target) != path) continue;
    while (fields >> field && field != "-") {
    }
    MountEntry entry{devno, ""};
    fields >> entry.fstype;
    found = entry;
  }
  return found;
}

bool IsMountPoint(const std::string& path) { return FindMount(path).has_value(); }

// A FUSE mount whose server died while a process of its own was stuck in it keeps its
// connection (the stuck process still holds /dev/fuse), and every request to it waits forever:
// loop devices over its files cannot be unbound, processes in them cannot exit. Aborting the
// connection through fusectl fails those requests at once (ENOTCONN). Safe here: the caller
// holds the data directory's lock, so no live kilnd serves this mount.
Status AbortFuseConnection(const std::string& mount_point) {
  const std::optional<MountEntry> entry = FindMount(mount_point);
  if (!entry || entry->fstype.rfind("fuse", 0) != 0) return Status::Ok();
  const size_t colon = entry->devno.find(':');
  if (colon == std::string::npos || entry->devno.substr(0, colon) != "0") return Status::Ok();
  const std::string connections = "/sys/fs/fuse/connections";
  if (!IsMountPoint(connections) &&
      mount("fusectl", connections.c_str(), "fusectl", 0, nullptr) != 0 && errno != EBUSY) {
    return ErrnoError("mounting fusectl at " + connections, errno);
  }
  // A connection's directory is named by its device number; with major 0 that is the minor.
  const std::string abort_file = connections + "/" + entry->devno.substr(colon + 1) + "/abort";
  std::ofstream out(abort_file);
  out << "1\n";
  out.flush();
  // Gone already: the server's descriptor closed and the kernel ended the connection itself.
  if (!out && fs::exists(abort_file)) return IoError("writing " + abort_file);
  return Status::Ok();
}

}  // namespace

Result<uint64_t> ParseStartTime(const std::string& stat_line) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
  // after the last ')'. The start time is field 22; the state, field 3, is the first after it.
  const size_t close = stat_line.rfind(')');
  if (close == std::string::npos) return InvalidArgumentError("process stat without ')'");
  std::istringstream fields(stat_line.substr(close + 1));
  std::string field;
  for (int n = 3; n < 22; ++n) {
    if (!(fields >> field)) return InvalidArgumentError("process stat too short");
  }
  uint64_t start = 0;
  if (!(fields >> start)) return InvalidArgumentError("process stat without a start time");
  return start;
}

Result<uint64_t> ProcessStartTime(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return NotFoundError("no process " + std::to_string(pid));
  return ParseStartTime(stat);
}

Status WriteInitPid(const std::string& instance_dir, pid_t pid) {
  ASSIGN_OR_RETURN(uint64_t start, ProcessStartTime(pid));
  const std::string tmp = instance_dir + "/init.pid.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid << " " << start << "\n";
    out.flush();
    if (!out) return IoError("writing " + tmp);
  }
  // Renamed into place: recovery reads a whole record or none. No fsync: a host crash ends
  // the instance too, and recovery then finds a pid that is not its init.
  if (rename(tmp.c_str(), (instance_dir + "/init.pid").c_str()) != 0) {
    return ErrnoError("writing " + instance_dir + "/init.pid", errno);
  }
  return Status::Ok();
}

Result<RecoveryReport> RecoverHost(const std::string& state_dir) {
  RecoveryReport report;
  Status first;
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> instances;  // id, dir
  for (const auto& entry : fs::directory_iterator(state_dir + "/instances", ec)) {
    if (entry.is_directory(ec)) instances.emplace_back(entry.path().filename(), entry.path());
  }
  const std::string mnt = state_dir + "/volumes";
  Keep(first, AbortFuseConnection(mnt));
  for (const auto& [id, dir] : instances) {
    Keep(first, KillRecorded(dir + "/init.pid", id, report));
    fs::remove(dir + "/init.pid", ec);
  }
  for (const auto& [id, dir] : instances) {
    Keep(first, RemoveInstanceCgroups(id));
    fs::remove_all(dir + "/store", ec);
    if (ec) Keep(first, IoError("removing " + dir + "/store: " + ec.message()));
  }
  Keep(first, UnbindLoops(state_dir, report));
  for (int i = 0; i < 8 && IsMountPoint(mnt); ++i) {
    if (umount2(mnt.c_str(), MNT_DETACH) != 0) {
      Keep(first, ErrnoError("detaching " + mnt, errno));
      break;
    }
    report.detached_fuse_mount = true;
  }
  if (!first.ok()) return first;
  return report;
}

}  // namespace kiln
