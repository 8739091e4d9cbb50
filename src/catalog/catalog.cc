#include "catalog/catalog.h"

#include <utility>

#include "catalog/db.h"
#include "catalog/migrations.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;

// --- Transaction ---

Transaction::Transaction(Db* db, std::unique_lock<std::mutex> lock, uint64_t serial)
    : CatalogTables(TableContext{db, serial}), db_(db), lock_(std::move(lock)), open_(true) {}

Transaction::Transaction(Transaction&& other) noexcept
    : CatalogTables(other.ctx_),
      db_(other.db_),
      lock_(std::move(other.lock_)),
      open_(std::exchange(other.open_, false)) {}

Transaction::~Transaction() { Rollback(); }

Status Transaction::Commit() {
  if (!open_) return InternalError("catalog: Commit of a transaction that has ended");
  open_ = false;
  Status status = db_->EndTransaction(/*commit=*/true);
  lock_.unlock();
  return status;
}

void Transaction::Rollback() {
  if (!open_) return;
  open_ = false;
  // A failed ROLLBACK leaves nothing to do: SQLite has already ended the transaction.
  db_->EndTransaction(/*commit=*/false).IgnoreError();
  lock_.unlock();
}

// --- Catalog ---

Catalog::Catalog(std::unique_ptr<Db> db, int schema_version)
    : CatalogTables(TableContext{db.get(), 0}),
      db_(std::move(db)),
      schema_version_(schema_version) {}

Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path, Clock& clock) {
  return catalog_internal::OpenCatalog(path, clock, catalog_internal::CatalogMigrations());
}

Result<Transaction> Catalog::Begin() {
  ASSIGN_OR_RETURN(auto begun, db_->BeginTransaction());
  return Transaction(db_.get(), std::move(begun.first), begun.second);
}

Status Catalog::CheckIntegrity() {
  return db_->Read(ctx_, [&]() -> Status {
    std::string problems;
    ASSIGN_OR_RETURN(Stmt check, db_->Prepare("PRAGMA integrity_check(16)"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, check.Step());
      if (!row) break;
      if (check.Text(0) != "ok") problems += (problems.empty() ? "" : "; ") + check.Text(0);
    }
    ASSIGN_OR_RETURN(Stmt keys, db_->Prepare("PRAGMA foreign_key_check"));
    for (int shown = 0; shown < 16;) {
      ASSIGN_OR_RETURN(bool row, keys.Step());
      if (!row) break;
      problems += (problems.empty() ? "" : "; ") + keys.Text(0) + " row " + keys.Text(1) +
                  " refers to a missing " + keys.Text(2);
      ++shown;
    }
    if (!problems.empty()) return CorruptionError("catalog " + db_->path() + ": " + problems);
    return Status::Ok();
  });
}

}  // namespace kiln
