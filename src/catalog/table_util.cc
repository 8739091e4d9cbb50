#include "catalog/table_util.h"

#include "catalog/ids.h"

namespace kiln::catalog_internal {
namespace {

// SQLite allows 32766 parameters per statement; a list of ids longer than this is refused
// rather than split (EC2's own limits are far lower).
constexpr size_t kMaxListIds = 10000;

Status CheckListQuery(const ListSpec& spec, const ListQuery& query) {
  if (query.limit < 0) return InvalidArgumentError("list limit must not be negative");
  if (!spec.has_owner && !query.owner_id.empty()) {
    return InvalidArgumentError(std::string(spec.table) + " have no owner to list by");
  }
  if (!query.visible_to.empty() && spec.permissions_table[0] == '\0') {
    return InvalidArgumentError(std::string("visible_to does not apply to ") + spec.table);
  }
  if (!query.name_globs.empty() && std::string_view(spec.table) != "images") {
    return InvalidArgumentError(std::string("name_globs does not apply to ") + spec.table);
  }
  if (query.ids.size() + query.name_globs.size() > kMaxListIds) {
    return InvalidArgumentError("too many ids in one list (" + std::to_string(query.ids.size()) +
                                ")");
  }
  return Status::Ok();
}

}  // namespace

Result<Stmt> PrepareList(Db& db, const ListSpec& spec, const ListQuery& query) {
  RETURN_IF_ERROR(CheckListQuery(spec, query));
  const std::string id = spec.id_column;
  std::string sql = std::string("SELECT ") + spec.columns + " FROM " + spec.table + " WHERE 1";
  if (!query.owner_id.empty()) sql += " AND owner_id = ?";
  if (!query.visible_to.empty()) {
    sql += " AND (owner_id = ? OR " + id + " IN (SELECT " + id + " FROM " + spec.permissions_table +
           " WHERE grantee IN ('all', ?)))";
  }
  if (!query.ids.empty()) {
    sql += " AND " + id + " IN (?";
    for (size_t i = 1; i < query.ids.size(); ++i) sql += ", ?";
    sql += ")";
  }
  if (!query.name_globs.empty()) {
    sql += " AND (name GLOB ?";
    for (size_t i = 1; i < query.name_globs.size(); ++i) sql += " OR name GLOB ?";
    sql += ")";
  }
  if (!query.after_id.empty()) sql += " AND " + id + " > ?";
  sql += " ORDER BY " + id;
  if (query.limit > 0) sql += " LIMIT ?";

  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  if (!query.owner_id.empty()) stmt.Bind(query.owner_id);
  if (!query.visible_to.empty()) stmt.Bind(query.visible_to, query.visible_to);
  for (const std::string& each : query.ids) stmt.Bind(each);
  for (const std::string& each : query.name_globs) stmt.Bind(each);
  if (!query.after_id.empty()) stmt.Bind(query.after_id);
  if (query.limit > 0) stmt.Bind(query.limit);
  return stmt;
}

Status CasFailure(Db& db, const char* table, const char* id_column, const char* what,
                  const std::string& id, std::string_view expected) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT state FROM ") + table + " WHERE " +
                                         id_column + " = ?"));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(id).Step());
  if (!row) return NotFoundFor(what, id);
  return FailedPreconditionError(std::string(what) + " " + id + " is " + stmt.Text(0) + ", not " +
                                 std::string(expected));
}

Status NotFoundFor(std::string_view what, const std::string& id) {
  return NotFoundError(std::string(what) + " " + id + " does not exist");
}

Status CheckId(std::string_view prefix, const std::string& id, std::string_view what) {
  if (IsResourceId(prefix, id)) return Status::Ok();
  return InvalidArgumentError(std::string(what) + " '" + id + "' is not " + std::string(prefix) +
                              "-<hex>");
}

Status CheckAccountId(const std::string& id, std::string_view what) {
  if (IsAccountId(id)) return Status::Ok();
  return InvalidArgumentError(std::string(what) + " '" + id + "' is not a 12-digit account id");
}

Result<std::string> Grantee(const std::string& group, const std::string& user_id) {
  if (!group.empty() && !user_id.empty()) {
    return InvalidArgumentError("a permission has a group or a user id, not both");
  }
  if (!group.empty()) {
    if (group != "all") return InvalidArgumentError("permission group '" + group + "' is not all");
    return group;
  }
  RETURN_IF_ERROR(CheckAccountId(user_id, "permission user id"));
  return user_id;
}

Status AddPermission(Db& db, const PermissionTable& t, const std::string& id,
                     const std::string& grantee) {
  ASSIGN_OR_RETURN(
      bool parent,
      Exists(db, std::string("SELECT 1 FROM ") + t.parent_what + "s WHERE " + t.id_column + " = ?",
             id));
  if (!parent)
    return FailedPreconditionError(std::string(t.parent_what) + " " + id + " does not exist");
  return Change(db,
                std::string("INSERT OR IGNORE INTO ") + t.table + " (" + t.id_column +
                    ", grantee) VALUES (?, ?)",
                id, grantee)
      .status();
}

Status RemovePermission(Db& db, const PermissionTable& t, const std::string& id,
                        const std::string& grantee) {
  return Change(db,
                std::string("DELETE FROM ") + t.table + " WHERE " + t.id_column +
                    " = ? AND grantee = ?",
                id, grantee)
      .status();
}

Result<std::vector<std::string>> ListGrantees(Db& db, const PermissionTable& t,
                                              const std::string& id) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT grantee FROM ") + t.table + " WHERE " +
                                         t.id_column + " = ? ORDER BY grantee <> 'all', grantee"));
  stmt.Bind(id);
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(stmt.Text(0));
  }
}

Status DeleteTagsOf(Db& db, const std::string& resource_id) {
  return Change(db, "DELETE FROM tags WHERE resource_id = ?", resource_id).status();
}

}  // namespace kiln::catalog_internal
