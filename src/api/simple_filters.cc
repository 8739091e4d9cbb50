#include "api/simple_filters.h"

#include <algorithm>

#include "ec2/describe.h"

namespace kiln {

Status Ec2ClientError(std::string code, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(std::move(code));
}

Result<std::vector<SimpleFilter>> ParseSimpleFilters(const QueryParams& params,
                                                     const std::vector<std::string>& supported) {
  ASSIGN_OR_RETURN(std::vector<Filter> parsed, ParseFilters(params));
  std::vector<SimpleFilter> filters;
  for (Filter& f : parsed) {
    if (std::find(supported.begin(), supported.end(), f.name) == supported.end()) {
      return Ec2ClientError("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
    }
    filters.push_back(SimpleFilter{std::move(f.name), std::move(f.values)});
  }
  return filters;
}

// EC2's wildcards, as every Describe action matches them (ec2/describe.h).
bool GlobMatch(std::string_view pattern, std::string_view text) {
  return WildcardMatch(pattern, text);
}

bool PassesFilters(const std::vector<SimpleFilter>& filters,
                   const std::vector<std::pair<std::string, std::string>>& fields) {
  for (const SimpleFilter& f : filters) {
    bool any = false;
    for (const auto& [name, value] : fields) {
      if (name != f.name) continue;
      for (const std::string& v : f.values) any = any || GlobMatch(v, value);
    }
    if (!any) return false;
  }
  return true;
}

Result<std::optional<bool>> OptionalBoolParam(const QueryParams& params, std::string_view name) {
  std::optional<std::string> v = params.Get(name);
  if (!v) return std::optional<bool>();
  if (*v == "true") return std::optional<bool>(true);
  if (*v == "false") return std::optional<bool>(false);
  return Ec2ClientError("InvalidParameterValue",
                        "Value (" + *v + ") for parameter " + std::string(name) + " is invalid.");
}

}  // namespace kiln
