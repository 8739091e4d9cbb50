#include "catalog/tag_table.h"

#include <algorithm>

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

Tag ReadTag(const Stmt& s) { return Tag{s.Text(0), s.Text(1), s.Text(2)}; }

Status CheckTags(const std::string& resource_id, const std::vector<Tag>& tags) {
  if (resource_id.empty()) return InvalidArgumentError("a tag needs a resource id");
  for (const Tag& tag : tags) {
    if (tag.key.empty()) return InvalidArgumentError("a tag needs a key");
    if (!tag.resource_id.empty() && tag.resource_id != resource_id) {
      return InvalidArgumentError("tag " + tag.key + " names resource " + tag.resource_id +
                                  ", not " + resource_id);
    }
  }
  return Status::Ok();
}

}  // namespace

Status TagTable::Set(const std::string& resource_id, const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(CheckTags(resource_id, tags));
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    for (const Tag& tag : tags) {
      RETURN_IF_ERROR(
          ci::Change(db,
                     "INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) "
                     "ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value",
                     resource_id, tag.key, tag.value)
              .status());
    }
    return Status::Ok();
  });
}

Status TagTable::Delete(const std::string& resource_id, const std::string& key,
                        const std::optional<std::string>& value) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    if (value.has_value()) {
      return ci::Change(db, "DELETE FROM tags WHERE resource_id = ? AND key = ? AND value = ?",
                        resource_id, key, *value)
          .status();
    }
    return ci::Change(db, "DELETE FROM tags WHERE resource_id = ? AND key = ?", resource_id, key)
        .status();
  });
}

Status TagTable::DeleteAll(const std::string& resource_id) {
  return ctx_.db->Write(ctx_, [&] { return ci::DeleteTagsOf(*ctx_.db, resource_id); });
}

Result<std::vector<Tag>> TagTable::List(const std::string& resource_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Tag>> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT resource_id, key, value FROM tags "
                                           "WHERE resource_id = ? ORDER BY key"));
    stmt.Bind(resource_id);
    return ci::ReadAll<Tag>(stmt, ReadTag);
  });
}

Result<std::vector<Tag>> TagTable::ListForResources(const std::vector<std::string>& resource_ids) {
  if (resource_ids.empty()) return std::vector<Tag>{};
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Tag>> {
    // One query per resource keeps the statement cached; the primary key makes each a seek.
    std::vector<std::string> ids = resource_ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<Tag> out;
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(Stmt one, db.Prepare("SELECT resource_id, key, value FROM tags "
                                            "WHERE resource_id = ? ORDER BY key"));
      one.Bind(id);
      ASSIGN_OR_RETURN(std::vector<Tag> tags, ci::ReadAll<Tag>(one, ReadTag));
      out.insert(out.end(), tags.begin(), tags.end());
    }
    return out;
  });
}

}  // namespace kiln
