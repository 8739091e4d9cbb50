#include "web/session_store.h"

#include <array>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"

namespace kiln {
namespace {

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> RandomHex32() {
  std::array<uint8_t, 32> b{};
  RETURN_IF_ERROR(RandomBytes(MutableByteView(b)));
  return HexEncode(ByteView(b));
}

// The map key: the SHA-256 of the id's bytes. Looking it up by hash leaks nothing useful
// through timing, as an attacker cannot choose the hash's prefix.
std::string KeyOf(std::string_view id) {
  const Digest256 d = Sha256(AsBytes(id));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

SessionStore::SessionStore(Clock& clock, uint64_t ttl_micros, size_t max_sessions)
    : clock_(clock), ttl_micros_(ttl_micros), max_sessions_(max_sessions > 0 ? max_sessions : 1) {}

Result<NewWebSession> SessionStore::Create(const std::string& account_id,
                                           const std::string& access_key_id) {
  NewWebSession out;
  ASSIGN_OR_RETURN(out.id, RandomHex32());
  ASSIGN_OR_RETURN(out.session.csrf_token, RandomHex32());
  out.session.account_id = account_id;
  out.session.access_key_id = access_key_id;
  const uint64_t now = clock_.WallMicros();
  out.session.expires_micros = now + ttl_micros_;
  std::lock_guard lock(mu_);
  SweepLocked(now);
  while (sessions_.size() >= max_sessions_) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.expires_micros < oldest->second.expires_micros) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[KeyOf(out.id)] = out.session;
  return out;
}

std::optional<WebSession> SessionStore::Find(std::string_view id) {
  if (!IsLowerHex64(id)) return std::nullopt;
  const uint64_t now = clock_.WallMicros();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(KeyOf(id));
  if (it == sessions_.end()) return std::nullopt;
  if (now >= it->second.expires_micros) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(std::string_view id) {
  if (!IsLowerHex64(id)) return;
  std::lock_guard lock(mu_);
  sessions_.erase(KeyOf(id));
}

bool SessionStore::CsrfMatches(const WebSession& session, std::string_view token) {
  if (session.csrf_token.empty()) return false;
  return ConstantTimeEqual(AsBytes(session.csrf_token), AsBytes(token));
}

size_t SessionStore::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionStore::SweepLocked(uint64_t now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now >= it->second.expires_micros ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace kiln
