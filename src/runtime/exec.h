// Exec: runs a command inside a running instance, as `docker exec` or `nsenter` do: the process
// joins the instance's namespaces (mount, pid, uts, ipc, network), its root directory and its
// cgroups, then runs the program with the guest's environment. It is a process of the instance:
// it shows in the instance's `ps`, counts against its limits, and dies when the instance stops.
// `kiln connect` (an interactive shell) and the tests' "run this inside the guest" are built on
// it.
//
// How: kilnd is multithreaded, so it cannot itself enter a mount namespace. It forks a helper
// that setns() into the namespaces (opened as /proc/<init>/ns/* before the fork, so a recycled
// pid cannot redirect it), chroots into /proc/<init>/root, forks the command (a child enters
// the pid namespace) and waits for it, exiting with its status. Between fork and exec only
// system calls on data prepared before the fork run.
//
// Standard streams: with `tty` a pseudo-terminal (the command is a session leader with the
// terminal as its controlling tty; stdin_fd() == stdout_fd() is the master, stderr_fd() is -1);
// otherwise three pipes. Every descriptor kilnd holds is CLOEXEC, so only these three reach the
// command.
//
// Thread-safety: an ExecProcess is used from one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

struct ExecOptions {
  // argv[0] without a '/' is looked up in the guest's PATH
  // (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).
  std::vector<std::string> argv;
  // "NAME=value" entries added to (or replacing) the guest's defaults: PATH, HOME=/root,
  // TERM (xterm-256color with a tty, dumb without).
  std::vector<std::string> env;
  std::string cwd = "/";
  bool tty = false;
  uint16_t rows = 24, cols = 80;  // the terminal's size, with tty
};

// Where the instance is, as the host sees it.
struct ExecTarget {
  pid_t init_pid = 0;                    // the instance's init
  std::vector<std::string> cgroup_dirs;  // the instance's cgroups (InstanceCgroup::dirs())
};

class ExecProcess {
 public:
  // Kills the command (SIGKILL) if it still runs, reaps it, closes the descriptors.
  ~ExecProcess();
  ExecProcess(const ExecProcess&) = delete;
  ExecProcess& operator=(const ExecProcess&) = delete;

  // Host-side ends (all CLOEXEC, blocking). -1 once closed.
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  bool tty() const { return tty_; }
  // End of input for the command (closes the pipe; with a tty sends EOF, ^D, at line start).
  void CloseStdin();
  // The terminal's new size (TIOCSWINSZ; the command gets SIGWINCH). FailedPrecondition
  // without a tty.
  Status Resize(uint16_t rows, uint16_t cols);
  // Sends `signal` to the command.
  Status Signal(int signal);
  // Waits for the command: its exit code, or 128 + the signal that ended it (as a shell says).
  // `timeout_ms` < 0 waits forever; DeadlineExceeded if it is still running at the deadline.
  Result<int> Wait(int timeout_ms = -1);

 private:
  friend Result<std::unique_ptr<ExecProcess>> Exec(const ExecTarget&, const ExecOptions&);
  ExecProcess() = default;
  pid_t pid_ = -1;       // the helper (host pid namespace), which exits with the command's status
  int control_fd_ = -1;  // socket to the helper: signals to forward; its end kills the command
  bool reaped_ = false;
  int exit_code_ = -1;
  bool tty_ = false;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1;
};

// Starts `options.argv` inside the instance. InvalidArgument for an empty argv; FailedPrecondition
// if the instance is not running (init gone); NotFound if the program is not in the guest (the
// command's exec fails before it reports started).
Result<std::unique_ptr<ExecProcess>> Exec(const ExecTarget& target, const ExecOptions& options);

struct ExecOutput {
  int exit_code = -1;
  std::string out, err;  // each kept to the first 1 MiB
};

// Runs a command to completion with `input` on its stdin, collecting its output (no tty).
// DeadlineExceeded (and the command killed) if it runs longer than `timeout_ms`.
Result<ExecOutput> ExecCapture(const ExecTarget& target, std::vector<std::string> argv,
                               const std::string& input = "", int timeout_ms = 60000);

}  // namespace kiln
