#include "runtime/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "runtime/child_setup.h"

namespace kiln {
namespace {

constexpr char kGuestPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The status for "still running at the deadline".
Status DeadlineError(const std::string& message) {
  return DeadlineExceededError("deadline exceeded: " + message);
}

// Where the helper or the command failed before the command's exec, sent to Exec.
enum class Stage : int32_t { kNamespace, kRoot, kCwd, kFork, kCgroup, kTerminal, kStdio, kExec };
struct Report {
  Stage stage;
  int32_t err;
};

struct Namespace {
  int fd;
  int type;
};

// Everything the helper and the command need, prepared before the fork: after it they only
// make system calls on this (kilnd is multithreaded, so no allocation and no locks).
struct Plan {
  std::vector<Namespace> namespaces;  // in setns order, the mount namespace last
  int root_fd = -1;                   // /proc/<init>/root
  std::vector<int> cgroup_fds;        // cgroup.procs of each of the instance's cgroups
  std::string cwd;
  std::vector<std::string> env_storage, paths;  // paths: where argv[0] may be
  std::vector<char*> argv, envp;                // null-terminated
  int in_fd = -1, out_fd = -1, err_fd = -1;     // the command's stdio (with a tty, the slave)
  int report_fd = -1;                           // write end; CLOEXEC, so closed by the exec
  int control_fd = -1;                          // the helper's end of the control socket
  bool tty = false;
  std::vector<int> keep;  // every descriptor above, sorted
};

// Descriptors closed when the set goes, whatever path Exec takes.
class FdSet {
 public:
  ~FdSet() { CloseAll(); }
  int Add(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }
  void CloseAll() {
    for (int fd : fds_) close(fd);
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

// As a shell says it: the exit code, or 128 + the signal that ended the process.
int ExitCode(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

[[noreturn]] void Fail(int report_fd, Stage stage) {
  const Report report{stage, errno};
  (void)!write(report_fd, &report, sizeof report);
  _exit(127);
}

// Closes every descriptor but `keep` (sorted): the helper is forked from a multithreaded
// process whose other threads may hold any descriptor, other sessions' pipes included, and
// a helper must not keep those open for its lifetime.
void CloseAllBut(const std::vector<int>& keep) {
  unsigned first = 0;
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > first) syscall(SYS_close_range, first, fd - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, first, ~0U, 0);
}

// The command, a child of the helper and so inside the instance's pid namespace.
[[noreturn]] void CommandMain(const Plan& plan) {
  // Descriptors may sit at 0..2 (if kilnd's were closed): lift them so dup2 cannot clobber one.
  const int report = fcntl(plan.report_fd, F_DUPFD_CLOEXEC, 3);
  if (report < 0) _exit(127);
  for (int fd : plan.cgroup_fds) {
    if (write(fd, "0", 1) != 1) Fail(report, Stage::kCgroup);  // "0": the writer itself
  }
  if (setsid() < 0) Fail(report, Stage::kTerminal);
  if (plan.tty && ioctl(plan.in_fd, TIOCSCTTY, 0) != 0) {
    Fail(report, Stage::kTerminal);
  }
  int stdio[3] = {plan.in_fd, plan.out_fd, plan.err_fd};
  for (int& fd : stdio) {
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) Fail(report, Stage::kStdio);
  }
  for (int i = 0; i < 3; ++i) {
    if (dup2(stdio[i], i) < 0) Fail(report, Stage::kStdio);
  }
  // As execvp: on to the next PATH entry while the program is not there, EACCES kept.
  bool denied = false;
  for (const std::string& path : plan.paths) {
    execve(path.c_str(), plan.argv.data(), plan.envp.data());
    if (errno == EACCES) {
      denied = true;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      Fail(report, Stage::kExec);
    }
  }
  errno = denied ? EACCES : ENOENT;
  Fail(report, Stage::kExec);
}

// The helper waits for the command, forwarding the signals Exec's caller sends, and exits
// with the command's status (128 + signal when a signal ended it). The end of the control
// socket (the ExecProcess, or kilnd, gone) kills the command.
[[noreturn]] void Supervise(int control_fd, pid_t child) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  pollfd fds[2] = {{pidfd, POLLIN, 0}, {control_fd, POLLIN, 0}};
  while (pidfd >= 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents == 0) continue;
    int sig = 0;
    const ssize_t n = recv(control_fd, &sig, sizeof sig, 0);
    if (n == sizeof sig) {
      kill(child, sig);
    } else if (n == 0 || (n < 0 && errno != EINTR)) {
      kill(child, SIGKILL);
      fds[1].fd = -1;
    }
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(ExitCode(status));
}

[[noreturn]] void HelperMain(const Plan& plan) {
  setsid();  // out of kilnd's process group: a ^C to kilnd's terminal is not for the guest
  ResetSignalsForExec();  // the command starts with default signal handling
  CloseAllBut(plan.keep);
  for (const Namespace& ns : plan.namespaces) {
    if (setns(ns.fd, ns.type) != 0) Fail(plan.report_fd, Stage::kNamespace);
  }
  if (fchdir(plan.root_fd) != 0 || chroot(".") != 0) Fail(plan.report_fd, Stage::kRoot);
  if (chdir(plan.cwd.c_str()) != 0) Fail(plan.report_fd, Stage::kCwd);
  const pid_t child = _Fork();  // a child joins the pid namespace; no atfork handlers here
  if (child < 0) Fail(plan.report_fd, Stage::kFork);
  if (child == 0) CommandMain(plan);
  for (int fd : plan.keep) {
    if (fd != plan.control_fd) close(fd);
  }
  Supervise(plan.control_fd, child);
}

Status NotRunning(const ExecTarget& target, const std::string& what, int err) {
  return FailedPreconditionError("instance with init " + std::to_string(target.init_pid) +
                                 " is not running (" + what + ": " + strerror(err) + ")");
}

bool SameNamespace(int fd, const char* own) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(own, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Opens the instance's namespaces, root and cgroups: they pin what the helper joins.
Status OpenTarget(const ExecTarget& target, Plan& plan, FdSet& fds) {
  if (target.init_pid <= 0) return FailedPreconditionError("the instance is not running");
  const std::string proc = "/proc/" + std::to_string(target.init_pid);
  static const struct {
    const char* name;
    int type;
  } kNamespaces[] = {{"ipc", CLONE_NEWIPC},
                     {"uts", CLONE_NEWUTS},
                     {"net", CLONE_NEWNET},
                     {"pid", CLONE_NEWPID},
                     {"mnt", CLONE_NEWNS}};
  for (const auto& ns : kNamespaces) {
    const std::string path = proc + "/ns/" + ns.name;
    const int fd = fds.Add(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd < 0) return NotRunning(target, path, errno);
    plan.namespaces.push_back({fd, ns.type});
  }
  // A recycled pid (init long gone) would name a host process: an instance never shares
  // kilnd's mount or pid namespace.
  if (SameNamespace(plan.namespaces[3].fd, "/proc/self/ns/pid") ||
      SameNamespace(plan.namespaces[4].fd, "/proc/self/ns/mnt")) {
    return FailedPreconditionError("process " + std::to_string(target.init_pid) +
                                   " is not an instance's init");
  }
  plan.root_fd = fds.Add(open((proc + "/root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (plan.root_fd < 0) return NotRunning(target, proc + "/root", errno);
  for (const std::string& dir : target.cgroup_dirs) {
    const std::string path = dir + "/cgroup.procs";
    const int fd = fds.Add(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd < 0 && errno == ENOENT) return NotRunning(target, path, errno);
    if (fd < 0) return ErrnoError("opening " + path, errno);
    plan.cgroup_fds.push_back(fd);
  }
  return Status::Ok();
}

// The environment (guest defaults, then the caller's entries by name), argv and the places
// argv[0] may be.
Status PrepareCommand(const ExecOptions& options, Plan& plan) {
  std::vector<std::string>& env = plan.env_storage;
  env = {std::string("PATH=") + kGuestPath, "HOME=/root",
         options.tty ? "TERM=xterm-256color" : "TERM=dumb"};
  for (const std::string& entry : options.env) {
    const size_t eq = entry.find('=');
    if (eq == 0 || eq == std::string::npos || entry.find('\0') != std::string::npos) {
      return InvalidArgumentError("bad environment entry '" + entry + "' (want NAME=value)");
    }
    const std::string prefix = entry.substr(0, eq + 1);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return e.starts_with(prefix); });
    if (it != env.end()) {
      *it = entry;
    } else {
      env.push_back(entry);
    }
  }
  for (std::string& e : env) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  for (const std::string& arg : options.argv) {
    if (arg.find('\0') != std::string::npos) return InvalidArgumentError("NUL in an argument");
    plan.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  plan.argv.push_back(nullptr);
  const std::string& program = options.argv[0];
  if (program.find('/') != std::string::npos) {
    plan.paths.push_back(program);
    return Status::Ok();
  }
  const std::string path = std::string(env[0]).substr(5);  // PATH= stays first
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    plan.paths.push_back(dir.empty() ? program : dir + "/" + program);
    start = end + 1;
  }
  return Status::Ok();
}

// The command's standard streams: a pseudo-terminal (the host's devpts; the slave is opened
// here, as the instance's /dev has no devpts) or three pipes.
Status MakeStreams(const ExecOptions& options, Plan& plan, FdSet& fds, int host_ends[3]) {
  plan.tty = options.tty;
  if (options.tty) {
    const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return ErrnoError("opening a pseudo-terminal", errno);
    host_ends[0] = host_ends[1] = master;
    char name[64];
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name)) {
      return ErrnoError("setting up a pseudo-terminal", errno);
    }
    const winsize size = {options.rows, options.cols, 0, 0};
    if (ioctl(master, TIOCSWINSZ, &size) != 0) return ErrnoError("sizing the terminal", errno);
    plan.in_fd = plan.out_fd = plan.err_fd = fds.Add(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (plan.in_fd < 0) return ErrnoError(std::string("opening ") + name, errno);
    return Status::Ok();
  }
  int* command_ends[3] = {&plan.in_fd, &plan.out_fd, &plan.err_fd};
  for (int i = 0; i < 3; ++i) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return ErrnoError("making pipes", errno);
    // stdin: the command reads p[0]; stdout and stderr: it writes p[1].
    host_ends[i] = i == 0 ? p[1] : p[0];
    *command_ends[i] = fds.Add(i == 0 ? p[0] : p[1]);
  }
  return Status::Ok();
}

// Reads what the helper and the command reported until both closed the pipe (the command by
// its exec). Nothing: the command runs.
Result<std::optional<Report>> ReadReport(int fd) {
  Report report;
  size_t got = 0;
  for (;;) {
    const ssize_t n = read(fd, reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("reading the exec report", errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
    if (got == sizeof report) return std::optional<Report>(report);
  }
  return std::optional<Report>();
}

Status ReportStatus(const Report& report, const ExecOptions& options) {
  const std::string program = "'" + options.argv[0] + "'";
  const std::string why = strerror(report.err);
  switch (report.stage) {
    case Stage::kExec:
      if (report.err == ENOENT || report.err == ENOTDIR) {
        return NotFoundError("no program " + program + " in the instance");
      }
      if (report.err == EACCES || report.err == ENOEXEC || report.err == EISDIR) {
        return InvalidArgumentError("cannot run " + program + " in the instance: " + why);
      }
      return ErrnoError("running " + program + " in the instance", report.err);
    case Stage::kCwd:
      return InvalidArgumentError("no directory '" + options.cwd + "' in the instance: " + why);
    case Stage::kNamespace:
    case Stage::kRoot:
      return FailedPreconditionError("cannot enter the instance: " + why);
    case Stage::kFork:
      return ErrnoError("forking " + program + " in the instance", report.err);
    case Stage::kCgroup:
      return ErrnoError("putting " + program + " in the instance's cgroups", report.err);
    case Stage::kTerminal:
    case Stage::kStdio:
      return ErrnoError("connecting " + program + " to its streams", report.err);
  }
  return InternalError("exec: unknown report");
}

// Waits up to `timeout_ms` for child `pid` to end, without reaping it. True if it has.
Result<bool> EndsWithin(pid_t pid, int timeout_ms) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return ErrnoError("pidfd_open", errno);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int ready = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p = {pidfd, POLLIN, 0};
    ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready >= 0 || errno != EINTR) break;
  }
  const int err = errno;
  close(pidfd);
  if (ready < 0) return ErrnoError("waiting for the command", err);
  return ready > 0;
}

}  // namespace

Result<std::unique_ptr<ExecProcess>> Exec(const ExecTarget& target, const ExecOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return InvalidArgumentError("exec: no program to run");
  }
  if (!options.cwd.starts_with("/")) {
    return InvalidArgumentError("exec: working directory '" + options.cwd + "' is not absolute");
  }
  Plan plan;
  plan.cwd = options.cwd;
  FdSet fds;  // the child's ends and the target: closed once the helper has them
  RETURN_IF_ERROR(PrepareCommand(options, plan));
  RETURN_IF_ERROR(OpenTarget(target, plan, fds));
  std::unique_ptr<ExecProcess> proc(new ExecProcess());
  int host_ends[3] = {-1, -1, -1};
  const Status streams = MakeStreams(options, plan, fds, host_ends);
  proc->tty_ = options.tty;
  proc->stdin_fd_ = host_ends[0];
  proc->stdout_fd_ = host_ends[1];
  proc->stderr_fd_ = host_ends[2];
  RETURN_IF_ERROR(streams);
  int report[2], control[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoError("exec report pipe", errno);
  const int report_read = report[0];
  plan.report_fd = fds.Add(report[1]);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) {
    close(report_read);
    return ErrnoError("exec control socket", errno);
  }
  proc->control_fd_ = control[0];
  plan.control_fd = fds.Add(control[1]);
  for (const Namespace& ns : plan.namespaces) plan.keep.push_back(ns.fd);
  plan.keep.insert(plan.keep.end(), plan.cgroup_fds.begin(), plan.cgroup_fds.end());
  plan.keep.insert(plan.keep.end(), {plan.root_fd, plan.in_fd, plan.out_fd, plan.err_fd,
                                     plan.report_fd, plan.control_fd});
  std::sort(plan.keep.begin(), plan.keep.end());
  plan.keep.erase(std::unique(plan.keep.begin(), plan.keep.end()), plan.keep.end());

  const pid_t pid = fork();
  if (pid == 0) HelperMain(plan);
  const int fork_errno = errno;
  fds.CloseAll();  // the report pipe ends once the helper and the command are done with it
  if (pid < 0) {
    close(report_read);
    return ErrnoError("forking the exec helper", fork_errno);
  }
  proc->pid_ = pid;
  auto reported = ReadReport(report_read);
  close(report_read);
  if (!reported.ok()) return reported.status();
  if (reported->has_value()) return ReportStatus(**reported, options);  // ~ExecProcess reaps
  return proc;
}

ExecProcess::~ExecProcess() {
  if (pid_ > 0 && !reaped_) {
    Signal(SIGKILL).IgnoreError();
    if (control_fd_ >= 0) close(control_fd_);  // and should the helper miss the signal
    control_fd_ = -1;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (control_fd_ >= 0) close(control_fd_);
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0 && stdout_fd_ != stdin_fd_) close(stdout_fd_);
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ExecProcess::CloseStdin() {
  if (tty_) {
    if (stdin_fd_ >= 0) (void)!write(stdin_fd_, "\x04", 1);  // VEOF
    return;
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

Status ExecProcess::Resize(uint16_t rows, uint16_t cols) {
  if (!tty_) return FailedPreconditionError("the command has no terminal");
  const winsize size = {rows, cols, 0, 0};
  if (ioctl(stdin_fd_, TIOCSWINSZ, &size) != 0) return ErrnoError("resizing the terminal", errno);
  return Status::Ok();
}

Status ExecProcess::Signal(int signal) {
  if (signal <= 0 || signal >= NSIG) {
    return InvalidArgumentError("bad signal " + std::to_string(signal));
  }
  if (reaped_ || control_fd_ < 0) return FailedPreconditionError("the command has ended");
  // The helper forwards it: only the helper may reap the command, so its pid is still the
  // command's when the helper kills it.
  if (send(control_fd_, &signal, sizeof signal, MSG_NOSIGNAL) != sizeof signal) {
    if (errno == EPIPE || errno == ECONNRESET) {
      return FailedPreconditionError("the command has ended");
    }
    return ErrnoError("signalling the command", errno);
  }
  return Status::Ok();
}

Result<int> ExecProcess::Wait(int timeout_ms) {
  if (reaped_) return exit_code_;
  if (timeout_ms >= 0) {
    ASSIGN_OR_RETURN(const bool ended, EndsWithin(pid_, timeout_ms));
    if (!ended) return DeadlineError("the command still runs");
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waiting for the command", errno);
  }
  reaped_ = true;
  exit_code_ = ExitCode(status);
  return exit_code_;
}

}  // namespace kiln
