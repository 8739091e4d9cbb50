#include "actions/tag_specs.h"

#include <algorithm>
#include <set>

#include "actions/action_common.h"

namespace kiln::actions {
namespace {

// Tag limits count characters, not bytes: a UTF-8 continuation byte is not a new character.
size_t CodePoints(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool HasReservedPrefix(std::string_view key) {
  if (key.size() < 4) return false;
  std::string head(key.substr(0, 4));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; });
  return head == "aws:";
}

}  // namespace

Status ValidateTags(const std::vector<Tag>& tags) {
  std::set<std::string_view> seen;
  for (const Tag& t : tags) {
    const size_t key_chars = CodePoints(t.key);
    if (key_chars < 1 || key_chars > 128) {
      return Ec2Error("InvalidParameterValue",
                      "Tag key '" + t.key + "' must be between 1 and 128 characters long");
    }
    if (CodePoints(t.value) > 256) {
      return Ec2Error("InvalidParameterValue",
                      "Tag value for key '" + t.key + "' exceeds the maximum of 256 characters");
    }
    if (HasReservedPrefix(t.key)) {
      return Ec2Error("InvalidParameterValue",
                      "Tag keys starting with 'aws:' are reserved for internal use");
    }
    if (!seen.insert(t.key).second) {
      return Ec2Error("InvalidParameterValue", "Duplicate tag key '" + t.key + "' specified");
    }
  }
  if (tags.size() > kMaxTagsPerResource) {
    return Ec2Error("TagLimitExceeded", "The maximum number of tags per resource (50) is exceeded");
  }
  return Status::Ok();
}

Result<std::vector<TagParam>> ParseTagParams(const QueryParams& params, std::string_view prefix) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> items, params.Structs(prefix));
  std::vector<TagParam> out;
  for (const QueryParams& item : items) {
    out.push_back(TagParam{.key = item.Get("Key").value_or(""),
                           .value = item.Get("Value").value_or(""),
                           .has_value = item.Has("Value")});
  }
  return out;
}

Result<std::vector<Tag>> TagsFor(const QueryParams& params, std::string_view resource_type,
                                 const std::vector<std::string_view>& allowed) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> specs, params.Structs("TagSpecification"));
  std::set<std::string> types_seen;
  std::vector<Tag> out;
  for (const QueryParams& spec : specs) {
    const std::string type = spec.Get("ResourceType").value_or("");
    if (std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
      return Ec2Error("InvalidParameterValue",
                      "'" + type + "' is not a valid taggable resource type for this operation.");
    }
    if (!types_seen.insert(type).second) {
      return Ec2Error("InvalidParameterValue", "The resource type '" + type +
                                                   "' is specified more than once in the tag "
                                                   "specifications");
    }
    if (type != resource_type) continue;
    ASSIGN_OR_RETURN(std::vector<TagParam> tags, ParseTagParams(spec, "Tag"));
    for (TagParam& t : tags)
      out.push_back(Tag{.key = std::move(t.key), .value = std::move(t.value)});
  }
  RETURN_IF_ERROR(ValidateTags(out));
  return out;
}

std::vector<Tag> TagsOn(const std::vector<Tag>& tags, const std::string& id) {
  std::vector<Tag> out = tags;
  for (Tag& t : out) t.resource_id = id;
  return out;
}

}  // namespace kiln::actions
