// ConnectEndpoint: a terminal on a shell inside a running instance, over a WebSocket at
// GET /kiln/v1/instances/<instance-id>/connect?rows=R&cols=C (defaults 24x80).
//
// Before the upgrade, as HTTP with a JSON body {"code", "message"}:
//   - authentication, either the kiln_session cookie (then the Origin header must name the
//     Host: 403 AuthFailure otherwise, against cross-site WebSocket hijacking) or a SigV4
//     Authorization header over the GET (service ec2, empty payload) checked as the Query API
//     checks it; neither, or a bad one: 401 AuthFailure (the message names SigV4's own code,
//     e.g. SignatureDoesNotMatch);
//   - 400 InvalidParameterValue for rows/cols outside 1..1000, InvalidInstanceID.Malformed for
//     a malformed id;
//   - 404 InvalidInstanceID.NotFound for an unknown instance and for another account's (the
//     same answer, so existence does not leak);
//   - 409 IncorrectInstanceState unless it is running;
//   - the shell, `/bin/sh -l` with a tty of the given size and TERM=xterm-256color, starts here
//     (a failure to start it is 409 when the instance stopped meanwhile, else 500).
// After the upgrade: binary frames carry raw terminal bytes both ways; a text frame from the
// client {"type": "resize", "rows": N, "cols": N} resizes the terminal (other text frames are
// ignored); when the shell ends the server sends {"type": "exit", "code": N} and closes with
// 1000; when the client closes or the connection drops, the shell is killed.
//
// Thread-safety: Upgrade may be called from many threads at once; each session runs on its own
// thread (HttpServer's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/front_end.h"
#include "base/status.h"
#include "catalog/records.h"
#include "http/http_server.h"
#include "runtime/exec.h"
#include "web/session_store.h"

namespace kiln {

// The shell's side of a session: a pseudo-terminal's master and the process behind it.
// Destroying it kills the process.
class Terminal {
 public:
  virtual ~Terminal() = default;
  virtual int fd() const = 0;  // the master: read the output, write the input
  virtual Status Resize(uint16_t rows, uint16_t cols) = 0;
  // The exit code (128 + signal) once it ended; DeadlineExceeded while it runs after
  // `timeout_ms` (0: just look).
  virtual Result<int> Wait(int timeout_ms) = 0;
};

// An ExecProcess started with a tty, as a Terminal.
std::unique_ptr<Terminal> ExecTerminal(std::unique_ptr<ExecProcess> process);

struct ConnectOptions {
  SessionStore* sessions = nullptr;  // must outlive the endpoint
  KeyLookup keys;
  std::function<int64_t()> now;  // seconds since the epoch, for SigV4; the system clock if empty
  // The instance's record; NotFound when there is none.
  std::function<Result<Instance>(const std::string& instance_id)> instance;
  // Starts a command in the running instance (Runtime::Exec). FailedPrecondition when it is
  // not running.
  std::function<Result<std::unique_ptr<Terminal>>(const std::string& instance_id,
                                                  const ExecOptions& options)>
      exec;
};

class ConnectEndpoint {
 public:
  explicit ConnectEndpoint(ConnectOptions options);

  // The instance id in a connect path, or nullopt when `path` is not one.
  static std::optional<std::string> InstanceIdOf(std::string_view path);

  // For a GET with a WebSocket upgrade at a connect path.
  UpgradeDecision Upgrade(const HttpRequest& request) const;
  // For a request at a connect path without the upgrade: 426 (or 405 for another method).
  static HttpResponse WithoutUpgrade(const HttpRequest& request);

 private:
  // The caller's account id, or the refusal.
  Result<std::string> Authenticate(const HttpRequest& request) const;

  ConnectOptions options_;
};

// Acts on one text frame from the client: a well-formed resize message
// {"type": "resize", "rows": N, "cols": N} with both in 1..1000 resizes `terminal`; any other
// text (malformed JSON, another type, a size out of range) is ignored. Never throws. Exposed
// for the connect_control_fuzz target.
void HandleControlText(const std::string& text, Terminal& terminal);

// Pumps bytes between `ws` and `terminal` until the shell ends (exit frame, close 1000) or the
// client goes (the shell is then killed by the caller destroying the Terminal). Blocks; one
// extra thread reads the terminal.
void RunTerminalSession(WebSocket& ws, Terminal& terminal);

}  // namespace kiln
