// Filters for the static Describe actions (regions, zones, account attributes, instance types),
// whose items are a handful of fixed records: `Filter.N.Name` / `Filter.N.Value.M` as EC2 reads
// them. Filters are ANDed, a filter's values ORed, and a value may use the wildcards `*` (any
// run of characters) and `?` (one character).
//
// Errors carry EC2's codes: MissingParameter for a filter without a name,
// InvalidParameterValue for a name the action does not support or a filter without values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/query.h"
#include "base/status.h"

namespace kiln {

struct SimpleFilter {
  std::string name;
  std::vector<std::string> values;
};

// The request's filters; `supported` lists the names the action accepts.
Result<std::vector<SimpleFilter>> ParseSimpleFilters(const QueryParams& params,
                                                     const std::vector<std::string>& supported);

// Whether `text` matches `pattern` as a whole, with `*` and `?` wildcards.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Whether an item passes every filter: `fields` gives the item's value under each filter name
// (a name may appear more than once for a multi-valued field); a filter whose name is not in
// `fields` matches nothing.
bool PassesFilters(const std::vector<SimpleFilter>& filters,
                   const std::vector<std::pair<std::string, std::string>>& fields);

// The boolean parameter `name`: nullopt when unset, an InvalidParameterValue error for a value
// other than "true" or "false".
Result<std::optional<bool>> OptionalBoolParam(const QueryParams& params, std::string_view name);

// A Status carrying the EC2 error code `code` (kind InvalidArgument).
Status Ec2ClientError(std::string code, std::string message);

}  // namespace kiln
