// Tags as requests carry them and responses show them, shared by every action that tags:
// TagSpecification.N (ResourceType + Tag.M.Key/Value) of the create actions, the Tag.N lists
// of CreateTags/DeleteTags, EC2's tag rules, and the <tagSet> of a response item.
//
// EC2's tag rules (ValidateTags): a key is 1..128 characters, a value 0..256 (characters are
// Unicode code points of the UTF-8 text), a key may not start with "aws:" in any case
// (reserved), a key appears at most once per request, and a resource holds at most 50 tags.
// Violations are InvalidParameterValue, the count is TagLimitExceeded.
//
// Lives in namespace kiln::actions: src/cloud has its own kiln::TagsFor with the same shape.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"
#include "catalog/records.h"
#include "ec2/describe.h"
#include "ec2/xml_writer.h"

namespace kiln::actions {

inline constexpr size_t kMaxTagsPerResource = 50;

// Checks `tags` against EC2's rules (above); `tags` are the ones a request adds to one resource.
Status ValidateTags(const std::vector<Tag>& tags);

// The tags of the request's TagSpecification.N whose ResourceType is `resource_type` (empty if
// none), validated. InvalidParameterValue if any TagSpecification names a ResourceType not in
// `allowed` (or none), or names one type twice; the tag errors of ValidateTags. The returned
// tags have an empty resource_id (TagsOn sets it).
Result<std::vector<Tag>> TagsFor(const QueryParams& params, std::string_view resource_type,
                                 const std::vector<std::string_view>& allowed);

// Reads the list `prefix`.N.Key / `prefix`.N.Value ("Tag" for CreateTags). An absent Value is
// "" and `has_value` of the result says whether it was sent (DeleteTags deletes a key whatever
// its value when Value is absent, but only the empty value when Value is sent empty).
struct TagParam {
  std::string key;
  std::string value;
  bool has_value = false;
};
Result<std::vector<TagParam>> ParseTagParams(const QueryParams& params, std::string_view prefix);

// `tags` with resource_id set to `id`.
std::vector<Tag> TagsOn(const std::vector<Tag>& tags, const std::string& id);

// The <tagSet> of a response item is ec2/describe.h's WriteTagSet.
using ::kiln::WriteTagSet;

}  // namespace kiln::actions
