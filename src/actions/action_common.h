// What every EC2 action handler shares (those in src/actions and in src/cloud): EC2 client
// errors and parameter readers, and filter-name checks over ec2/describe.h's Filter.N parsing
// and wildcard matching.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"
#include "ec2/describe.h"

namespace kiln::actions {

// A client error (InvalidArgument) carrying EC2's `code`, which the front end sends with 400.
Status Ec2Error(std::string_view code, std::string message);

// The value of a required parameter; MissingParameter if absent or empty.
Result<std::string> Required(const QueryParams& params, std::string_view name);
// "true"/"false" (absent: `fallback`); InvalidParameterValue otherwise.
Result<bool> BoolParam(const QueryParams& params, std::string_view name, bool fallback);
// A decimal integer in [min, max] (absent or empty: nullopt); InvalidParameterValue otherwise.
Result<std::optional<int64_t>> IntParam(const QueryParams& params, std::string_view name,
                                        int64_t min, int64_t max);

// Filter.N parsing and EC2's wildcards are ec2/describe.h's.
using ::kiln::Filter;
using ::kiln::ParseFilters;
using ::kiln::WildcardMatch;

// InvalidParameterValue ("The filter 'x' is invalid") for a filter whose name is neither in
// `names` nor, when `allow_tag_key` is set, of the form "tag:KEY".
Status CheckFilterNames(const std::vector<Filter>& filters,
                        const std::vector<std::string_view>& names, bool allow_tag_key);
// True if `text` matches any of `patterns`.
bool MatchesAny(const std::vector<std::string>& patterns, std::string_view text);

}  // namespace kiln::actions
