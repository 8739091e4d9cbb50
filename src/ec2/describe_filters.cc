// Filters, wildcards and pagination tokens shared by every Describe* action.
#include <algorithm>
#include <charconv>
#include <cstdint>

#include "ec2/describe.h"
#include "ec2/describe_internal.h"

namespace kiln {

using describe_internal::Ec2Error;

Result<std::vector<Filter>> ParseFilters(const QueryParams& params) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> items, params.Structs("Filter"));
  std::vector<Filter> out;
  out.reserve(items.size());
  for (const QueryParams& item : items) {
    std::optional<std::string> name = item.Get("Name");
    if (!name) return Ec2Error("MissingParameter", "The request must contain the parameter Name");
    ASSIGN_OR_RETURN(std::vector<std::string> values, item.List("Value"));
    if (values.empty()) {
      return Ec2Error("InvalidParameterValue",
                      "The filter '" + *name + "' requires at least one value");
    }
    out.push_back(Filter{std::move(*name), std::move(values)});
  }
  return out;
}

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  // Two pointers, greedy: on a mismatch the last `*` seen swallows one more character of the
  // text and matching resumes just after it. Only the last `*` matters (an earlier one can
  // never need to give back what a later one can take), so the work is O(|pattern| * |text|)
  // at worst and linear for the usual patterns, with no recursion for hostile ones.
  constexpr size_t kNone = std::string_view::npos;
  size_t p = 0;
  size_t t = 0;
  size_t star_p = kNone;  // pattern position just after the last `*`
  size_t star_t = 0;      // text position that `*` has swallowed up to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      // `\x` is a literal x; a trailing `\` is itself literal.
      const bool escaped = pattern[p] == '\\' && p + 1 < pattern.size();
      const char want = escaped ? pattern[p + 1] : pattern[p];
      if ((!escaped && want == '?') || want == text[t]) {
        p += escaped ? 2 : 1;
        ++t;
        continue;
      }
    }
    if (star_p == kNone) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void WriteTagSet(XmlWriter& w, const std::vector<Tag>& tags) {
  if (tags.empty()) return;
  w.Open("tagSet");
  for (const Tag& t : tags) w.Open("item").Field("key", t.key).Field("value", t.value).Close();
  w.Close();
}

namespace describe_internal {

Values IfSet(std::string_view text) {
  if (text.empty()) return {};
  return {std::string(text)};
}

Values NumIfSet(int64_t n) { return n == 0 ? Values{} : Num(n); }
Values Num(int64_t n) { return {std::to_string(n)}; }
Values Bool(bool b) { return {b ? "true" : "false"}; }

Status Ec2Error(std::string_view code, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(std::string(code));
}

Status CheckNames(const std::vector<Filter>& filters, std::span<const std::string_view> names) {
  for (const Filter& f : filters) {
    const bool tag = (f.name.size() > 4 && f.name.starts_with("tag:")) || f.name == "tag-key" ||
                     f.name == "tag-value";
    if (!tag && std::find(names.begin(), names.end(), f.name) == names.end()) {
      return Ec2Error("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
    }
  }
  return Status::Ok();
}

bool MatchesAny(const Filter& filter, const Values& values) {
  for (const std::string& pattern : filter.values) {
    for (const std::string& value : values) {
      if (WildcardMatch(pattern, value)) return true;
    }
  }
  return false;
}

bool MatchTagFilter(const Filter& filter, const std::vector<Tag>& tags, bool* handled) {
  *handled = true;
  const auto any_tag = [&](auto pred) { return std::any_of(tags.begin(), tags.end(), pred); };
  if (filter.name.starts_with("tag:")) {
    // The key is literal (EC2 applies wildcards to the values only).
    const std::string_view key = std::string_view(filter.name).substr(4);
    return any_tag([&](const Tag& t) { return t.key == key && MatchesAny(filter, {t.value}); });
  }
  if (filter.name == "tag-key") {
    return any_tag([&](const Tag& t) { return MatchesAny(filter, {t.key}); });
  }
  if (filter.name == "tag-value") {
    return any_tag([&](const Tag& t) { return MatchesAny(filter, {t.value}); });
  }
  *handled = false;
  return false;
}

void WriteStateReason(XmlWriter& w, const StateReason& reason) {
  if (reason.code.empty()) return;
  w.Open("stateReason").Field("code", reason.code).Field("message", reason.message).Close();
}

void WriteNumIfSet(XmlWriter& w, std::string_view name, int64_t n) {
  if (n != 0) w.Field(name, n);
}

}  // namespace describe_internal
}  // namespace kiln
