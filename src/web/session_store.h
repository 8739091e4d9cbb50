// SessionStore: the web console's sign-in sessions, in kilnd's memory (a restart signs
// everyone out).
//
// A session id is 32 random bytes, handed to the browser once as 64 hex digits (the
// kiln_session cookie); the store keeps only its SHA-256, so a memory dump or a log of the
// store does not yield a usable cookie. Each session has a CSRF token (32 random bytes, 64 hex
// digits) that the console sends back in the X-Kiln-Csrf header of state-changing calls; it is
// compared in constant time. A session expires `ttl` after it was created (12 hours), whatever
// its use; expired ones are dropped as the store is used.
//
// At most `max_sessions` live at once: a new session beyond that evicts the one closest to
// expiry (a flood of sign-ins cannot grow kilnd's memory).
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "env/clock.h"

namespace kiln {

// Who a session is, and what the browser needs to know of it.
struct WebSession {
  std::string account_id;
  std::string access_key_id;    // the key signed in with
  std::string csrf_token;       // 64 lower-case hex digits
  uint64_t expires_micros = 0;  // wall clock, microseconds since the Unix epoch
};

struct NewWebSession {
  std::string id;  // 64 lower-case hex digits: the cookie's value; not kept by the store
  WebSession session;
};

class SessionStore {
 public:
  static constexpr uint64_t kDefaultTtlMicros = 12ull * 3600 * 1000 * 1000;

  // `clock` must outlive the store (its wall clock dates the sessions).
  explicit SessionStore(Clock& clock, uint64_t ttl_micros = kDefaultTtlMicros,
                        size_t max_sessions = 10000);

  // A new session for the account. Internal if no random bytes can be had.
  Result<NewWebSession> Create(const std::string& account_id, const std::string& access_key_id);
  // The live session with this id (as the cookie carries it), or nullopt: unknown, expired,
  // signed out, or not 64 hex digits.
  std::optional<WebSession> Find(std::string_view id);
  // Signs the session out (nothing if there is none).
  void Remove(std::string_view id);
  // Whether `token` is the session's CSRF token (constant time).
  static bool CsrfMatches(const WebSession& session, std::string_view token);

  size_t size();  // live and not yet swept sessions (for tests)

 private:
  void SweepLocked(uint64_t now);  // drops expired sessions; mu_ held

  Clock& clock_;
  const uint64_t ttl_micros_;
  const size_t max_sessions_;
  std::mutex mu_;
  std::map<std::string, WebSession> sessions_;  // by SHA-256 of the id (raw bytes); mu_
};

}  // namespace kiln
