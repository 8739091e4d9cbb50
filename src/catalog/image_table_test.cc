#include "catalog/image_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOther;
using catalog_testing::kOwner;
using catalog_testing::MakeImage;
using catalog_testing::MakeSnapshot;

class ImageTableTest : public CatalogTest {
 protected:
  // An image with a root mapping from a new snapshot, an extra EBS volume, an instance-store
  // mapping and a suppressed device.
  Image ImageWithMappings(const std::string& name) {
    Snapshot snap = MakeSnapshot();
    EXPECT_OK(catalog().snapshots().Insert(snap));
    Image image = MakeImage(name);
    image.source_instance_id = "i-0123456789abcdef0";
    image.block_device_mappings = {
        {.device_name = "/dev/xvda",
         .snapshot_id = snap.snapshot_id,
         .volume_size = 16,
         .volume_type = "gp3",
         .iops = 3000,
         .delete_on_termination = true,
         .encrypted = true,
         .kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/k"},
        {.device_name = "/dev/sdf",
         .volume_size = 8,
         .volume_type = "gp2",
         .delete_on_termination = false},
        {.device_name = "/dev/sdb", .virtual_name = "ephemeral0"},
        {.device_name = "/dev/sdg", .no_device = true},
    };
    return image;
  }
  ImageTable images() { return catalog().images(); }
};

TEST_F(ImageTableTest, InsertAndGetRoundTripEveryField) {
  Image image = ImageWithMappings("full");
  image.state = ImageState::kFailed;
  image.state_reason = {"Client.Error", "it broke"};
  image.platform = "windows";
  ASSERT_OK(images().Insert(image));
  Result<Image> got = images().Get(image.image_id);
  ASSERT_OK(got);
  EXPECT_EQ(*got, image);
  EXPECT_CODE(images().Get("ami-00000000000000000"), kNotFound);
}

TEST_F(ImageTableTest, MalformedImagesAreRefused) {
  Image bad_id = MakeImage("x");
  bad_id.image_id = "ami-XYZ";
  EXPECT_CODE(images().Insert(bad_id), kInvalidArgument);
  Image bad_owner = MakeImage("x", "42");
  EXPECT_CODE(images().Insert(bad_owner), kInvalidArgument);
  EXPECT_CODE(images().Insert(MakeImage("")), kInvalidArgument);
  Image twice = MakeImage("x");
  twice.block_device_mappings = {{.device_name = "/dev/sdf"}, {.device_name = "/dev/sdf"}};
  EXPECT_CODE(images().Insert(twice), kInvalidArgument);
  Image nameless_device = MakeImage("x");
  nameless_device.block_device_mappings = {{.volume_size = 1}};
  EXPECT_CODE(images().Insert(nameless_device), kInvalidArgument);
  EXPECT_CODE(images().Insert(MakeImage("x", "999999999999")), kFailedPrecondition);
}

TEST_F(ImageTableTest, NameIsUniquePerOwnerAmongLiveImages) {
  Image first = MakeImage("web");
  ASSERT_OK(images().Insert(first));
  Status duplicate = images().Insert(MakeImage("web"));
  EXPECT_EQ(duplicate.code(), Code::kAlreadyExists);
  EXPECT_EQ(duplicate.message(), "AMI name web is already in use by AMI " + first.image_id);
  EXPECT_CODE(images().Insert(first), kAlreadyExists);  // same id
  // Another owner may use the name.
  EXPECT_OK(images().Insert(MakeImage("web", kOther)));
  EXPECT_EQ(images().FindByName(kOwner, "web")->image_id, first.image_id);
  // Deregistering frees it; the deregistered image is kept and cannot come back while the
  // name is taken.
  ASSERT_OK(images().UpdateState(first.image_id, ImageState::kPending, ImageState::kDeregistered));
  EXPECT_CODE(images().FindByName(kOwner, "web"), kNotFound);
  Image second = MakeImage("web");
  ASSERT_OK(images().Insert(second));
  EXPECT_EQ(images().FindByName(kOwner, "web")->image_id, second.image_id);
  EXPECT_EQ(images().Get(first.image_id)->state, ImageState::kDeregistered);
  EXPECT_CODE(
      images().UpdateState(first.image_id, ImageState::kDeregistered, ImageState::kAvailable),
      kAlreadyExists);
}

TEST_F(ImageTableTest, UpdateStateIsACompareAndSet) {
  Image image = MakeImage("cas");
  ASSERT_OK(images().Insert(image));
  ASSERT_OK(images().UpdateState(image.image_id, ImageState::kPending, ImageState::kAvailable));
  Status again = images().UpdateState(image.image_id, ImageState::kPending, ImageState::kFailed);
  EXPECT_EQ(again.code(), Code::kFailedPrecondition);
  EXPECT_NE(again.message().find("is available, not pending"), std::string::npos)
      << again.ToString();
  EXPECT_EQ(images().Get(image.image_id)->state, ImageState::kAvailable);
  EXPECT_CODE(
      images().UpdateState("ami-00000000000000000", ImageState::kPending, ImageState::kAvailable),
      kNotFound);
  StateReason reason{"Server.InternalError", "snapshot failed"};
  ASSERT_OK(
      images().UpdateState(image.image_id, ImageState::kAvailable, ImageState::kFailed, reason));
  EXPECT_EQ(images().Get(image.image_id)->state_reason, reason);
}

TEST_F(ImageTableTest, ListsByOwnerAndIdsInIdOrderWithCursor) {
  std::vector<std::string> mine;
  for (int i = 0; i < 25; ++i) {
    Image image = MakeImage("mine-" + std::to_string(i));
    ASSERT_OK(images().Insert(image));
    mine.push_back(image.image_id);
  }
  ASSERT_OK(images().Insert(MakeImage("theirs", kOther)));
  std::sort(mine.begin(), mine.end());

  std::vector<std::string> paged;
  ListQuery query{.owner_id = kOwner, .limit = 7};
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    Result<std::vector<Image>> page = images().List(query);
    ASSERT_OK(page);
    for (const Image& image : *page) paged.push_back(image.image_id);
    if (page->size() < 7) break;
    query.after_id = page->back().image_id;
  }
  EXPECT_EQ(paged, mine);

  Result<std::vector<Image>> some =
      images().List({.ids = {mine[20], mine[3], "ami-00000000000000000", mine[3]}});
  ASSERT_OK(some);
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].image_id, mine[3]);
  EXPECT_EQ((*some)[1].image_id, mine[20]);
  EXPECT_EQ(images().List({})->size(), 26u);
  EXPECT_CODE(images().List({.limit = -1}), kInvalidArgument);
}

// DescribeImages' name pre-filter: GLOB patterns, any of them; [ escaped as [[].
TEST_F(ImageTableTest, ListsByNameGlobs) {
  for (const char* name : {"web-1", "web-2", "web-10", "db-1", "a[b]c"}) {
    ASSERT_OK(images().Insert(MakeImage(name)));
  }
  auto names = [&](std::vector<std::string> globs) {
    std::vector<std::string> out;
    Result<std::vector<Image>> listed = images().List({.name_globs = std::move(globs)});
    EXPECT_OK(listed);
    if (!listed.ok()) return out;
    for (const Image& i : *listed) out.push_back(i.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(names({"web-?"}), (std::vector<std::string>{"web-1", "web-2"}));
  EXPECT_EQ(names({"web-*", "db-1"}),
            (std::vector<std::string>{"db-1", "web-1", "web-10", "web-2"}));
  EXPECT_EQ(names({"a[[]b]c"}), (std::vector<std::string>{"a[b]c"}));
  EXPECT_EQ(names({"WEB-1"}), std::vector<std::string>{}) << "case-sensitive, as EC2";
  EXPECT_CODE(catalog().snapshots().List({.name_globs = {"x"}}), kInvalidArgument);
}

TEST_F(ImageTableTest, VisibleToMeansOwnedPublicOrShared) {
  Image mine = MakeImage("mine");
  Image public_image = MakeImage("public", kOther);
  public_image.is_public = true;
  Image shared = MakeImage("shared", kOther);
  Image private_image = MakeImage("private", kOther);
  for (const Image* image : {&mine, &public_image, &shared, &private_image}) {
    ASSERT_OK(images().Insert(*image));
  }
  ASSERT_OK(images().AddLaunchPermission({shared.image_id, "", kOwner}));
  Result<std::vector<Image>> visible = images().List({.visible_to = kOwner});
  ASSERT_OK(visible);
  std::vector<std::string> ids;
  for (const Image& image : *visible) ids.push_back(image.image_id);
  std::vector<std::string> expected = {mine.image_id, public_image.image_id, shared.image_id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids, expected);
  EXPECT_TRUE(images().Get(public_image.image_id)->is_public);
  EXPECT_FALSE(images().Get(shared.image_id)->is_public);
  EXPECT_EQ(images().List({.visible_to = kOther})->size(), 3u);
}

TEST_F(ImageTableTest, LaunchPermissions) {
  Image image = MakeImage("perm");
  ASSERT_OK(images().Insert(image));
  ASSERT_OK(images().AddLaunchPermission({image.image_id, "", kOther}));
  ASSERT_OK(images().AddLaunchPermission({image.image_id, "all", ""}));
  ASSERT_OK(images().AddLaunchPermission({image.image_id, "all", ""}));  // idempotent
  std::vector<LaunchPermission> expected = {{image.image_id, "all", ""},
                                            {image.image_id, "", kOther}};
  EXPECT_EQ(images().ListLaunchPermissions(image.image_id).value(), expected);
  EXPECT_TRUE(images().Get(image.image_id)->is_public);
  ASSERT_OK(images().RemoveLaunchPermission({image.image_id, "all", ""}));
  ASSERT_OK(images().RemoveLaunchPermission({image.image_id, "all", ""}));
  EXPECT_FALSE(images().Get(image.image_id)->is_public);
  EXPECT_CODE(images().AddLaunchPermission({image.image_id, "all", kOther}), kInvalidArgument);
  EXPECT_CODE(images().AddLaunchPermission({image.image_id, "everyone", ""}), kInvalidArgument);
  EXPECT_CODE(images().AddLaunchPermission({image.image_id, "", "12"}), kInvalidArgument);
  EXPECT_CODE(images().AddLaunchPermission({"ami-00000000000000000", "all", ""}),
              kFailedPrecondition);
}

TEST_F(ImageTableTest, DeleteRemovesMappingsPermissionsAndTags) {
  Image image = ImageWithMappings("gone");
  image.is_public = true;
  ASSERT_OK(images().Insert(image));
  ASSERT_OK(catalog().tags().Set(image.image_id, {{"", "Name", "x"}}));
  ASSERT_OK(images().Delete(image.image_id));
  EXPECT_CODE(images().Get(image.image_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(image.image_id)->empty());
  EXPECT_TRUE(images().ListLaunchPermissions(image.image_id)->empty());
  EXPECT_CODE(images().Delete(image.image_id), kNotFound);
  // Its snapshot is free to go.
  EXPECT_OK(catalog().snapshots().Delete(image.block_device_mappings[0].snapshot_id));
  EXPECT_OK(catalog().CheckIntegrity());
}

TEST_F(ImageTableTest, ListUsingSnapshotSkipsDeregisteredImages) {
  Image a = ImageWithMappings("a");
  const std::string snap = a.block_device_mappings[0].snapshot_id;
  Image b = MakeImage("b");
  b.block_device_mappings = {{.device_name = "/dev/xvda", .snapshot_id = snap}};
  ASSERT_OK(images().Insert(a));
  ASSERT_OK(images().Insert(b));
  std::vector<std::string> both = {a.image_id, b.image_id};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(images().ListUsingSnapshot(snap).value(), both);
  ASSERT_OK(images().UpdateState(a.image_id, ImageState::kPending, ImageState::kDeregistered));
  EXPECT_EQ(images().ListUsingSnapshot(snap).value(), std::vector<std::string>{b.image_id});
}

TEST_F(ImageTableTest, SetDescription) {
  Image image = MakeImage("described");
  ASSERT_OK(images().Insert(image));
  ASSERT_OK(images().SetDescription(image.image_id, "built by Packer"));
  EXPECT_EQ(images().Get(image.image_id)->description, "built by Packer");
  EXPECT_CODE(images().SetDescription("ami-00000000000000000", "x"), kNotFound);
}

}  // namespace
}  // namespace kiln
