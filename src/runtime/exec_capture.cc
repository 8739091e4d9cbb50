// ExecCapture (exec.h): a command run to completion with its input and output in memory.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "runtime/exec.h"

namespace kiln {
namespace {

using Clock = std::chrono::steady_clock;

// How often an idle capture checks whether the command has ended: a background child of the
// command may hold its stdout open long after it exited.
constexpr int kIdleCheckMs = 100;

int MillisLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

// Writes to a pipe whose reader may be gone without SIGPIPE, which would end kilnd: the
// signal is blocked in this thread and the one the write raised is consumed.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, old, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  const ssize_t n = write(fd, data, size);
  const int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    const timespec now = {0, 0};
    sigtimedwait(&pipe_only, nullptr, &now);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

// Reads what is there into `out` (kept to kCaptureBytes, the rest read and dropped so the
// command never blocks on a full pipe). Sets `fd` to -1 at its end.
Status ReadSome(int& fd, std::string& out) {
  char buf[16384];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Status::Ok();
  if (n < 0) return ErrnoError("reading the command's output", errno);
  if (n == 0) {
    fd = -1;
    return Status::Ok();
  }
  constexpr size_t kCaptureBytes = 1 << 20;
  out.append(buf, std::min(static_cast<size_t>(n), kCaptureBytes - out.size()));
  return Status::Ok();
}

// Feeds `input` and collects stdout and stderr until both end, or until the command has
// ended and they are drained.
Status Pump(ExecProcess& proc, const std::string& input, Clock::time_point deadline,
            ExecOutput& output) {
  size_t written = 0;
  if (input.empty()) proc.CloseStdin();
  // Our end only: a full pipe must not block the reading of the command's output.
  if (proc.stdin_fd() >= 0 && fcntl(proc.stdin_fd(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoError("setting up the command's input", errno);
  }
  int out_fd = proc.stdout_fd(), err_fd = proc.stderr_fd();
  bool ended = false;
  while (out_fd >= 0 || err_fd >= 0) {
    const int left = MillisLeft(deadline);
    if (left == 0) return DeadlineExceededError("deadline exceeded: the command still runs");
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {proc.stdin_fd(), POLLOUT, 0}};
    const int ready = poll(fds, 3, ended ? 0 : std::min(left, kIdleCheckMs));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoError("waiting for the command's output", errno);
    if (ready == 0) {
      if (ended) break;  // drained
      auto code = proc.Wait(0);
      if (code.ok()) ended = true;
      if (!code.ok() && code.status().code() != Code::kDeadlineExceeded) return code.status();
      continue;
    }
    if (fds[0].revents != 0) RETURN_IF_ERROR(ReadSome(out_fd, output.out));
    if (fds[1].revents != 0) RETURN_IF_ERROR(ReadSome(err_fd, output.err));
    if (fds[2].revents != 0) {
      const size_t chunk = std::min<size_t>(input.size() - written, 65536);
      const ssize_t n = WriteWithoutSigpipe(proc.stdin_fd(), input.data() + written, chunk);
      if (n > 0) written += static_cast<size_t>(n);
      // A command that stops reading (EPIPE) simply did not want the rest.
      if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EPIPE) {
        return ErrnoError("writing the command's input", errno);
      }
      if (written == input.size() || (n < 0 && errno == EPIPE)) proc.CloseStdin();
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ExecOutput> ExecCapture(const ExecTarget& target, std::vector<std::string> argv,
                               const std::string& input, int timeout_ms) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  ExecOptions options;
  options.argv = std::move(argv);
  ASSIGN_OR_RETURN(std::unique_ptr<ExecProcess> proc, Exec(target, options));
  ExecOutput output;
  // On any error the ExecProcess goes, killing the command.
  RETURN_IF_ERROR(Pump(*proc, input, deadline, output));
  ASSIGN_OR_RETURN(output.exit_code, proc->Wait(MillisLeft(deadline)));
  return output;
}

}  // namespace kiln
