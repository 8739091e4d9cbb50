// Catalog: the control plane's durable record of accounts, credentials, images, snapshots,
// volumes, attachments, instances, tags, key pairs, VPCs, subnets, security groups,
// permissions and jobs, in one SQLite database (schema and its migrations:
// src/catalog/README.md). This module is the only one that includes sqlite3.h; no SQLite type
// appears in its public headers.
//
// Durability: WAL journal with synchronous=FULL, so a call (or Transaction::Commit) that
// returns OK has reached stable storage, and a crash (kill -9, power loss) leaves every
// transaction all-or-nothing. FULL rather than NORMAL because NORMAL in WAL mode may lose the
// last commits on power loss, and an acknowledged CreateImage or job must not be lost.
// Foreign keys are enforced; a write waits up to 5 s for another process holding the write
// lock (e.g. `kilnd account create` beside a running kilnd), then returns Unavailable.
//
// Using it: the tables (accounts(), images(), ..., jobs()) are small handles. Taken from the
// Catalog, each call is a transaction of its own. Taken from a Transaction, calls join it and
// commit or roll back together:
//
//   ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
//   RETURN_IF_ERROR(tx.images().Insert(image));            // with its mappings
//   RETURN_IF_ERROR(tx.tags().Set(image.image_id, tags));
//   ASSIGN_OR_RETURN(Job job, tx.jobs().Enqueue("create-image", image.image_id, payload));
//   RETURN_IF_ERROR(tx.Commit());  // or return early: the destructor rolls back
//
// A call that fails inside a Transaction has no effect (it runs in a savepoint); the
// Transaction stays usable, and the caller decides whether to commit the rest.
//
// Reads after writes are consistent: a committed write is visible to every later call.
//
// Errors common to all calls: NotFound for a missing id; AlreadyExists for a unique key taken;
// FailedPrecondition for a compare-and-set whose expected state does not match, or a reference
// to a missing record (foreign key); InvalidArgument for a malformed record; Unavailable if
// another process holds the write lock too long; IoError if the disk fails; Corruption if the
// database is damaged; Internal for misuse (e.g. a call on the Catalog from a thread that
// holds an open Transaction, which would deadlock).
//
// Thread-safety: one Catalog is shared by all threads. It holds one SQLite connection behind a
// mutex: every call, and every Transaction for its whole life, has the connection to itself.
// This serializes catalog work, which is short (microseconds to a millisecond), and makes
// reads after writes and compare-and-set trivially right; keep Transactions short (no waiting
// on the runtime or storage inside one). A Transaction belongs to the thread that began it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "catalog/account_table.h"
#include "catalog/image_table.h"
#include "catalog/instance_table.h"
#include "catalog/job_queue.h"
#include "catalog/key_pair_table.h"
#include "catalog/launch_records_table.h"
#include "catalog/records.h"
#include "catalog/security_group_table.h"
#include "catalog/snapshot_table.h"
#include "catalog/table_context.h"
#include "catalog/tag_table.h"
#include "catalog/volume_table.h"
#include "catalog/vpc_table.h"
#include "env/clock.h"

namespace kiln {

// The tables, as Catalog and Transaction both offer them.
class CatalogTables {
 public:
  AccountTable accounts() const { return AccountTable(ctx_); }
  ImageTable images() const { return ImageTable(ctx_); }
  SnapshotTable snapshots() const { return SnapshotTable(ctx_); }
  VolumeTable volumes() const { return VolumeTable(ctx_); }
  InstanceTable instances() const { return InstanceTable(ctx_); }
  TagTable tags() const { return TagTable(ctx_); }
  KeyPairTable key_pairs() const { return KeyPairTable(ctx_); }
  VpcTable vpcs() const { return VpcTable(ctx_); }  // VPCs and subnets
  SecurityGroupTable security_groups() const { return SecurityGroupTable(ctx_); }
  JobQueue jobs() const { return JobQueue(ctx_); }
  PasswordDataTable password_data() const { return PasswordDataTable(ctx_); }
  VolumeInitializationTable volume_initialization() const {
    return VolumeInitializationTable(ctx_);
  }

 protected:
  explicit CatalogTables(TableContext ctx) : ctx_(ctx) {}
  TableContext ctx_;
};

// A write transaction: holds the catalog for the calling thread until Commit, Rollback or
// destruction (which rolls back). Move-only; use and destroy it on the thread that began it.
class Transaction : public CatalogTables {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  // Makes every change durable at once. On error nothing is applied (rolled back). Either way
  // the transaction has ended: later calls through its tables fail with Internal.
  Status Commit();
  // Discards every change. Idempotent.
  void Rollback();

 private:
  friend class Catalog;
  Transaction(catalog_internal::Db* db, std::unique_lock<std::mutex> lock, uint64_t serial);

  catalog_internal::Db* db_;
  std::unique_lock<std::mutex> lock_;
  bool open_;
};

class Catalog : public CatalogTables {
 public:
  // Opens the database at `path`, creating it (mode 0600: it holds secret keys; not its
  // directory) if missing, and brings
  // its schema up to date: each migration the file lacks runs in a transaction of its own and
  // is recorded in its `schema_migrations` table. Checks the file first (PRAGMA quick_check).
  // Corruption, with SQLite's reason, if the file is not a database or is damaged;
  // FailedPrecondition if it was written by newer code (a schema version this code does not
  // know) or is another application's SQLite database; IoError if it cannot be opened.
  // `clock` stamps job times and migrations; it must outlive the Catalog.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path, Clock& clock);

  // Every Transaction must have ended.
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Begins a write transaction (SQLite BEGIN IMMEDIATE): waits for the catalog's mutex, then
  // for other processes' writers (Unavailable after the busy timeout). Internal if this thread
  // already holds a Transaction of this Catalog.
  Result<Transaction> Begin();

  // The full check (PRAGMA integrity_check and foreign_key_check): OK, or Corruption listing
  // the first problems found. Reads the whole file.
  Status CheckIntegrity();

  // The schema version the database has (the highest migration applied).
  int schema_version() const { return schema_version_; }

  // For Open's use: a Db cannot be made outside this module.
  Catalog(std::unique_ptr<catalog_internal::Db> db, int schema_version);

 private:
  std::unique_ptr<catalog_internal::Db> db_;
  int schema_version_;
};

}  // namespace kiln
