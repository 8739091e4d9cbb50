// Internal to src/catalog: the numbered schema migrations and how they are applied.
//
// A migration is forever: once released, its SQL never changes; a change of schema is a new
// migration with the next version. The database records each applied migration (version and
// name) in `schema_migrations`; a file whose record names a version this code lacks, or a
// different name for a version, was written by other code and is refused.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/db.h"
#include "env/clock.h"

namespace kiln::catalog_internal {

struct Migration {
  int version;       // 1, 2, 3, ...: consecutive
  const char* name;  // short, stable: recorded with the version
  const char* sql;   // one or more statements; run in one transaction with the record
};

// kiln's migrations, in order.
std::span<const Migration> CatalogMigrations();

// Brings `db` up to the last of `migrations` (which must be numbered 1..n), each in its own
// transaction, and returns the resulting version. Safe against another process migrating the
// same file at once. FailedPrecondition for a newer or foreign schema; Corruption if the
// migrations table is inconsistent.
Result<int> ApplyMigrations(Db& db, std::span<const Migration> migrations);

// Catalog::Open with a given list of migrations (tests use it to simulate newer code).
Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& path, Clock& clock,
                                             std::span<const Migration> migrations);

}  // namespace kiln::catalog_internal
