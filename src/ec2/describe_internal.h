// Shared machinery of the describe_*.cc files (not part of describe.h's contract).
//
// Each resource lists its filter names once, in a table of FilterField: the name and a function
// giving the resource's values for it as text. Checking names and matching both read that table,
// so a name is supported exactly when it can match. A field that is unset has no values and
// matches no pattern (EC2: `platform=windows` never matches a Linux image; `description=*` does
// not match an image without one).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/records.h"
#include "ec2/describe.h"
#include "ec2/xml_writer.h"

namespace kiln::describe_internal {

using Values = std::vector<std::string>;

template <typename View>
struct FilterField {
  std::string_view name;
  Values (*values)(const View&);
};

// {text} or, when text is empty (unset), {}.
Values IfSet(std::string_view text);
// {decimal} or, when n is 0 (unset), {}.
Values NumIfSet(int64_t n);
Values Num(int64_t n);
Values Bool(bool b);

// An EC2 error: InvalidArgument carrying `code` for the wire.
Status Ec2Error(std::string_view code, std::string message);

// OK if every filter is `tag:KEY` (KEY not empty), tag-key, tag-value or one of `names`;
// otherwise InvalidParameterValue "The filter 'x' is invalid".
Status CheckNames(const std::vector<Filter>& filters, std::span<const std::string_view> names);

// True if one of the filter's patterns matches one of `values`.
bool MatchesAny(const Filter& filter, const Values& values);

// Matches the tag filters (tag:KEY, tag-key, tag-value) against `tags`. Sets *handled to false
// (and returns false) for any other filter name.
bool MatchTagFilter(const Filter& filter, const std::vector<Tag>& tags, bool* handled);

// Every filter matches (AND), each by one of its values (OR). A name the table lacks never
// matches: Check*Filters reports it first.
template <typename View>
bool MatchAll(std::span<const FilterField<View>> table, const View& view,
              const std::vector<Tag>& tags, const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    bool handled = true;
    if (MatchTagFilter(f, tags, &handled)) continue;
    if (handled) return false;
    bool matched = false;
    for (const FilterField<View>& field : table) {
      if (field.name == f.name) {
        matched = MatchesAny(f, field.values(view));
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

template <typename View>
std::vector<std::string_view> Names(std::span<const FilterField<View>> table) {
  std::vector<std::string_view> names;
  for (const FilterField<View>& field : table) names.push_back(field.name);
  return names;
}

// <tagSet><item><key/><value/></item>...</tagSet>, omitted when there are no tags (as EC2).
// <stateReason><code/><message/></stateReason> when reason.code is set.
void WriteStateReason(XmlWriter& w, const StateReason& reason);
// A number only when it is set (non-zero).
void WriteNumIfSet(XmlWriter& w, std::string_view name, int64_t n);

}  // namespace kiln::describe_internal
