// Test-only helpers for the actions' tests: a catalog fixture with two accounts, a caller for
// each, and Call(), which runs a handler the way the front end would (action by name, parameter
// names checked against the action's declared list). Not part of kiln_actions_basic.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/action.h"
#include "api/sigv4.h"
#include "catalog/catalog_testing.h"

namespace kiln::actions_testing {

// True if `name` fits the declared `pattern` ("Filter.N.Value.N": N is a positive index).
inline bool FitsPattern(std::string_view pattern, std::string_view name) {
  while (true) {
    const size_t pd = pattern.find('.'), nd = name.find('.');
    const std::string_view ps = pattern.substr(0, pd), ns = name.substr(0, nd);
    if (ps == "N") {
      if (ns.empty() || ns[0] == '0' ||
          ns.find_first_not_of("0123456789") != std::string_view::npos)
        return false;
    } else if (ps != ns) {
      return false;
    }
    if (pd == std::string_view::npos || nd == std::string_view::npos) {
      return pd == std::string_view::npos && nd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    name.remove_prefix(nd + 1);
  }
}

// Runs `query` ("Action=X&A=b...") through the matching action of `actions`. Fails the test (and
// returns Internal) for an unknown action or an undeclared parameter.
inline Result<std::string> Call(const std::vector<Action>& actions, const Caller& caller,
                                const std::string& query) {
  Result<QueryParams> params = QueryParams::Parse(query);
  if (!params.ok()) return params.status();
  const std::string name = params->Get("Action").value_or("");
  for (const Action& a : actions) {
    if (a.name != name) continue;
    for (const std::string& p : params->names()) {
      if (p == "Action" || p == "Version") continue;
      bool declared = false;
      for (const std::string& pattern : a.parameters) declared |= FitsPattern(pattern, p);
      if (!declared) {
        ADD_FAILURE() << "undeclared parameter " << p << " for " << name;
        return InternalError("undeclared parameter " + p);
      }
    }
    return a.handler(ActionRequest{caller, *params, "req-1"});
  }
  ADD_FAILURE() << "no action " << name;
  return InternalError("no action " + name);
}

// The text of the first <tag>..</tag> after `from`, or "" (with `found` false) if none.
inline std::string Element(const std::string& xml, const std::string& tag, size_t from = 0) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  const size_t b = xml.find(open, from);
  if (b == std::string::npos) return "";
  const size_t e = xml.find(close, b);
  if (e == std::string::npos) return "";
  return xml.substr(b + open.size(), e - b - open.size());
}

// Every <tag>..</tag> text in document order.
inline std::vector<std::string> Elements(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t b = xml.find(open); b != std::string::npos; b = xml.find(open, b + 1)) {
    const size_t e = xml.find(close, b);
    if (e == std::string::npos) break;
    out.push_back(xml.substr(b + open.size(), e - b - open.size()));
  }
  return out;
}

// Expects a Result/Status to fail with EC2 code `code`.
#define EXPECT_EC2_CODE(expr, code)                                                      \
  do {                                                                                   \
    const ::kiln::Status s_ = ::kiln::catalog_testing::AnyStatus((expr));                \
    EXPECT_EQ(s_.ec2_code().value_or("<none: " + s_.ToString() + ">"), (code)) << #expr; \
  } while (0)

// Percent-encodes a query value.
// Form-encodes a value for a Query string.
inline std::string Enc(std::string_view v) { return UriEncode(v); }

class ActionsTest : public catalog_testing::CatalogTest {
 protected:
  Caller owner_{catalog_testing::kOwner, "AKIAOWNER000000000000", "us-east-1"};
  Caller other_{catalog_testing::kOther, "AKIAOTHER000000000000", "us-east-1"};
};

}  // namespace kiln::actions_testing
