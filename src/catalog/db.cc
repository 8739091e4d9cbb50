#include "catalog/db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace kiln::catalog_internal {
namespace {

// How long a writer waits for another process's write lock before giving up (Unavailable).
constexpr int kBusyTimeoutMillis = 5000;
// Statements with distinct text (lists of n ids make n variants) beyond this are not cached.
constexpr size_t kMaxCachedStatements = 256;

Code CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Code::kAlreadyExists;
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return Code::kFailedPrecondition;
      return Code::kInvalidArgument;  // CHECK, NOT NULL: a malformed record
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Code::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Code::kCorruption;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return Code::kIoError;
    default:
      return Code::kInternal;
  }
}

}  // namespace

// --- Stmt ---

Stmt::Stmt(Db* db, sqlite3_stmt* stmt, bool* in_use) : db_(db), stmt_(stmt), in_use_(in_use) {}

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      next_param_(other.next_param_),
      bind_error_(std::move(other.bind_error_)) {}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (in_use_ != nullptr) {
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

void Stmt::Check(int rc) {
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = db_->Error(rc, "bind parameter " + std::to_string(next_param_));
  }
  ++next_param_;
}

void Stmt::BindOne(std::string_view v) {
  // A zero-length text needs a non-null pointer, else SQLite binds NULL.
  Check(sqlite3_bind_text(stmt_, next_param_, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT));
}

void Stmt::BindOne(int64_t v) { Check(sqlite3_bind_int64(stmt_, next_param_, v)); }

void Stmt::BindOne(const Bytes& v) {
  if (v.empty()) {
    Check(sqlite3_bind_zeroblob(stmt_, next_param_, 0));  // a null pointer would bind NULL
  } else {
    Check(sqlite3_bind_blob(stmt_, next_param_, v.data(), static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
  }
}

void Stmt::BindOne(const std::optional<std::string>& v) {
  if (v.has_value()) {
    BindOne(std::string_view(*v));
  } else {
    Check(sqlite3_bind_null(stmt_, next_param_));
  }
}

Result<bool> Stmt::Step() {
  RETURN_IF_ERROR(bind_error_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, sqlite3_sql(stmt_));
}

Status Stmt::Run() {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

Bytes Stmt::Blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  if (p == nullptr) return {};
  return Bytes(p, p + sqlite3_column_bytes(stmt_, col));
}

// --- Db ---

Db::Db(sqlite3* handle, std::string path, Clock& clock)
    : handle_(handle), path_(std::move(path)), clock_(clock) {}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  // The last connection to close checkpoints the WAL into the database and removes it.
  sqlite3_close_v2(handle_);
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Clock& clock) {
  // The catalog holds secret access keys: a new file is made owner-only, and SQLite gives its
  // -wal and -shm files the database file's mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return IoError("create catalog " + path + ": " + std::strerror(errno));
  }
  sqlite3* handle = nullptr;
  // NOMUTEX: the Db's own mutex serializes use of the connection. SQLite opens its files with
  // O_CLOEXEC, so they do not leak into instances.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close_v2(handle);
    return IoError("open catalog " + path + ": " + message);
  }
  std::unique_ptr<Db> db(new Db(handle, path, clock));
  RETURN_IF_ERROR(db->Configure().Annotate("open catalog " + path));
  return db;
}

Status Db::Configure() {
  sqlite3_extended_result_codes(handle_, 1);
  sqlite3_busy_timeout(handle_, kBusyTimeoutMillis);
  // The first statement reads the file header: a file that is not a database fails here.
  ASSIGN_OR_RETURN(Stmt mode, Prepare("PRAGMA journal_mode=WAL"));
  ASSIGN_OR_RETURN(bool row, mode.Step());
  if (!row || mode.Text(0) != "wal") {
    return IoError("cannot switch the journal to WAL (got '" + (row ? mode.Text(0) : "") + "')");
  }
  RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  ASSIGN_OR_RETURN(Stmt check, Prepare("PRAGMA quick_check(8)"));
  std::string problems;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, check.Step());
    if (!more) break;
    std::string line = check.Text(0);
    if (line == "ok") continue;
    problems += problems.empty() ? line : "; " + line;
  }
  if (!problems.empty()) return CorruptionError("quick_check: " + problems);
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Stmt(this, it->second.stmt, &it->second.in_use);
  }
  bool cache = it == cache_.end() && cache_.size() < kMaxCachedStatements;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(handle_, key.data(), static_cast<int>(key.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, key);
  if (!cache) return Stmt(this, stmt, nullptr);
  CachedStmt& slot = cache_[key];
  slot.stmt = stmt;
  slot.in_use = true;
  return Stmt(this, stmt, &slot.in_use);
}

Status Db::Exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(handle_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string text = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Status(CodeFor(rc), std::string(sql).substr(0, 80) + ": " + text);
}

int64_t Db::Changes() { return sqlite3_changes64(handle_); }

Status Db::Error(int rc, std::string_view context) {
  std::string where(context.substr(0, 120));
  return Status(CodeFor(rc), where + ": " + sqlite3_errmsg(handle_));
}

Status Db::CheckJoin(uint64_t serial) const {
  if (serial != tx_serial_) return InternalError("catalog: the transaction has ended");
  if (tx_owner_.load() != std::this_thread::get_id()) {
    return InternalError("catalog: a transaction used from another thread than its own");
  }
  return Status::Ok();
}

Status Db::CheckNotOwner() const {
  if (tx_owner_.load() == std::this_thread::get_id()) {
    return InternalError(
        "catalog: called outside the transaction this thread holds (it would deadlock)");
  }
  return Status::Ok();
}

Status Db::Finish(const char* begin_sql, bool ok) {
  if (std::strcmp(begin_sql, "SAVEPOINT") == 0) {
    return Exec(ok ? "RELEASE call" : "ROLLBACK TO call; RELEASE call");
  }
  if (ok) {
    Status commit = Exec("COMMIT");
    if (commit.ok()) return commit;
    if (!sqlite3_get_autocommit(handle_)) Exec("ROLLBACK").IgnoreError();
    return commit;
  }
  // After some errors (SQLITE_FULL, IOERR) SQLite has already rolled back.
  if (!sqlite3_get_autocommit(handle_)) return Exec("ROLLBACK");
  return Status::Ok();
}

Result<std::pair<std::unique_lock<std::mutex>, uint64_t>> Db::BeginTransaction() {
  RETURN_IF_ERROR(CheckNotOwner());
  std::unique_lock<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  tx_serial_ = ++next_serial_;
  tx_owner_.store(std::this_thread::get_id());
  return std::make_pair(std::move(lock), tx_serial_);
}

Status Db::EndTransaction(bool commit) {
  tx_serial_ = 0;
  tx_owner_.store(std::thread::id());
  if (commit && sqlite3_get_autocommit(handle_)) {
    return AbortedError("catalog: SQLite rolled the transaction back after an earlier error");
  }
  return Finish("BEGIN IMMEDIATE", commit);
}

}  // namespace kiln::catalog_internal
