#include "actions/tag_specs.h"

#include <gtest/gtest.h>

#include "actions/action_common.h"

namespace kiln::actions {
namespace {

QueryParams Parse(const std::string& q) { return QueryParams::Parse(q).value(); }

std::string Code(const Status& s) { return s.ec2_code().value_or("<" + s.ToString() + ">"); }
template <typename T>
std::string Code(const Result<T>& r) {
  return Code(r.status());
}

TEST(TagSpecsTest, PicksTheSpecificationOfTheType) {
  const QueryParams p = Parse(
      "TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key=Name"
      "&TagSpecification.1.Tag.1.Value=web&TagSpecification.2.ResourceType=snapshot"
      "&TagSpecification.2.Tag.1.Key=Name&TagSpecification.2.Tag.1.Value=disk"
      "&TagSpecification.2.Tag.2.Key=Empty");
  Result<std::vector<Tag>> image = TagsFor(p, "image", {"image", "snapshot"});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(*image, (std::vector<Tag>{{"", "Name", "web"}}));
  Result<std::vector<Tag>> snapshot = TagsFor(p, "snapshot", {"image", "snapshot"});
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(*snapshot, (std::vector<Tag>{{"", "Name", "disk"}, {"", "Empty", ""}}));
  EXPECT_TRUE(TagsFor(p, "volume", {"image", "snapshot", "volume"})->empty());
  EXPECT_TRUE(TagsFor(Parse(""), "image", {"image"})->empty());
  EXPECT_EQ(TagsOn(*image, "ami-1"), (std::vector<Tag>{{"ami-1", "Name", "web"}}));
}

TEST(TagSpecsTest, RefusesTypesOutsideTheAllowedList) {
  const QueryParams p =
      Parse("TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a");
  EXPECT_EQ(Code(TagsFor(p, "image", {"image"})), "InvalidParameterValue");
  EXPECT_EQ(Code(TagsFor(Parse("TagSpecification.1.Tag.1.Key=a"), "image", {"image"})),
            "InvalidParameterValue");
  EXPECT_EQ(Code(TagsFor(Parse("TagSpecification.1.ResourceType=image&TagSpecification.2."
                               "ResourceType=image"),
                         "image", {"image"})),
            "InvalidParameterValue");
  EXPECT_EQ(Code(TagsFor(Parse("TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1."
                               "Key=aws%3Aname"),
                         "image", {"image"})),
            "InvalidParameterValue");
}

TEST(TagSpecsTest, ValidateTags) {
  EXPECT_TRUE(ValidateTags({}).ok());
  EXPECT_TRUE(ValidateTags({{"", std::string(128, 'k'), std::string(256, 'v')}}).ok());
  EXPECT_EQ(Code(ValidateTags({{"", "", "v"}})), "InvalidParameterValue");
  EXPECT_EQ(Code(ValidateTags({{"", std::string(129, 'k'), ""}})), "InvalidParameterValue");
  EXPECT_EQ(Code(ValidateTags({{"", "k", std::string(257, 'v')}})), "InvalidParameterValue");
  EXPECT_EQ(Code(ValidateTags({{"", "Aws:x", ""}})), "InvalidParameterValue");
  EXPECT_EQ(Code(ValidateTags({{"", "k", "1"}, {"", "k", "2"}})), "InvalidParameterValue");
  std::vector<Tag> many;
  for (int i = 0; i < 51; ++i) many.push_back({"", "k" + std::to_string(i), ""});
  EXPECT_EQ(Code(ValidateTags(many)), "TagLimitExceeded");
  many.pop_back();
  EXPECT_TRUE(ValidateTags(many).ok());
}

TEST(TagSpecsTest, ParseTagParamsTellsAbsentFromEmptyValues) {
  Result<std::vector<TagParam>> tags = ParseTagParams(
      Parse("Tag.1.Key=a&Tag.2.Key=b&Tag.2.Value=&Tag.3.Key=c&Tag.3.Value=x"), "Tag");
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_FALSE((*tags)[0].has_value);
  EXPECT_TRUE((*tags)[1].has_value);
  EXPECT_EQ((*tags)[1].value, "");
  EXPECT_EQ((*tags)[2].value, "x");
}

TEST(TagSpecsTest, WriteTagSet) {
  XmlWriter w("R", "id");
  WriteTagSet(w, {});
  WriteTagSet(w, {{"", "a&b", "<v>"}});
  const std::string xml = std::move(w).Finish();
  EXPECT_NE(xml.find("<tagSet><item><key>a&amp;b</key><value>&lt;v&gt;</value></item></tagSet>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("<tagSet>"), xml.rfind("<tagSet>"));  // the empty list wrote nothing
}

TEST(WildcardTest, MatchesAsEc2) {
  EXPECT_TRUE(WildcardMatch("", ""));
  EXPECT_FALSE(WildcardMatch("", "a"));
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("a*c", "abbbc"));
  EXPECT_TRUE(WildcardMatch("a*c", "ac"));
  EXPECT_FALSE(WildcardMatch("a*c", "acb"));
  EXPECT_TRUE(WildcardMatch("a?c", "abc"));
  EXPECT_FALSE(WildcardMatch("a?c", "ac"));
  EXPECT_TRUE(WildcardMatch("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(WildcardMatch("*a*b*", "xxbxxaxx"));
  EXPECT_TRUE(WildcardMatch("web-\\*", "web-*"));
  EXPECT_FALSE(WildcardMatch("web-\\*", "web-1"));
  EXPECT_TRUE(WildcardMatch("\\?", "?"));
  EXPECT_FALSE(WildcardMatch("\\?", "a"));
  EXPECT_TRUE(WildcardMatch("a\\", "a\\"));  // a trailing backslash is literal
  EXPECT_TRUE(WildcardMatch("Name", "Name"));
  EXPECT_FALSE(WildcardMatch("name", "Name"));  // case-sensitive
  EXPECT_TRUE(WildcardMatch("**?", "x"));
}

TEST(FiltersTest, ParseAndCheckNames) {
  Result<std::vector<Filter>> f =
      ParseFilters(Parse("Filter.1.Name=key&Filter.1.Value.1=a&Filter.1.Value.2=b"
                         "&Filter.2.Name=tag%3AEnv&Filter.2.Value.1=x"));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0].values, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(CheckFilterNames(*f, {"key"}, true).ok());
  EXPECT_EQ(Code(CheckFilterNames(*f, {"key"}, false)), "InvalidParameterValue");
  EXPECT_EQ(Code(CheckFilterNames({{"tag:", {"x"}}}, {}, true)), "InvalidParameterValue");
  EXPECT_EQ(Code(ParseFilters(Parse("Filter.1.Value.1=a"))), "MissingParameter");
  EXPECT_EQ(Code(ParseFilters(Parse("Filter.1.Name=key&Filter.1.Value.1="))),
            "InvalidParameterValue");
}

}  // namespace
}  // namespace kiln::actions
