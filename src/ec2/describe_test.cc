// ParseFilters, WildcardMatch, ParsePage and tokens.
#include "ec2/describe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace kiln {
namespace {

QueryParams Params(std::string_view encoded) {
  Result<QueryParams> p = QueryParams::Parse(encoded);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : QueryParams();
}

std::string Ec2Code(const Status& s) { return s.ec2_code().value_or(s.ok() ? "OK" : "(none)"); }
template <typename T>
std::string Ec2Code(const Result<T>& r) {
  return Ec2Code(r.status());
}

TEST(ParseFiltersTest, NamesAndValuesInIndexOrder) {
  Result<std::vector<Filter>> f = ParseFilters(
      Params("Filter.2.Name=tag%3AEnv&Filter.2.Value.1=prod&Filter.1.Name=state"
             "&Filter.1.Value.2=pending&Filter.1.Value.1=available&Action=DescribeImages"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0].name, "state");
  EXPECT_EQ((*f)[0].values, (std::vector<std::string>{"available", "pending"}));
  EXPECT_EQ((*f)[1].name, "tag:Env");
  EXPECT_EQ((*f)[1].values, (std::vector<std::string>{"prod"}));
}

TEST(ParseFiltersTest, NoFiltersIsEmpty) {
  Result<std::vector<Filter>> f = ParseFilters(Params("Action=DescribeImages"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
}

TEST(ParseFiltersTest, Errors) {
  EXPECT_EQ(Ec2Code(ParseFilters(Params("Filter.1.Value.1=a"))), "MissingParameter");
  EXPECT_EQ(Ec2Code(ParseFilters(Params("Filter.1.Name=&Filter.1.Value.1=a"))), "MissingParameter");
  Result<std::vector<Filter>> no_values = ParseFilters(Params("Filter.1.Name=state"));
  EXPECT_EQ(Ec2Code(no_values), "InvalidParameterValue");
  EXPECT_EQ(no_values.status().message(), "The filter 'state' requires at least one value");
  EXPECT_EQ(Ec2Code(ParseFilters(Params("Filter.1.Name=state&Filter.1.Value.1="))),
            "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(ParseFilters(Params("Filter.01.Name=state&Filter.01.Value.1=a"))),
            "InvalidParameterValue")
      << "an index with a leading zero";
}

TEST(WildcardMatchTest, Literals) {
  EXPECT_TRUE(WildcardMatch("web", "web"));
  EXPECT_FALSE(WildcardMatch("web", "Web")) << "case-sensitive";
  EXPECT_FALSE(WildcardMatch("web", "web1"));
  EXPECT_FALSE(WildcardMatch("web1", "web"));
  EXPECT_TRUE(WildcardMatch("", ""));
  EXPECT_FALSE(WildcardMatch("", "a"));
  EXPECT_FALSE(WildcardMatch("a", ""));
}

TEST(WildcardMatchTest, StarAndQuestionMark) {
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("*", "anything"));
  EXPECT_TRUE(WildcardMatch("***", ""));
  EXPECT_TRUE(WildcardMatch("web-*", "web-"));
  EXPECT_TRUE(WildcardMatch("web-*", "web-2024.01"));
  EXPECT_TRUE(WildcardMatch("*-2024*", "web-2024.01"));
  EXPECT_FALSE(WildcardMatch("*-2025*", "web-2024.01"));
  EXPECT_TRUE(WildcardMatch("a*b*c", "aXbYc"));
  EXPECT_TRUE(WildcardMatch("a*b*c", "abcbc"));
  EXPECT_FALSE(WildcardMatch("a*b*c", "abcb"));
  EXPECT_TRUE(WildcardMatch("?", "x"));
  EXPECT_FALSE(WildcardMatch("?", ""));
  EXPECT_FALSE(WildcardMatch("?", "xy"));
  EXPECT_TRUE(WildcardMatch("ami-????", "ami-12ab"));
  EXPECT_FALSE(WildcardMatch("ami-????", "ami-12a"));
  EXPECT_TRUE(WildcardMatch("**?", "x"));
  EXPECT_TRUE(WildcardMatch("*?*?*", "ab"));
  EXPECT_FALSE(WildcardMatch("*?*?*", "a"));
  EXPECT_TRUE(WildcardMatch("*a", "aaa")) << "the star must give back the last a";
  EXPECT_TRUE(WildcardMatch("*ab", "aab"));
}

TEST(WildcardMatchTest, Escapes) {
  EXPECT_TRUE(WildcardMatch("web-\\*", "web-*"));
  EXPECT_FALSE(WildcardMatch("web-\\*", "web-1"));
  EXPECT_TRUE(WildcardMatch("\\?", "?"));
  EXPECT_FALSE(WildcardMatch("\\?", "a"));
  EXPECT_TRUE(WildcardMatch("\\\\", "\\"));
  EXPECT_FALSE(WildcardMatch("\\\\", "\\\\"));
  EXPECT_TRUE(WildcardMatch("\\a", "a")) << "an escaped ordinary character is itself";
  EXPECT_TRUE(WildcardMatch("a\\", "a\\")) << "a trailing backslash is literal";
  EXPECT_FALSE(WildcardMatch("a\\", "a"));
  EXPECT_TRUE(WildcardMatch("*\\*", "x*"));
  EXPECT_FALSE(WildcardMatch("*\\*", "x*y"));
  EXPECT_TRUE(WildcardMatch("*\\**", "x*y")) << "backtracking keeps the escape whole";
  EXPECT_TRUE(WildcardMatch("*\\?", "ab?"));
  EXPECT_FALSE(WildcardMatch("*\\?", "abc"));
}

TEST(WildcardMatchTest, HostilePatternsStayFast) {
  // Exponential for a naive recursive matcher; the greedy one does |pattern| * |text| steps
  // at most.
  const std::string text(20000, 'a');
  const std::string pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WildcardMatch(pattern, text));
  EXPECT_TRUE(WildcardMatch(pattern.substr(0, pattern.size() - 1), text));
  EXPECT_FALSE(WildcardMatch(std::string(2000, '*') + "b", text));
  EXPECT_TRUE(WildcardMatch(std::string(2000, '?') + "*", text));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(5));  // about a millisecond; generous for ASan
}

TEST(ParsePageTest, AbsentMeansEverythingFromTheStart) {
  Result<Page> p = ParsePage(Params("Action=DescribeImages"), 5, 1000);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->max_results, 0);
  EXPECT_EQ(p->after_id, "");
  p = ParsePage(Params("MaxResults=&NextToken="), 5, 1000);
  ASSERT_TRUE(p.ok()) << "empty values are unset";
  EXPECT_EQ(p->max_results, 0);
}

TEST(ParsePageTest, Bounds) {
  EXPECT_EQ(ParsePage(Params("MaxResults=5"), 5, 1000)->max_results, 5);
  EXPECT_EQ(ParsePage(Params("MaxResults=1000"), 5, 1000)->max_results, 1000);
  Result<Page> low = ParsePage(Params("MaxResults=4"), 5, 1000);
  EXPECT_EQ(Ec2Code(low), "InvalidParameterValue");
  EXPECT_NE(low.status().message().find("greater than 5"), std::string::npos);
  EXPECT_EQ(Ec2Code(ParsePage(Params("MaxResults=1001"), 5, 1000)), "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(ParsePage(Params("MaxResults=0"), 5, 1000)), "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(ParsePage(Params("MaxResults=-5"), 5, 1000)), "InvalidParameterValue");
  for (const char* bad : {"MaxResults=ten", "MaxResults=5x", "MaxResults=+5", "MaxResults=%205",
                          "MaxResults=99999999999999999999999", "MaxResults=5.0"}) {
    EXPECT_EQ(Ec2Code(ParsePage(Params(bad), 5, 1000)), "InvalidParameterValue") << bad;
  }
}

TEST(ParsePageTest, TokenRoundTrip) {
  for (const std::string id : {"ami-0123456789abcdef0", "i-0", "m5d.large", "x"}) {
    const std::string token = MakeNextToken(id);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
              std::string::npos)
        << "URL-safe: " << token;
    Result<Page> p = ParsePage(Params("NextToken=" + token + "&MaxResults=6"), 5, 1000);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->after_id, id);
    EXPECT_EQ(p->max_results, 6);
  }
}

TEST(ParsePageTest, TokensKilnDidNotMakeAreRejected) {
  const std::string good = MakeNextToken("vol-0123456789abcdef0");
  std::string flipped = good;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  std::string last_changed = good;
  last_changed.back() = last_changed.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {std::string("vol-0123456789abcdef0"), std::string("garbage"), std::string("AAAA"),
        good.substr(0, good.size() - 1), good + "A", flipped, last_changed, good + "%3D",
        std::string("eyJ2IjoxfQ"), std::string(5000, 'A')}) {
    Result<Page> p = ParsePage(Params("NextToken=" + bad), 5, 1000);
    EXPECT_EQ(Ec2Code(p), "InvalidParameterValue") << bad;
  }
  EXPECT_EQ(Ec2Code(ParsePage(Params("NextToken=" + good), 5, 1000)), "OK");
}

}  // namespace
}  // namespace kiln
