#include "bench/blockdev_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/blockdev_report.h"
#include "bench/fio.h"
#include "bench/kiln_rig.h"
#include "env/posix_file_system.h"
#include "fuse/loop_device.h"

namespace kiln::bench {
namespace {

// Release of the FUSE file reaches the server asynchronously after the loop device lets go.
constexpr auto kReleaseDeadline = std::chrono::seconds(10);
constexpr auto kReleasePoll = std::chrono::milliseconds(10);
constexpr uint64_t kSpareBytes = 256ULL << 20;

// Set by SIGINT/SIGTERM. A signal handler can only reach a variable of static storage; nothing
// else in the program reads it but the run below, between fio jobs.
volatile std::sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// Catches SIGINT and SIGTERM while alive, so an interrupted run still detaches its loop devices,
// unmounts and closes its volumes (fio, in our process group, gets the terminal's SIGINT too and
// stops its job). SA_RESTART: a signal does not fail the system calls under way.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

struct CpuSample {
  double self_seconds = 0;  // user + system time of this process
  uint64_t busy = 0;        // jiffies of all CPUs not idle or in iowait
  uint64_t total = 0;
};

CpuSample SampleCpu(FileSystem& fs) {
  CpuSample s;
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    s.self_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  auto stat = ReadProcFile(fs, "/proc/stat");
  if (!stat.ok()) return s;
  // "cpu  user nice system idle iowait irq softirq steal ...": the machine-wide line.
  std::istringstream line(stat->substr(0, stat->find('\n')));
  std::string label;
  line >> label;
  uint64_t v = 0;
  for (int field = 0; line >> v; ++field) {
    s.total += v;
    if (field != 3 && field != 4) s.busy += v;
  }
  return s;
}

std::string Kernel() {
  struct utsname u {};
  return ::uname(&u) == 0 ? std::string(u.release) : "unknown";
}

// A FUSE mount a killed run left (its server gone: every access fails with ENOTCONN) would make
// the run directory impossible to remove. Detaching it is harmless when nothing is mounted.
void UnmountStale(const std::string& mountpoint) {
  if (::umount2(mountpoint.c_str(), MNT_DETACH) == 0) {
    fmt::print("Unmounted {}, left by an earlier run\n", mountpoint);
  }
}

// Holds an exclusive flock on the work dir while alive: a second run on the same work dir would
// detach the first one's mount and remove its files.
class WorkDirLock {
 public:
  static Result<std::unique_ptr<WorkDirLock>> Take(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open " + dir, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return FailedPreconditionError("another kiln-bench blockdev is running in " + dir);
      }
      return ErrnoError("flock " + dir, err);
    }
    return std::unique_ptr<WorkDirLock>(new WorkDirLock(fd));
  }
  ~WorkDirLock() { ::close(fd_); }
  WorkDirLock(const WorkDirLock&) = delete;
  WorkDirLock& operator=(const WorkDirLock&) = delete;

 private:
  explicit WorkDirLock(int fd) : fd_(fd) {}
  const int fd_;
};

class BlockdevRun {
 public:
  BlockdevRun(FileSystem& fs, const BlockdevBenchOptions& o, std::string run_dir, BlockdevReport& r)
      : fs_(fs), o_(o), run_dir_(std::move(run_dir)), r_(r), caches_(o.drop_caches) {}
  // Every path: the loop devices are detached (by the targets), then the file system is
  // unmounted, then the volumes are closed.
  ~BlockdevRun() {
    vfs_.reset();
    for (auto& v : volumes_) v->Close().IgnoreError();  // closed ones say FailedPrecondition
  }

  Status Run();
  const std::string& cache_note() const { return caches_.note(); }

 private:
  Status PlainFile();
  Status VolumeTarget(bool encrypted, bool via_loop);
  Status Release(const std::string& name, Volume& volume);
  Status RunJobs(BlockdevTarget& t);

  FileSystem& fs_;
  const BlockdevBenchOptions& o_;
  const std::string run_dir_;
  BlockdevReport& r_;
  CacheDropper caches_;
  std::unique_ptr<KilnRig> rig_;
  std::vector<std::unique_ptr<Volume>> volumes_;  // outlive vfs_: it may still point at them
  std::unique_ptr<VolumeFs> vfs_;
};

Status BlockdevRun::Run() {
  RETURN_IF_ERROR(PlainFile());
  ASSIGN_OR_RETURN(rig_, KilnRig::Open(fs_, SystemClock(), JoinPath(run_dir_, "kiln"), 0));
  ASSIGN_OR_RETURN(vfs_, VolumeFs::Mount(JoinPath(run_dir_, "mnt"), o_.fuse));
  for (bool encrypted : {false, true}) {
    if (encrypted && o_.skip_encrypted) continue;
    for (bool via_loop : {false, true}) RETURN_IF_ERROR(VolumeTarget(encrypted, via_loop));
  }
  return Status::Ok();
}

// The limit: the same jobs on a sparse file of the same size, straight on the file system that
// holds the volumes' data files.
Status BlockdevRun::PlainFile() {
  const std::string path = JoinPath(run_dir_, "plain.img");
  {
    ASSIGN_OR_RETURN(auto file, fs_.Open(path, OpenMode::kTruncate));
    RETURN_IF_ERROR(file->Truncate(r_.size));
    RETURN_IF_ERROR(file->Sync());
  }
  BlockdevTarget t;
  t.key = "raw";
  t.label = "plain file on the work dir's file system (the limit)";
  t.path = path;
  Status s = RunJobs(t);
  r_.targets.push_back(std::move(t));
  Status removed = fs_.Remove(path);  // its space goes back before the volumes take theirs
  return s.ok() ? removed : s;
}

Status BlockdevRun::VolumeTarget(bool encrypted, bool via_loop) {
  const std::string name =
      std::string(encrypted ? "encrypted-" : "plain-") + (via_loop ? "loop" : "fuse");
  ASSIGN_OR_RETURN(auto created, encrypted ? rig_->CreateEncryptedVolume(name, r_.size)
                                           : rig_->CreateVolume(name, r_.size));
  Volume& volume = *created;
  volumes_.push_back(std::move(created));
  RETURN_IF_ERROR(vfs_->Add(name, &volume));
  BlockdevTarget t;
  t.key = std::string(via_loop ? "loop" : "fuse") + (encrypted ? "-encrypted" : "");
  t.encrypted = encrypted;
  t.via_loop = via_loop;
  t.path = vfs_->PathOf(name);
  std::unique_ptr<LoopDevice> loop;
  if (via_loop) {
    LoopOptions options;
    options.direct_io = o_.loop_direct_io;
    ASSIGN_OR_RETURN(loop, LoopDevice::Attach(t.path, options));
    t.path = loop->path();
    t.loop_direct_io = loop->direct_io();
  }
  const std::string volume_kind = encrypted ? "encrypted volume" : "volume";
  t.label = via_loop ? fmt::format("loop device over FUSE, {} (direct I/O {})", volume_kind,
                                   t.loop_direct_io ? "on" : "off")
                     : "FUSE file, " + volume_kind;
  fmt::print("\n{}: {}\n", t.label, t.path);
  Status s = RunJobs(t);
  r_.targets.push_back(std::move(t));
  if (loop) {
    Status detached = loop->Detach();
    if (s.ok()) s = detached;
  }
  Status released = Release(name, volume);
  return s.ok() ? released : s;
}

// Hides the volume's file once the kernel has let go of it, closes the volume and removes its
// directory (the next target needs the space).
Status BlockdevRun::Release(const std::string& name, Volume& volume) {
  const auto deadline = std::chrono::steady_clock::now() + kReleaseDeadline;
  Status removed = vfs_->Remove(name);
  while (removed.code() == Code::kFailedPrecondition &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kReleasePoll);
    removed = vfs_->Remove(name);
  }
  RETURN_IF_ERROR(removed);
  RETURN_IF_ERROR(volume.Close());
  return RemoveTree(fs_, rig_->VolumeDir(name));
}

Status BlockdevRun::RunJobs(BlockdevTarget& t) {
  if (t.key == "raw") fmt::print("\n{}: {}\n", t.label, t.path);
  const std::string report = JoinPath(run_dir_, "fio.json");
  for (size_t i = 0; i < BlockdevJobs().size(); ++i) {
    if (g_interrupted) return AbortedError("interrupted");
    caches_.Drop();
    const CpuSample before = SampleCpu(fs_);
    auto fio = RunFio(fs_, BlockdevJobs()[i].fio, t.path, r_.size, o_.runtime_seconds, report);
    const CpuSample after = SampleCpu(fs_);
    if (g_interrupted) return AbortedError("interrupted");
    if (!fio.ok()) return fio.status();
    BlockdevJobFigures f;
    f.fio = *fio;
    f.server_cpu_seconds = after.self_seconds - before.self_seconds;
    const uint64_t total = after.total - before.total;
    f.machine_busy = total == 0 ? 0 : static_cast<double>(after.busy - before.busy) / total;
    t.jobs.push_back(f);
    const bool limit = t.key != "raw" && !r_.targets.empty() && i < r_.targets[0].jobs.size();
    PrintJobLine(t, i, limit ? &r_.targets[0].jobs[i] : nullptr);
  }
  return Status::Ok();
}

Status CheckFreeSpace(FileSystem& fs, const BlockdevBenchOptions& o) {
  // One target at a time: the plain file is removed before the first volume is made.
  const uint64_t need = o.size + o.size / 16 + kSpareBytes;
  ASSIGN_OR_RETURN(uint64_t free_bytes, fs.FreeBytes(o.work_dir));
  if (free_bytes < need) {
    return FailedPreconditionError(fmt::format("{} free in {}; a {} run needs about {}",
                                               FormatBytes(free_bytes), o.work_dir,
                                               FormatBytes(o.size), FormatBytes(need)));
  }
  return Status::Ok();
}

// Removes the run's state, and the work dir when nothing else is in it.
Status Clean(FileSystem& fs, const std::string& work_dir, const std::string& run_dir) {
  RETURN_IF_ERROR(RemoveTree(fs, run_dir));
  ASSIGN_OR_RETURN(auto names, fs.ListDir(work_dir));
  return names.empty() ? fs.RemoveDir(work_dir) : Status::Ok();
}

void PrintHeader(const BlockdevReport& r, const BlockdevBenchOptions& o) {
  fmt::print(
      "kiln-bench blockdev: {} per target, fio jobs of at most {} s, work dir {}\n"
      "  {}, kernel {}, {} hardware threads, load average {}\n"
      "  FUSE: {} request threads, requests up to {}; loop devices: direct I/O {}\n",
      FormatBytes(r.size), r.runtime_seconds, r.work_dir, r.fio_version, r.kernel,
      std::thread::hardware_concurrency(), r.load_start, o.fuse.threads,
      FormatBytes(o.fuse.max_request_bytes), o.loop_direct_io ? "asked" : "not asked");
}

}  // namespace

std::string MissingBlockdevPrerequisite() {
  if (::geteuid() != 0) return "not root";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "no /dev/fuse";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) return "no /dev/loop-control";
  if (!FioVersion().ok()) return "fio is not installed (apt-get install fio)";
  return "";
}

Status RunBlockdevBench(const BlockdevBenchOptions& o) {
  PosixFileSystem fs;
  const std::string run_dir = JoinPath(o.work_dir, "run");
  const std::string mountpoint = JoinPath(run_dir, "mnt");
  RETURN_IF_ERROR(CreateDirs(fs, o.work_dir));
  ASSIGN_OR_RETURN(auto lock, WorkDirLock::Take(o.work_dir));
  UnmountStale(mountpoint);
  RETURN_IF_ERROR(RemoveTree(fs, run_dir));  // a previous run's leftovers (--keep, or a crash)
  RETURN_IF_ERROR(CreateDirs(fs, mountpoint));
  BlockdevReport r;
  r.size = o.size;
  r.runtime_seconds = o.runtime_seconds;
  r.work_dir = o.work_dir;
  ASSIGN_OR_RETURN(r.fio_version, FioVersion());
  r.kernel = Kernel();
  r.fuse_threads = o.fuse.threads;
  r.max_request_bytes = o.fuse.max_request_bytes;
  r.loop_direct_io_asked = o.loop_direct_io;
  r.load_start = LoadAverage(fs);
  PrintHeader(r, o);
  Status s = CheckFreeSpace(fs, o);
  if (s.ok()) {
    InterruptGuard guard;
    BlockdevRun run(fs, o, run_dir, r);
    s = run.Run();
    if (!run.cache_note().empty()) r.notes += run.cache_note() + ". ";
  }  // loop devices detached, FUSE unmounted, volumes closed here, before their files go
  r.load_end = LoadAverage(fs);
  r.notes += fmt::format("1-minute load average {} at start, {} at end.", r.load_start, r.load_end);
  PrintBlockdevTables(r);
  fmt::print("\nNotes: {}\n", r.notes);
  if (s.ok() && !o.json_path.empty()) s = WriteBlockdevJson(fs, o.json_path, r);
  if (o.keep) {
    fmt::print("\nKept the run's state in {} (--keep)\n", run_dir);
  } else {
    Status cleaned = Clean(fs, o.work_dir, run_dir);
    if (s.ok()) s = cleaned;
  }
  return s;
}

}  // namespace kiln::bench
