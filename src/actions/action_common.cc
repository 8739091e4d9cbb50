#include "actions/action_common.h"

#include <algorithm>
#include <charconv>

namespace kiln::actions {

Status Ec2Error(std::string_view code, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(std::string(code));
}

Result<std::string> Required(const QueryParams& params, std::string_view name) {
  std::optional<std::string> v = params.Get(name);
  if (!v) {
    return Ec2Error("MissingParameter",
                    "The request must contain the parameter " + std::string(name));
  }
  return *v;
}

Result<std::optional<int64_t>> IntParam(const QueryParams& params, std::string_view name,
                                        int64_t min, int64_t max) {
  std::optional<std::string> v = params.Get(name);
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    return Ec2Error("InvalidParameterValue",
                    "Value (" + *v + ") for parameter " + std::string(name) +
                        " is invalid. Expected an integer from " + std::to_string(min) + " to " +
                        std::to_string(max) + ".");
  }
  return std::optional<int64_t>(n);
}

Result<bool> BoolParam(const QueryParams& params, std::string_view name, bool fallback) {
  std::optional<std::string> v = params.Get(name);
  if (!v) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return Ec2Error("InvalidParameterValue", "Value (" + *v + ") for parameter " + std::string(name) +
                                               " is invalid. Expected: 'true' or 'false'.");
}

Status CheckFilterNames(const std::vector<Filter>& filters,
                        const std::vector<std::string_view>& names, bool allow_tag_key) {
  for (const Filter& f : filters) {
    const bool known = std::find(names.begin(), names.end(), f.name) != names.end() ||
                       (allow_tag_key && f.name.size() > 4 && f.name.starts_with("tag:"));
    if (!known) return Ec2Error("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
  }
  return Status::Ok();
}

bool MatchesAny(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return WildcardMatch(p, text); });
}

}  // namespace kiln::actions
