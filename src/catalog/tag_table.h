// TagTable: tags (key -> value) of any resource id. Obtain it from Catalog or Transaction
// (catalog.h states the errors and thread-safety all tables share). The table does not check
// that the resource exists (it may be any kind): the service layer does. Deleting an image,
// snapshot, volume, instance or key pair through its table deletes its tags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class TagTable {
 public:
  explicit TagTable(TableContext ctx) : ctx_(ctx) {}

  // Sets each tag's key to its value (CreateTags: an existing key is overwritten). Every tag
  // must name `resource_id` (or leave resource_id empty); InvalidArgument for an empty key or
  // an empty resource id.
  Status Set(const std::string& resource_id, const std::vector<Tag>& tags);
  // DeleteTags for one key: removes it if present and, when `value` is given, only if the tag
  // has exactly that value (EC2's rule, where an empty value is a value). OK if nothing matched.
  Status Delete(const std::string& resource_id, const std::string& key,
                const std::optional<std::string>& value = std::nullopt);
  // Removes every tag of the resource.
  Status DeleteAll(const std::string& resource_id);
  // The resource's tags, by key.
  Result<std::vector<Tag>> List(const std::string& resource_id);
  // The tags of these resources, by resource id then key.
  Result<std::vector<Tag>> ListForResources(const std::vector<std::string>& resource_ids);

 private:
  TableContext ctx_;
};

}  // namespace kiln
