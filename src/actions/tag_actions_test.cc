#include "actions/tag_actions.h"

#include <gtest/gtest.h>

#include <set>

#include "actions/actions_testing.h"
#include "actions/key_pair_actions.h"

namespace kiln {
namespace {

using actions_testing::ActionsTest;
using actions_testing::Element;
using actions_testing::Elements;
using actions_testing::Enc;
using catalog_testing::kOther;
using catalog_testing::kOwner;

class TagActionsTest : public ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = TagActions(catalog());
    std::vector<Action> keys = KeyPairActions(catalog(), clock_);
    actions_.insert(actions_.end(), keys.begin(), keys.end());
    // One resource of each kind for each account.
    for (const char* owner : {kOwner, kOther}) {
      Owned o;
      Image image = catalog_testing::MakeImage(std::string("img-") + owner, owner);
      Snapshot snapshot = catalog_testing::MakeSnapshot(owner);
      EbsVolume volume = catalog_testing::MakeVolume(owner);
      Instance instance = catalog_testing::MakeInstance(owner);
      ASSERT_OK(catalog().images().Insert(image));
      ASSERT_OK(catalog().snapshots().Insert(snapshot));
      ASSERT_OK(catalog().volumes().Insert(volume));
      ASSERT_OK(catalog().instances().Insert(instance));
      Result<std::string> key = Call(owner == std::string(kOwner) ? owner_ : other_,
                                     "Action=CreateKeyPair&KeyName=k&KeyType=ed25519");
      ASSERT_OK(key);
      o.ids = {image.image_id, snapshot.snapshot_id, volume.volume_id, instance.instance_id,
               Element(*key, "keyPairId")};
      (owner == std::string(kOwner) ? mine_ : theirs_) = o;
    }
  }

  Result<std::string> Call(const Caller& caller, const std::string& query) {
    return actions_testing::Call(actions_, caller, query);
  }
  Result<std::string> Call(const std::string& query) { return Call(owner_, query); }
  // CreateTags of `tags` ("K=V,K2=V2") on `ids`.
  Result<std::string> Tag(const std::vector<std::string>& ids, const std::string& tags,
                          const Caller* caller = nullptr) {
    std::string q = "Action=CreateTags";
    for (size_t i = 0; i < ids.size(); ++i)
      q += "&ResourceId." + std::to_string(i + 1) + "=" + ids[i];
    size_t n = 0;
    for (size_t b = 0; b < tags.size();) {
      size_t e = tags.find(',', b);
      if (e == std::string::npos) e = tags.size();
      const std::string kv = tags.substr(b, e - b);
      const size_t eq = kv.find('=');
      q += "&Tag." + std::to_string(++n) + ".Key=" + Enc(kv.substr(0, eq));
      if (eq != std::string::npos)
        q += "&Tag." + std::to_string(n) + ".Value=" + Enc(kv.substr(eq + 1));
      b = e + 1;
    }
    return Call(caller ? *caller : owner_, q);
  }
  // "id:key=value" of each tag DescribeTags lists for `query`.
  std::vector<std::string> Described(const std::string& query, const Caller* caller = nullptr) {
    Result<std::string> xml = Call(caller ? *caller : owner_, "Action=DescribeTags" + query);
    EXPECT_TRUE(xml.ok()) << query << ": " << xml.status().ToString();
    std::vector<std::string> out;
    if (!xml.ok()) return out;
    const auto ids = Elements(*xml, "resourceId"), keys = Elements(*xml, "key"),
               values = Elements(*xml, "value");
    for (size_t i = 0; i < ids.size(); ++i) out.push_back(ids[i] + ":" + keys[i] + "=" + values[i]);
    return out;
  }

  struct Owned {
    std::vector<std::string> ids;  // image, snapshot, volume, instance, key pair
  };
  ManualClock clock_;
  std::vector<Action> actions_;
  Owned mine_, theirs_;
};

TEST_F(TagActionsTest, CreateTagsOnEveryKindAndDescribe) {
  Result<std::string> xml = Tag(mine_.ids, "Name=web,Empty");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_NE(xml->find("<CreateTagsResponse xmlns="), std::string::npos);
  EXPECT_EQ(Element(*xml, "return"), "true");
  Result<std::string> all = Call("Action=DescribeTags");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Elements(*all, "resourceType"),
            (std::vector<std::string>{"image", "image", "instance", "instance", "key-pair",
                                      "key-pair", "snapshot", "snapshot", "volume", "volume"}));
  EXPECT_EQ(Described("").size(), 10u);
  EXPECT_EQ(Described("&Filter.1.Name=resource-id&Filter.1.Value.1=" + mine_.ids[2]),
            (std::vector<std::string>{mine_.ids[2] + ":Empty=", mine_.ids[2] + ":Name=web"}));
  // Overwrite one value; the other tags stay.
  ASSERT_TRUE(Tag({mine_.ids[0]}, "Name=db").ok());
  EXPECT_EQ(Described("&Filter.1.Name=resource-id&Filter.1.Value.1=" + mine_.ids[0]),
            (std::vector<std::string>{mine_.ids[0] + ":Empty=", mine_.ids[0] + ":Name=db"}));
  // The key pair's tags show in DescribeKeyPairs too.
  Result<std::string> keys = Call("Action=DescribeKeyPairs");
  EXPECT_NE(keys->find("<tagSet><item><key>Empty</key>"), std::string::npos) << *keys;
}

TEST_F(TagActionsTest, TagRules) {
  const std::string id = mine_.ids[0];
  EXPECT_EC2_CODE(Call("Action=CreateTags&Tag.1.Key=a"), "MissingParameter");
  EXPECT_EC2_CODE(Call("Action=CreateTags&ResourceId.1=" + id), "MissingParameter");
  EXPECT_EC2_CODE(Tag({id}, "aws:x=1"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Tag({id}, "AWS:x=1"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Tag({id}, std::string(129, 'k')), "InvalidParameterValue");
  EXPECT_EC2_CODE(Tag({id}, "k=" + std::string(257, 'v')), "InvalidParameterValue");
  EXPECT_EC2_CODE(Tag({id}, "=v"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Tag({id}, "a=1,a=2"), "InvalidParameterValue");
  EXPECT_TRUE(Described("").empty());
  EXPECT_TRUE(Tag({id}, std::string(128, 'k') + "=" + std::string(256, 'v')).ok());
  // Limits count characters: 128 two-byte characters are a valid key.
  std::string wide;
  for (int i = 0; i < 128; ++i) wide += "\xC3\xA9";
  EXPECT_TRUE(Tag({id}, wide + "=x").ok());
  EXPECT_TRUE(Tag({id}, "awsome=ok").ok());
}

TEST_F(TagActionsTest, AtMostFiftyTagsPerResource) {
  const std::string id = mine_.ids[1];
  std::string tags;
  for (int i = 0; i < 49; ++i) tags += (i ? ",k" : "k") + std::to_string(i) + "=v";
  ASSERT_TRUE(Tag({id}, tags).ok());
  EXPECT_EC2_CODE(Tag({id}, "new1,new2"), "TagLimitExceeded");
  EXPECT_TRUE(Tag({id}, "new1").ok());
  EXPECT_EC2_CODE(Tag({id}, "new2"), "TagLimitExceeded");
  EXPECT_TRUE(Tag({id}, "k0=changed,k1=changed").ok());  // overwriting adds nothing
  EXPECT_EQ(catalog().tags().List(id)->size(), 50u);
  EXPECT_EC2_CODE(Tag({mine_.ids[2]}, tags + ",a,b"), "TagLimitExceeded");  // 51 in one call
}

TEST_F(TagActionsTest, OnlyOwnResourcesAndWellFormedIds) {
  const std::vector<std::string> codes = {"InvalidAMIID.NotFound", "InvalidSnapshot.NotFound",
                                          "InvalidVolume.NotFound", "InvalidInstanceID.NotFound",
                                          "InvalidKeyPair.NotFound"};
  for (size_t i = 0; i < codes.size(); ++i) {
    SCOPED_TRACE(theirs_.ids[i]);
    EXPECT_EC2_CODE(Tag({theirs_.ids[i]}, "x=1"), codes[i]);
    EXPECT_EC2_CODE(Call("Action=DeleteTags&ResourceId.1=" + theirs_.ids[i]), codes[i]);
    // Absent ids of each kind.
    const std::string absent =
        theirs_.ids[i].substr(0, theirs_.ids[i].find('-')) + "-0123456789abcdef0";
    EXPECT_EC2_CODE(Tag({absent}, "x=1"), codes[i]);
  }
  for (const std::string bad : {"foo", "ami-xyz", "ami-0123", "sg-12345678", "r-0123456789abcdef0",
                                "AMI-0123456789ABCDEF0"}) {
    SCOPED_TRACE(bad);
    EXPECT_EC2_CODE(Tag({bad}, "x=1"), "InvalidID");
  }
  // All or nothing: one foreign id in the list tags nothing.
  EXPECT_EC2_CODE(Tag({mine_.ids[0], theirs_.ids[0]}, "x=1"), "InvalidAMIID.NotFound");
  EXPECT_TRUE(catalog().tags().List(mine_.ids[0])->empty());
  // Each account sees only its own tags.
  ASSERT_TRUE(Tag(mine_.ids, "mine=1").ok());
  ASSERT_TRUE(Tag(theirs_.ids, "theirs=1", &other_).ok());
  for (const std::string& t : Described("", &other_))
    EXPECT_NE(t.find(":theirs=1"), std::string::npos);
  EXPECT_EQ(Described("", &other_).size(), 5u);
  EXPECT_EQ(
      Described("&Filter.1.Name=resource-id&Filter.1.Value.1=" + mine_.ids[0], &other_).size(), 0u);
  EXPECT_EQ(Described("").size(), 5u);
  // A deregistered image is no longer taggable nor listed.
  ASSERT_OK(catalog().images().UpdateState(mine_.ids[0], ImageState::kPending,
                                           ImageState::kDeregistered, {}));
  EXPECT_EC2_CODE(Tag({mine_.ids[0]}, "x=1"), "InvalidAMIID.NotFound");
  EXPECT_EQ(Described("").size(), 4u);
}

TEST_F(TagActionsTest, DeleteTagsByKeyValueOrAll) {
  const std::string a = mine_.ids[2], b = mine_.ids[3];
  ASSERT_TRUE(Tag({a, b}, "k1=v1,k2=v2,k3=,k4=v4").ok());
  ASSERT_TRUE(Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=k1").ok());
  ASSERT_TRUE(Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=k2&Tag.1.Value=other").ok());
  ASSERT_TRUE(Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=k3&Tag.1.Value=").ok());
  ASSERT_TRUE(Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=k4&Tag.1.Value=").ok());
  Result<std::string> xml = Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=absent");
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(Element(*xml, "return"), "true");
  EXPECT_EQ(Described("&Filter.1.Name=resource-id&Filter.1.Value.1=" + a),
            (std::vector<std::string>{a + ":k2=v2", a + ":k4=v4"}));
  EXPECT_EC2_CODE(Call("Action=DeleteTags&ResourceId.1=" + a + "&Tag.1.Key=aws%3Ak2"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DeleteTags&Tag.1.Key=k2"), "MissingParameter");
  // No Tag: every tag of the listed resources.
  ASSERT_TRUE(Call("Action=DeleteTags&ResourceId.1=" + a + "&ResourceId.2=" + b).ok());
  EXPECT_TRUE(Described("").empty());
}

TEST_F(TagActionsTest, DescribeTagsFilters) {
  ASSERT_TRUE(Tag({mine_.ids[0], mine_.ids[4]}, "Name=web-1,Env=prod").ok());
  ASSERT_TRUE(Tag({mine_.ids[2]}, "Name=db,Env=dev").ok());
  using V = std::vector<std::string>;
  EXPECT_EQ(Described("&Filter.1.Name=key&Filter.1.Value.1=Name&Filter.2.Name=value"
                      "&Filter.2.Value.1=web-%3F"),
            (V{mine_.ids[0] + ":Name=web-1", mine_.ids[4] + ":Name=web-1"}));
  EXPECT_EQ(Described("&Filter.1.Name=resource-type&Filter.1.Value.1=key-pair"
                      "&Filter.1.Value.2=volume&Filter.2.Name=key&Filter.2.Value.1=E*"),
            (V{mine_.ids[4] + ":Env=prod", mine_.ids[2] + ":Env=dev"}));
  EXPECT_EQ(Described("&Filter.1.Name=tag%3AEnv&Filter.1.Value.1=dev"),
            (V{mine_.ids[2] + ":Env=dev"}));
  EXPECT_EQ(Described("&Filter.1.Name=value&Filter.1.Value.1=nothing*"), V{});
  EXPECT_EC2_CODE(Call("Action=DescribeTags&Filter.1.Name=owner-id&Filter.1.Value.1=x"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeTags&Filter.1.Name=key"), "InvalidParameterValue");
}

TEST_F(TagActionsTest, DescribeTagsPages) {
  std::string tags;
  for (int i = 0; i < 6; ++i) tags += (i ? ",k" : "k") + std::to_string(i) + "=v";
  ASSERT_TRUE(Tag({mine_.ids[0], mine_.ids[1]}, tags).ok());
  std::vector<std::string> all = Described("");
  ASSERT_EQ(all.size(), 12u);
  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    Result<std::string> xml = Call("Action=DescribeTags&MaxResults=5" +
                                   (token.empty() ? "" : "&NextToken=" + Enc(token)));
    ASSERT_TRUE(xml.ok()) << xml.status().ToString();
    const auto ids = Elements(*xml, "resourceId"), keys = Elements(*xml, "key");
    EXPECT_LE(ids.size(), 5u);
    for (size_t i = 0; i < ids.size(); ++i) paged.push_back(ids[i] + ":" + keys[i] + "=v");
    token = Element(*xml, "nextToken");
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, all);
  EXPECT_EC2_CODE(Call("Action=DescribeTags&MaxResults=4"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeTags&MaxResults=1001"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeTags&MaxResults=ten"), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=DescribeTags&NextToken=zz"), "InvalidPaginationToken");
  EXPECT_EC2_CODE(Call("Action=DescribeTags&NextToken=6162"), "InvalidPaginationToken");
  // Exactly MaxResults left: no token.
  Result<std::string> xml = Call("Action=DescribeTags&MaxResults=12");
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(xml->find("nextToken"), std::string::npos);
}

}  // namespace
}  // namespace kiln
