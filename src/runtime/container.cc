#include "runtime/container.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/child_setup.h"

// From <linux/fs.h>, which clashes with <sys/mount.h>.
#ifndef FIFREEZE
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)
#endif

namespace kiln {
namespace {

constexpr char kGuestPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool ValidInstanceId(const std::string& id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool ValidDeviceName(const std::string& name) {
  if (!name.starts_with("/dev/") || name.size() > 32) return false;
  const std::string leaf = name.substr(5);
  return !leaf.empty() && std::all_of(leaf.begin(), leaf.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// Everything the child needs, prepared by the parent: after clone the child runs on a copy of
// a multithreaded process, so it only makes system calls on these (no allocation).
struct ChildPlan {
  std::string root_dir;  // <state_dir>/root: the mount point of the root file system
  std::string root_device;
  std::string hostname;
  std::string init;
  std::string user_data;               // empty: none to run
  std::vector<std::string> dev_paths;  // <root_dir>/dev/<leaf>
  std::vector<dev_t> dev_numbers;
  std::string proc, sys, dev, run, run_kiln, user_data_path, old_root;
  int console_fd = -1;  // write end
  int error_fd = -1;    // write end, CLOEXEC: closed by a successful exec
  int go_fd = -1;       // read end: the parent writes a byte once the child is in its cgroups
};

// Reports `what` and errno to the parent and ends the child.
[[noreturn]] void ChildFail(const ChildPlan& plan, const char* what) {
  const int err = errno;
  char msg[256];
  const int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  if (n > 0) (void)!write(plan.error_fd, msg, static_cast<size_t>(std::min(n, 255)));
  _exit(127);
}

void MakeNode(const ChildPlan& plan, const char* path, mode_t mode, dev_t dev) {
  if (mknod(path, mode, dev) != 0 && errno != EEXIST) ChildFail(plan, path);
}

int ChildMain(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  // Nothing runs before the parent has put us in the instance's cgroups.
  char go = 0;
  while (read(plan.go_fd, &go, 1) < 0 && errno == EINTR) {
  }
  if (go != 'g') _exit(126);
  close(plan.go_fd);
  ResetSignalsForExec();  // init, and the user data forked below, start with no signal blocked
  // Our mounts stay in our namespace, and go with it.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    ChildFail(plan, "making mounts private");
  }
  if (mount(plan.root_device.c_str(), plan.root_dir.c_str(), "ext4", 0, nullptr) != 0) {
    ChildFail(plan, "mounting the root file system (ext4)");
  }
  if (mount("proc", plan.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    ChildFail(plan, "mounting /proc");
  }
  if (mount("sysfs", plan.sys.c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    ChildFail(plan, "mounting /sys");
  }
  if (mount("tmpfs", plan.dev.c_str(), "tmpfs", MS_NOSUID, "mode=0755,size=1m") != 0) {
    ChildFail(plan, "mounting /dev");
  }
  if (mount("tmpfs", plan.run.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    ChildFail(plan, "mounting /run");
  }
  // The usual character devices, then the instance's block devices at their names.
  struct Char {
    const char* leaf;
    unsigned major, minor;
  };
  static const Char kChars[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  if (chdir(plan.dev.c_str()) != 0) ChildFail(plan, "entering /dev");
  for (const Char& c : kChars) MakeNode(plan, c.leaf, S_IFCHR | 0666, makedev(c.major, c.minor));
  for (size_t i = 0; i < plan.dev_paths.size(); ++i) {
    MakeNode(plan, plan.dev_paths[i].c_str(), S_IFBLK | 0660, plan.dev_numbers[i]);
  }
  (void)!symlink("/proc/self/fd", "fd");
  (void)!symlink("/proc/self/fd/0", "stdin");
  (void)!symlink("/proc/self/fd/1", "stdout");
  (void)!symlink("/proc/self/fd/2", "stderr");
  (void)!mkdir("pts", 0755);
  (void)!mkdir("shm", 01777);
  if (!plan.user_data.empty()) {
    if (mkdir(plan.run_kiln.c_str(), 0700) != 0) ChildFail(plan, "making /run/kiln");
    const int fd = open(plan.user_data_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (fd < 0) ChildFail(plan, "writing the user data");
    const char* p = plan.user_data.data();
    size_t left = plan.user_data.size();
    while (left > 0) {
      const ssize_t n = write(fd, p, left);
      if (n <= 0) ChildFail(plan, "writing the user data");
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fd);
  }
  // The root file system becomes / (pivot_root, then the host's tree is let go).
  if (chdir(plan.root_dir.c_str()) != 0) ChildFail(plan, "entering the root file system");
  (void)!mkdir(".kiln-oldroot", 0700);
  if (syscall(SYS_pivot_root, ".", ".kiln-oldroot") != 0) ChildFail(plan, "pivot_root");
  if (chdir("/") != 0) ChildFail(plan, "chdir /");
  if (umount2("/.kiln-oldroot", MNT_DETACH) != 0) ChildFail(plan, "detaching the host's tree");
  (void)!rmdir("/.kiln-oldroot");
  if (sethostname(plan.hostname.data(), plan.hostname.size()) != 0) ChildFail(plan, "hostname");
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0) ChildFail(plan, "opening /dev/null");
  if (dup2(null_fd, 0) < 0 || dup2(plan.console_fd, 1) < 0 || dup2(plan.console_fd, 2) < 0) {
    ChildFail(plan, "connecting the console");
  }
  if (null_fd > 2) close(null_fd);
  if (plan.console_fd > 2) close(plan.console_fd);
  // Nothing of kilnd's reaches the instance: a descriptor another thread opened without
  // O_CLOEXEC (a stream's file) when we were cloned is closed at exec like the rest. The error
  // pipe, CLOEXEC already, stays usable until then.
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) ChildFail(plan, "closing kilnd's files");
  char* const env[] = {const_cast<char*>(kGuestPath), const_cast<char*>("HOME=/root"),
                       const_cast<char*>("TERM=linux"), nullptr};
  if (!plan.user_data.empty()) {
    // User data runs beside init, as root, once (the caller decided it is the first boot).
    // _Fork, not fork: we are a clone of a multithreaded process, and fork's atfork work
    // takes malloc's and stdio's locks, which a thread of the parent may have held at the
    // clone and which nobody here will ever release (seen as a hang under load).
    const pid_t pid = _Fork();
    if (pid < 0) ChildFail(plan, "starting the user data");
    if (pid == 0) {
      setsid();
      close(plan.error_fd);
      char* const argv[] = {const_cast<char*>("/run/kiln/user-data"), nullptr};
      execve(argv[0], argv, env);
      static const char kMsg[] = "kiln: user data did not start (execve failed)\n";
      (void)!write(2, kMsg, sizeof kMsg - 1);
      _exit(127);
    }
  }
  char* const argv[] = {const_cast<char*>(plan.init.c_str()), nullptr};
  execve(argv[0], argv, env);
  ChildFail(plan, "starting init");
}

}  // namespace

Result<std::unique_ptr<Container>> Container::Start(const ContainerSpec& spec) {
  if (!ValidInstanceId(spec.instance_id)) {
    return InvalidArgumentError("bad instance id '" + spec.instance_id + "'");
  }
  std::error_code ec;
  std::filesystem::create_directories(spec.state_dir + "/root", ec);
  if (ec) return IoError("making " + spec.state_dir + ": " + ec.message());
  if (!std::filesystem::exists(spec.root_device, ec)) {
    return InvalidArgumentError("no root device " + spec.root_device);
  }
  ChildPlan plan;
  plan.root_dir = spec.state_dir + "/root";
  plan.root_device = spec.root_device;
  plan.hostname = spec.instance_id;
  plan.init = spec.init;
  if (spec.run_user_data) plan.user_data = spec.user_data;
  plan.proc = plan.root_dir + "/proc";
  plan.sys = plan.root_dir + "/sys";
  plan.dev = plan.root_dir + "/dev";
  plan.run = plan.root_dir + "/run";
  plan.run_kiln = plan.run + "/kiln";
  plan.user_data_path = plan.run_kiln + "/user-data";
  for (const ContainerDevice& d : spec.devices) {
    if (!ValidDeviceName(d.name)) return InvalidArgumentError("bad device name '" + d.name + "'");
    plan.dev_paths.push_back(plan.dev + "/" + d.name.substr(5));
    plan.dev_numbers.push_back(makedev(d.major, d.minor));
  }
  ASSIGN_OR_RETURN(auto cgroup, InstanceCgroup::Create(spec.instance_id, spec.limits));
  int console[2], error[2], go[2];
  if (pipe2(console, O_CLOEXEC) != 0) return ErrnoError("console pipe", errno);
  if (pipe2(error, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) {
    for (int fd : {console[0], console[1], error[0], error[1]}) close(fd);
    return ErrnoError("pipes", errno);
  }
  plan.go_fd = go[0];
  // The console's write end must survive exec into init: not CLOEXEC in the child (dup2 onto
  // 1 and 2 clears the flag).
  plan.console_fd = console[1];
  plan.error_fd = error[1];
  constexpr size_t kStack = 256 * 1024;
  std::vector<char> stack(kStack);
  const int flags =
      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD;
  const pid_t pid = clone(ChildMain, stack.data() + kStack, flags, &plan);
  const int clone_errno = errno;
  close(console[1]);
  close(error[1]);
  close(go[0]);
  if (pid < 0) {
    close(console[0]);
    close(error[0]);
    close(go[1]);
    return FailedPreconditionError(std::string("cannot make the instance's namespaces: ") +
                                   strerror(clone_errno));
  }
  Status placed = cgroup->Add(pid);
  if (placed.ok() && write(go[1], "g", 1) != 1) placed = ErrnoError("starting the instance", errno);
  close(go[1]);  // a child not told to go reads end-of-file and exits
  // The error pipe closes empty when init's exec succeeds. Bounded: a child that neither
  // execs nor fails (stuck before exec) is killed below rather than waited for forever.
  std::string failure;
  char buf[256];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{error[0], POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      failure = "the instance did not reach its init within 120 s";
      break;
    }
    const ssize_t n = ready < 0 ? -1 : read(error[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    failure.append(buf, static_cast<size_t>(n));
  }
  close(error[0]);
  std::unique_ptr<Container> c(new Container(spec, pid, console[0]));
  c->cgroup_ = std::move(cgroup);
  if (!placed.ok()) {
    c->Stop(0).IgnoreError();
    return placed.Annotate("instance " + spec.instance_id);
  }
  if (!failure.empty()) {
    c->Stop(0).IgnoreError();
    const bool fs_error = failure.starts_with("mounting the root");
    const std::string msg = "instance " + spec.instance_id + " did not start: " + failure;
    return fs_error ? InvalidArgumentError(msg + " (is the root volume an ext4 file system?)")
                    : FailedPreconditionError(msg);
  }
  return c;
}

Container::Container(const ContainerSpec& spec, pid_t pid, int console_fd)
    : spec_(spec), pid_(pid), console_path_(spec.state_dir + "/console.log") {
  console_thread_ = std::thread([this, console_fd] { CopyConsole(console_fd); });
}

Container::~Container() {
  Thaw().IgnoreError();
  Stop(0).IgnoreError();
  if (console_thread_.joinable()) console_thread_.join();
}

void Container::CopyConsole(int fd) {
  // Appends, and keeps the file to the last kConsoleLogBytes once it grows to twice that.
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::ofstream out(console_path_, std::ios::binary | std::ios::app);
      out.write(buf, n);
    }
    std::error_code ec;
    if (std::filesystem::file_size(console_path_, ec) > 2 * kConsoleLogBytes) {
      auto text = ReadConsoleLog(console_path_);
      if (text.ok()) {
        const std::string tmp = console_path_ + ".tmp";
        std::ofstream(tmp, std::ios::binary | std::ios::trunc) << *text;
        std::filesystem::rename(tmp, console_path_, ec);
      }
    }
  }
  close(fd);
}

bool Container::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

Status Container::Stop(int grace_ms) {
  RETURN_IF_ERROR(Thaw());  // a frozen instance cannot shut down
  if (!reaped_) {
    stop_end_ = StopEnd::kKilled;
    if (!running()) {
      stop_end_ = StopEnd::kExited;
    } else if (grace_ms > 0) {
      kill(pid_, SIGTERM);
      stop_end_ = AwaitShutdown(grace_ms);
    }
    if (!reaped_) {
      kill(pid_, SIGKILL);  // the whole pid namespace goes with its init
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
  }
  cgroup_.reset();  // empty now: removed
  return WaitReleased(10000);
}

namespace {

// Reads a small /proc file whole; empty if it cannot (the process is gone).
std::string ReadProcFile(int dir_fd, const std::string& path) {
  const int fd = openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

// Whether every disk file system mounted in `pid`'s mount namespace has a read-only superblock
// (a remount read-only has synced it and marked it clean). From /proc/<pid>/mountinfo:
// "ID PARENT MAJ:MIN ROOT TARGET OPTS [TAGS...] - FSTYPE SOURCE SUPER_OPTS", where SUPER_OPTS
// begins with "ro" or "rw". A disk file system is one on a block device (a nonzero major), or
// whose source is a /dev node (btrfs shows an anonymous device number). proc, sysfs and tmpfs
// hold nothing of the volumes' and do not count.
bool DiskFileSystemsReadOnly(pid_t pid) {
  const std::string text = ReadProcFile(AT_FDCWD, "/proc/" + std::to_string(pid) + "/mountinfo");
  if (text.empty()) return false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, word, type, source, super_opts;
    fields >> id >> parent >> dev;
    while (fields >> word && word != "-") {
    }
    if (!(fields >> type >> source >> super_opts)) return false;  // not a format we know
    const bool disk = !dev.starts_with("0:") || source.starts_with("/dev/");
    if (disk && !super_opts.starts_with("ro")) return false;
  }
  return true;
}

// Whether pid namespace `ns_fd` (owned here) is `guest` or nested in it.
bool InNamespaceTree(int ns_fd, const struct stat& guest) {
  for (int depth = 0; ns_fd >= 0 && depth < 32; ++depth) {
    struct stat st;
    const bool match =
        fstat(ns_fd, &st) == 0 && st.st_dev == guest.st_dev && st.st_ino == guest.st_ino;
    const int parent = match ? -1 : ioctl(ns_fd, NS_GET_PARENT);  // EPERM past ours
    close(ns_fd);
    if (match) return true;
    ns_fd = parent;
  }
  if (ns_fd >= 0) close(ns_fd);
  return false;
}

// Whether process `name` (a /proc entry) has exited but for its zombie, which holds no files
// or memory any more. A zombie thread group leader whose other threads still run is alive.
bool OnlyAZombie(int proc_fd, const std::string& name) {
  const std::string stat = ReadProcFile(proc_fd, name + "/stat");
  const size_t close_paren = stat.rfind(')');
  if (stat.empty()) return true;  // reaped meanwhile
  if (close_paren == std::string::npos || stat.compare(close_paren, 3, ") Z") != 0) return false;
  int tasks = 0;
  if (DIR* d = opendir(("/proc/" + name + "/task").c_str())) {
    while (dirent* e = readdir(d)) tasks += e->d_name[0] != '.';
    closedir(d);
  }
  return tasks <= 1;
}

// Whether init is the only live process in its pid namespace, counting processes that
// joined it from outside (Exec'd commands, whose parents are on the host) and those in pid
// namespaces nested in it: every process on the host whose pid namespace is the guest's or
// nested in it, found from the host's /proc. The host's own processes are skipped cheaply.
bool OnlyInitLeft(pid_t init) {
  struct stat guest, host;
  if (stat(("/proc/" + std::to_string(init) + "/ns/pid").c_str(), &guest) != 0 ||
      stat("/proc/self/ns/pid", &host) != 0) {
    return false;
  }
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  bool alone = true;
  while (dirent* e = readdir(proc)) {
    const std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (name == std::to_string(init)) continue;
    struct stat st;
    if (fstatat(dirfd(proc), (name + "/ns/pid").c_str(), &st, 0) != 0) continue;  // gone
    if (st.st_dev == host.st_dev && st.st_ino == host.st_ino) continue;
    const bool ours =
        (st.st_dev == guest.st_dev && st.st_ino == guest.st_ino) ||
        InNamespaceTree(openat(dirfd(proc), (name + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC),
                        guest);
    if (ours && !OnlyAZombie(dirfd(proc), name)) {
      alone = false;
      break;
    }
  }
  closedir(proc);
  return alone;
}

// The guest has finished its shutdown: see Container::Stop. Why killing init then is safe:
// - Disks read-only: nothing can write to a volume any more without a remount, and a
//   read-only superblock has been synced and marked clean by the remount.
// - No process but init: every process of the guest has ended, so each had its SIGTERM and its
//   chance to exit (a guest that is still shutting down has its shutdown script running). The
//   check covers processes that are not init's children (Exec'd commands, orphans adopted by a
//   subreaper, nested pid namespaces), not just init's children.
// - Before the guest's shutdown has even begun, a guest whose disks are writable fails the
//   first test; one whose disks the user keeps read-only fails the second as long as any
//   process runs; and a guest with read-only disks and no process but init has nothing that
//   could still reach a volume, whatever moment its init is in.
// - The processes are looked at between two looks at the mounts: a process that appeared after
//   the scan was started by init alone and could only have written after remounting a disk,
//   which the second look sees. Stop also wants the state on two polls in a row, so a gap
//   between two shutdown actions of init (microseconds) is not taken for the end.
// And if the judgment were ever early, killing init only ends the guest as the grace period's
// SIGKILL would: the kernel unmounts its file systems cleanly as its mount namespace goes.
bool GuestAtRest(pid_t init) {
  return DiskFileSystemsReadOnly(init) && OnlyInitLeft(init) && DiskFileSystemsReadOnly(init);
}

}  // namespace

Container::StopEnd Container::AwaitShutdown(int grace_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  int at_rest = 0;  // consecutive polls that found the guest at rest
  // Init's pidfd turns readable when it exits: the usual end (the base image's tini exits as
  // soon as its shutdown is done) is seen at once, not at the next poll.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  StopEnd end = StopEnd::kExited;
  while (running()) {
    at_rest = GuestAtRest(pid_) ? at_rest + 1 : 0;
    if (at_rest >= 2) {
      end = StopEnd::kAtRest;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      end = StopEnd::kGraceExpired;
      break;
    }
    pollfd p = {.fd = pidfd, .events = POLLIN, .revents = 0};
    if (pidfd < 0 || poll(&p, 1, 20) < 0) usleep(20 * 1000);
  }
  if (pidfd >= 0) close(pidfd);
  return end;
}

Status Container::WaitReleased(int timeout_ms) {
  // The kernel unmounts the instance's file systems as its mount namespace goes, after init
  // exits; an exclusive open of the root device succeeds once nothing has it mounted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int fd = open(spec_.root_device.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      return Status::Ok();
    }
    if (errno != EBUSY) return Status::Ok();  // gone, or not ours to check
    if (std::chrono::steady_clock::now() >= deadline) {
      return IoError("instance " + spec_.instance_id + ": root device " + spec_.root_device +
                     " still in use after the instance ended");
    }
    usleep(2 * 1000);  // the namespace goes within milliseconds of init's exit
  }
}

namespace {

// Mount points (as the instance sees them) of the instance's disk file systems, from
// /proc/<pid>/mounts: the ones a freeze must cover.
Result<std::vector<std::string>> DiskMounts(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/mounts");
  if (!in) return FailedPreconditionError("instance process " + std::to_string(pid) + " is gone");
  std::vector<std::string> out;
  std::string source, target, type, rest;
  while (in >> source >> target >> type && std::getline(in, rest)) {
    if (type == "ext4" || type == "ext3" || type == "ext2" || type == "xfs") out.push_back(target);
  }
  return out;
}

// FIFREEZE flushes the file system first, and those writes reach a loop device over a file that
// kilnd's own FUSE threads serve. Done on a kilnd thread, a kill -9 during that flush leaves the
// thread in uninterruptible sleep waiting on a FUSE server that is dying, while that thread's
// open /dev/fuse descriptor keeps the connection from being aborted: the process can never
// exit. So the freeze runs in a forked child holding none of kilnd's descriptors: if kilnd dies,
// its descriptors close, the FUSE connection aborts, and the child's flush fails and it exits.
// Returns 0 or the child's errno.
int FreezeInChild(const std::string& path) {
  const char* c_path = path.c_str();
  const pid_t child = fork();
  if (child < 0) return errno;
  if (child == 0) {
    // Only async-signal-safe calls here: the parent has other threads.
    syscall(SYS_close_range, 3U, ~0U, 0U);
    const int fd = open(c_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) _exit(errno & 0x7f);
    _exit(ioctl(fd, FIFREEZE, 0) == 0 ? 0 : (errno & 0x7f));
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  if (!WIFEXITED(status)) return EIO;
  return WEXITSTATUS(status);
}

}  // namespace

bool Container::frozen() const {
  std::lock_guard lock(freeze_mu_);
  return !frozen_fds_.empty();
}

Status Container::Freeze(int max_ms) {
  std::unique_lock lock(freeze_mu_);
  if (!running())
    return FailedPreconditionError("instance " + spec_.instance_id + " is not running");
  if (!frozen_fds_.empty()) {
    return FailedPreconditionError("instance " + spec_.instance_id + " is already frozen");
  }
  if (watchdog_.joinable()) {
    lock.unlock();
    watchdog_.join();
    lock.lock();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> mounts, DiskMounts(pid_));
  // Through /proc/<pid>/root the host reaches the instance's mounts without entering them.
  const std::string root = "/proc/" + std::to_string(pid_) + "/root";
  for (const std::string& target : mounts) {
    // The descriptor kept for the thaw is opened first: FITHAW never waits on I/O.
    const int fd = open((root + target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const int err = fd < 0 ? errno : FreezeInChild(root + target);
    if (err != 0) {
      const Status s = ErrnoError("freezing " + target + " in instance " + spec_.instance_id, err);
      if (fd >= 0) close(fd);
      ThawLocked().IgnoreError();
      return s;
    }
    frozen_fds_.push_back(fd);
  }
  watchdog_fired_ = false;
  watchdog_ = std::thread([this, max_ms] { Watchdog(max_ms); });
  return Status::Ok();
}

void Container::Watchdog(int max_ms) {
  std::unique_lock lock(freeze_mu_);
  const bool thawed = thawed_cv_.wait_for(lock, std::chrono::milliseconds(max_ms),
                                          [this] { return frozen_fds_.empty(); });
  if (!thawed) {
    watchdog_fired_ = true;
    ThawLocked().IgnoreError();
  }
}

Status Container::ThawLocked() {
  Status first;
  // Reverse order: mounts nested in a frozen one are thawed before it.
  for (auto it = frozen_fds_.rbegin(); it != frozen_fds_.rend(); ++it) {
    if (ioctl(*it, FITHAW, 0) != 0 && errno != EINVAL && first.ok()) {
      first = ErrnoError("thawing instance " + spec_.instance_id, errno);
    }
    close(*it);
  }
  frozen_fds_.clear();
  thawed_cv_.notify_all();
  return first;
}

Status Container::Thaw() {
  Status s;
  {
    std::lock_guard lock(freeze_mu_);
    s = ThawLocked();
  }
  if (watchdog_.joinable()) watchdog_.join();
  return s;
}

Status Container::AddDeviceNode(const ContainerDevice& device) {
  if (!ValidDeviceName(device.name)) {
    return InvalidArgumentError("bad device name '" + device.name + "'");
  }
  if (!running()) {
    return FailedPreconditionError("instance " + spec_.instance_id + " is not running");
  }
  // /proc/<pid>/root reaches the instance's /dev (a tmpfs in its mount namespace).
  const std::string path = "/proc/" + std::to_string(pid_) + "/root" + device.name;
  if (mknod(path.c_str(), S_IFBLK | 0660, makedev(device.major, device.minor)) != 0) {
    if (errno == EEXIST) return AlreadyExistsError(device.name + " exists in the instance");
    return ErrnoError("making " + device.name + " in instance " + spec_.instance_id, errno);
  }
  return Status::Ok();
}

Status Container::RemoveDeviceNode(const std::string& name) {
  if (!ValidDeviceName(name)) return InvalidArgumentError("bad device name '" + name + "'");
  if (!running()) return Status::Ok();  // its /dev went with it
  const std::string path = "/proc/" + std::to_string(pid_) + "/root" + name;
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("removing " + name + " from instance " + spec_.instance_id, errno);
  }
  return Status::Ok();
}

ExecTarget Container::exec_target() const {
  ExecTarget target;
  target.init_pid = pid_;
  if (cgroup_) target.cgroup_dirs = cgroup_->dirs();
  return target;
}

Result<std::string> ReadConsoleLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string();
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kConsoleLogBytes) text.erase(0, text.size() - kConsoleLogBytes);
  return text;
}

}  // namespace kiln
