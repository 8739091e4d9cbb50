// Internal to src/catalog: the one SQLite connection (Db), its prepared statements (Stmt), and
// how a table call runs (on its own in a transaction, or inside an open Transaction). Only the
// catalog's .cc files include this; sqlite3.h itself is included only by .cc files.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "base/bytes.h"
#include "base/status.h"
#include "catalog/table_context.h"
#include "env/clock.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::catalog_internal {

class Db;

// A prepared statement borrowed from the Db's cache (or owned, if the cached one is busy).
// Parameters are bound in order by Bind; the destructor resets it for the next user.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Binds the next positional parameters (text, integers, booleans, blobs, or nullopt).
  template <typename... Ts>
  Stmt& Bind(const Ts&... values) {
    (BindOne(values), ...);
    return *this;
  }

  // Steps: true when a row is ready for the column getters, false when done.
  Result<bool> Step();
  // Steps to the end (statements without result rows, or whose rows do not matter).
  Status Run();

  std::string Text(int col) const;  // "" for NULL
  int64_t Int(int col) const;       // 0 for NULL
  bool Bool(int col) const { return Int(col) != 0; }
  Bytes Blob(int col) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* stmt, bool* in_use);

  void BindOne(std::string_view v);
  void BindOne(const std::string& v) { BindOne(std::string_view(v)); }
  void BindOne(const char* v) { BindOne(std::string_view(v)); }
  void BindOne(int64_t v);
  void BindOne(int v) { BindOne(static_cast<int64_t>(v)); }
  void BindOne(uint64_t v) { BindOne(static_cast<int64_t>(v)); }
  void BindOne(bool v) { BindOne(static_cast<int64_t>(v ? 1 : 0)); }
  void BindOne(const Bytes& v);
  void BindOne(const std::optional<std::string>& v);
  void Check(int rc);

  Db* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag; null if this Stmt owns (finalizes) the statement
  int next_param_ = 1;
  Status bind_error_;
};

// A text parameter that is NULL when empty (nullable references).
inline std::optional<std::string> NullIfEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// The connection, its mutex, and the state of the Transaction that holds it (if any).
class Db {
 public:
  // Opens (creating) the file, sets the pragmas (WAL, synchronous=FULL, foreign keys, busy
  // timeout) and checks it (quick_check). Errors as Catalog::Open.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Clock& clock);
  ~Db();

  Clock& clock() { return clock_; }
  const std::string& path() const { return path_; }

  Result<Stmt> Prepare(std::string_view sql);
  // Runs SQL text that may hold several statements and no parameters.
  Status Exec(const char* sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes();
  // The Status for SQLite result code `rc` (extended), with SQLite's message and `context`.
  Status Error(int rc, std::string_view context);

  // Runs `f` (returning Status or Result<T>) as a table call from `ctx`: joined to its
  // Transaction, or in a transaction of its own. A write that fails has no effect.
  template <typename F>
  auto Read(const TableContext& ctx, F&& f) -> decltype(f()) {
    return Run(ctx, /*write=*/false, std::forward<F>(f));
  }
  template <typename F>
  auto Write(const TableContext& ctx, F&& f) -> decltype(f()) {
    return Run(ctx, /*write=*/true, std::forward<F>(f));
  }

  // Transaction support (Catalog::Begin, Transaction::Commit/Rollback). Begin takes the lock.
  Result<std::pair<std::unique_lock<std::mutex>, uint64_t>> BeginTransaction();
  Status EndTransaction(bool commit);  // caller holds the lock; clears the owner

 private:
  Db(sqlite3* handle, std::string path, Clock& clock);
  Status Configure();

  template <typename F>
  auto Run(const TableContext& ctx, bool write, F&& f) -> decltype(f());
  Status CheckJoin(uint64_t serial) const;
  Status CheckNotOwner() const;
  Status Finish(const char* begin_sql, bool ok);  // ends a savepoint or a transaction

  struct CachedStmt {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  sqlite3* handle_;
  std::string path_;
  Clock& clock_;
  std::mutex mu_;  // held by every call and by an open Transaction
  std::unordered_map<std::string, CachedStmt> cache_;
  std::atomic<std::thread::id> tx_owner_{};
  uint64_t tx_serial_ = 0;  // the open Transaction's serial; 0: none
  uint64_t next_serial_ = 0;
};

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

template <typename F>
auto Db::Run(const TableContext& ctx, bool write, F&& f) -> decltype(f()) {
  if (ctx.transaction != 0) {
    RETURN_IF_ERROR(CheckJoin(ctx.transaction));
    if (!write) return f();
    RETURN_IF_ERROR(Exec("SAVEPOINT call"));
    auto result = f();
    RETURN_IF_ERROR(Finish("SAVEPOINT", StatusOf(result).ok()));
    return result;
  }
  RETURN_IF_ERROR(CheckNotOwner());
  std::lock_guard<std::mutex> lock(mu_);
  // Writes take the write lock at once (IMMEDIATE): a deferred transaction that reads and then
  // writes can fail with SQLITE_BUSY_SNAPSHOT without the busy handler running.
  const char* begin = write ? "BEGIN IMMEDIATE" : "BEGIN";
  RETURN_IF_ERROR(Exec(begin));
  auto result = f();
  RETURN_IF_ERROR(Finish(begin, StatusOf(result).ok()));
  return result;
}

}  // namespace kiln::catalog_internal
