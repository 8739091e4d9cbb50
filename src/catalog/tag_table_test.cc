#include "catalog/tag_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::Id;
using catalog_testing::MakeSnapshot;

class TagTableTest : public CatalogTest {
 protected:
  TagTable tags() { return catalog().tags(); }
};

TEST_F(TagTableTest, SetOverwritesAndListsByKey) {
  std::string id = Id("i");
  ASSERT_OK(tags().Set(id, {{"", "b", "1"}, {"", "a", ""}, {id, "c", "3"}}));
  ASSERT_OK(tags().Set(id, {{"", "b", "2"}}));
  std::vector<Tag> expected = {{id, "a", ""}, {id, "b", "2"}, {id, "c", "3"}};
  EXPECT_EQ(tags().List(id).value(), expected);
  EXPECT_TRUE(tags().List(Id("i"))->empty());
}

TEST_F(TagTableTest, BadTagsAreRefusedWhole) {
  std::string id = Id("vol");
  EXPECT_CODE(tags().Set(id, {{"", "ok", "1"}, {"", "", "no key"}}), kInvalidArgument);
  EXPECT_CODE(tags().Set("", {{"", "k", "v"}}), kInvalidArgument);
  EXPECT_CODE(tags().Set(id, {{Id("vol"), "k", "v"}}), kInvalidArgument);
  EXPECT_TRUE(tags().List(id)->empty());
}

TEST_F(TagTableTest, DeleteFollowsEc2ValueRule) {
  std::string id = Id("ami");
  ASSERT_OK(tags().Set(id, {{"", "a", "1"}, {"", "b", ""}, {"", "c", "3"}}));
  ASSERT_OK(tags().Delete(id, "a", std::string("other")));  // value differs: kept
  ASSERT_OK(tags().Delete(id, "b", std::string("x")));      // "" is a value: kept
  ASSERT_OK(tags().Delete(id, "c", std::string("3")));      // matches: deleted
  ASSERT_OK(tags().Delete(id, "missing"));
  std::vector<Tag> expected = {{id, "a", "1"}, {id, "b", ""}};
  EXPECT_EQ(tags().List(id).value(), expected);
  ASSERT_OK(tags().Delete(id, "b", std::string("")));
  ASSERT_OK(tags().Delete(id, "a"));  // no value: any
  EXPECT_TRUE(tags().List(id)->empty());
}

TEST_F(TagTableTest, ListForResourcesAndDeleteAll) {
  std::string x = "vol-00000000000000002";
  std::string y = "vol-00000000000000001";
  ASSERT_OK(tags().Set(x, {{"", "k", "x"}}));
  ASSERT_OK(tags().Set(y, {{"", "k", "y"}, {"", "j", "y"}}));
  std::vector<Tag> expected = {{y, "j", "y"}, {y, "k", "y"}, {x, "k", "x"}};
  EXPECT_EQ(tags().ListForResources({x, y, x, "vol-00000000000000009"}).value(), expected);
  EXPECT_TRUE(tags().ListForResources({})->empty());
  ASSERT_OK(tags().DeleteAll(y));
  EXPECT_EQ(tags().ListForResources({x, y})->size(), 1u);
}

TEST_F(TagTableTest, TagsGoWithTheirResource) {
  Snapshot snap = MakeSnapshot();
  ASSERT_OK(catalog().snapshots().Insert(snap));
  ASSERT_OK(tags().Set(snap.snapshot_id, {{"", "Name", "root"}}));
  ASSERT_OK(catalog().snapshots().Delete(snap.snapshot_id));
  EXPECT_TRUE(tags().List(snap.snapshot_id)->empty());
}

}  // namespace
}  // namespace kiln
