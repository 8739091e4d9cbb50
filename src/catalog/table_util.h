// Internal to src/catalog: what the table implementations share (list queries, compare-and-set
// failures, permissions, tag removal, input checks).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "catalog/db.h"
#include "catalog/table_context.h"

namespace kiln::catalog_internal {

// How a table is listed.
struct ListSpec {
  const char* table;      // e.g. "images"
  const char* id_column;  // e.g. "image_id"; the order and the cursor
  const char* columns;    // the select list, e.g. "image_id, owner_id, ..."
  bool has_owner;         // whether the table has owner_id
  // For ListQuery::visible_to: the permissions table keyed by id_column ("" if none).
  const char* permissions_table;
};

// A statement, bound, that lists `spec`'s rows as `query` asks.
Result<Stmt> PrepareList(Db& db, const ListSpec& spec, const ListQuery& query);

// The error for an UPDATE ... WHERE id = ? AND state = ? that changed nothing: NotFound if the
// row is gone, else FailedPrecondition naming the state it is in. `what` names the record
// ("image", "volume attachment").
Status CasFailure(Db& db, const char* table, const char* id_column, const char* what,
                  const std::string& id, std::string_view expected);

// "<what> <id> does not exist".
Status NotFoundFor(std::string_view what, const std::string& id);

// InvalidArgument unless `id` is `prefix`-<hex>; `what` names the field.
Status CheckId(std::string_view prefix, const std::string& id, std::string_view what);
// InvalidArgument unless `id` is 12 digits.
Status CheckAccountId(const std::string& id, std::string_view what);

// Runs an INSERT/UPDATE/DELETE bound with `args`; returns the rows changed.
template <typename... Ts>
Result<int64_t> Change(Db& db, std::string_view sql, const Ts&... args) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  RETURN_IF_ERROR(stmt.Bind(args...).Run());
  return db.Changes();
}

// Whether a SELECT bound with `args` has a row.
template <typename... Ts>
Result<bool> Exists(Db& db, std::string_view sql, const Ts&... args) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  return stmt.Bind(args...).Step();
}

// Every row of `stmt`, each made into a T by `read(stmt)`.
template <typename T, typename ReadFn>
Result<std::vector<T>> ReadAll(Stmt& stmt, ReadFn read) {
  std::vector<T> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(read(stmt));
  }
}

// The same with a `read` that may fail (a state this code does not know: Corruption).
template <typename T, typename ReadFn>
Result<std::vector<T>> ReadAllChecked(Stmt& stmt, ReadFn read) {
  std::vector<T> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    ASSIGN_OR_RETURN(T value, read(stmt));
    out.push_back(std::move(value));
  }
}

// Permission rows (launch_permissions, create_volume_permissions): grantee is "all" or an
// account id. `table` is keyed by (`id_column`, grantee).
struct PermissionTable {
  const char* table;
  const char* id_column;
  const char* parent_what;  // "image", "snapshot"
};
// The grantee for {group, user_id}: InvalidArgument unless exactly one is set and valid.
Result<std::string> Grantee(const std::string& group, const std::string& user_id);
Status AddPermission(Db& db, const PermissionTable& t, const std::string& id,
                     const std::string& grantee);
Status RemovePermission(Db& db, const PermissionTable& t, const std::string& id,
                        const std::string& grantee);
// Grantees, "all" first, then account ids in order.
Result<std::vector<std::string>> ListGrantees(Db& db, const PermissionTable& t,
                                              const std::string& id);

// Removes every tag of `resource_id`.
Status DeleteTagsOf(Db& db, const std::string& resource_id);

}  // namespace kiln::catalog_internal
