#include "api/query.h"

namespace kiln {
namespace {

Status Malformed(const std::string& message) {
  return InvalidArgumentError(message).WithEc2Code("MalformedQueryString");
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one form-encoded component.
Result<std::string> Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      const int hi = i + 2 < in.size() ? HexDigit(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexDigit(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Malformed("bad percent-escape in the query string");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// A list index: a positive decimal number without leading zeros (at most 9 digits).
std::optional<uint64_t> ParseIndex(std::string_view s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

Result<QueryParams> QueryParams::Parse(std::string_view encoded, const QueryLimits& limits) {
  if (encoded.size() > limits.max_bytes) return Malformed("the query is too large");
  QueryParams q;
  size_t at = 0;
  while (at <= encoded.size()) {
    size_t end = encoded.find('&', at);
    if (end == std::string_view::npos) end = encoded.size();
    const std::string_view pair = encoded.substr(at, end - at);
    at = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    ASSIGN_OR_RETURN(std::string name, Decode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, Decode(pair.substr(eq + 1)));
    }
    if (name.empty()) return Malformed("a parameter without a name");
    if (name.size() > limits.max_name_bytes) return Malformed("a parameter name is too long");
    if (value.size() > limits.max_value_bytes) {
      return Malformed("the value of " + name + " is too long");
    }
    if (q.params_.size() >= limits.max_params) return Malformed("too many parameters");
    if (!q.params_.emplace(std::move(name), std::move(value)).second) {
      return Malformed("a parameter is given twice");
    }
  }
  return q;
}

std::optional<std::string> QueryParams::Get(std::string_view name) const {
  auto it = params_.find(name);
  if (it == params_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

bool QueryParams::Has(std::string_view name) const { return params_.find(name) != params_.end(); }

std::vector<std::string> QueryParams::names() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : params_) out.push_back(name);
  return out;
}

Result<std::map<uint64_t, std::vector<std::pair<std::string, const std::string*>>>>
QueryParams::Group(std::string_view prefix) const {
  std::map<uint64_t, std::vector<std::pair<std::string, const std::string*>>> groups;
  const std::string start = std::string(prefix) + ".";
  for (auto it = params_.lower_bound(start); it != params_.end(); ++it) {
    const std::string& name = it->first;
    if (!name.starts_with(start)) break;
    const size_t dot = name.find('.', start.size());
    const std::string_view index = std::string_view(name).substr(
        start.size(), dot == std::string::npos ? std::string::npos : dot - start.size());
    const auto n = ParseIndex(index);
    if (!n) {
      return InvalidArgumentError("bad list index in parameter " + name)
          .WithEc2Code("InvalidParameterValue");
    }
    groups[*n].emplace_back(dot == std::string::npos ? "" : name.substr(dot), &it->second);
  }
  return groups;
}

Result<std::vector<std::string>> QueryParams::List(std::string_view prefix) const {
  ASSIGN_OR_RETURN(auto groups, Group(prefix));
  std::vector<std::string> out;
  for (const auto& [index, members] : groups) {
    for (const auto& [rest, value] : members) {
      if (!rest.empty()) {
        return InvalidArgumentError("parameter " + std::string(prefix) + "." +
                                    std::to_string(index) + rest + " is not part of a list")
            .WithEc2Code("InvalidParameterValue");
      }
      if (!value->empty()) out.push_back(*value);
    }
  }
  return out;
}

Result<std::vector<QueryParams>> QueryParams::Structs(std::string_view prefix) const {
  ASSIGN_OR_RETURN(auto groups, Group(prefix));
  std::vector<QueryParams> out;
  for (const auto& [index, members] : groups) {
    QueryParams item;
    for (const auto& [rest, value] : members) {
      if (rest.size() < 2) {  // "Filter.1" itself, or "Filter.1."
        return InvalidArgumentError("parameter " + std::string(prefix) + "." +
                                    std::to_string(index) + rest + " needs a member name")
            .WithEc2Code("InvalidParameterValue");
      }
      item.params_.emplace(rest.substr(1), *value);
    }
    out.push_back(std::move(item));
  }
  return out;
}

QueryParams QueryParams::Struct(std::string_view prefix) const {
  QueryParams out;
  const std::string start = std::string(prefix) + ".";
  for (auto it = params_.lower_bound(start); it != params_.end(); ++it) {
    if (!it->first.starts_with(start)) break;
    if (it->first.size() > start.size())
      out.params_.emplace(it->first.substr(start.size()), it->second);
  }
  return out;
}

}  // namespace kiln
