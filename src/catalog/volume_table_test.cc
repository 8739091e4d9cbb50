#include "catalog/volume_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOther;
using catalog_testing::kOwner;
using catalog_testing::MakeInstance;
using catalog_testing::MakeVolume;

class VolumeTableTest : public CatalogTest {
 protected:
  VolumeTable volumes() { return catalog().volumes(); }
  Attachment AttachmentOf(const EbsVolume& v, const Instance& i, const std::string& device) {
    return {
        v.volume_id, i.instance_id, device, AttachmentState::kAttaching, "2024-01-02T03:04:05.000Z",
        true};
  }
};

TEST_F(VolumeTableTest, InsertGetListAndSetters) {
  EbsVolume v = MakeVolume();
  v.snapshot_id = "snap-0123456789abcdef0";
  v.encrypted = true;
  v.kms_key_id = "k";
  v.storage_dir = "/data/volumes/x";
  ASSERT_OK(volumes().Insert(v));
  EXPECT_EQ(volumes().Get(v.volume_id).value(), v);
  EXPECT_CODE(volumes().Insert(v), kAlreadyExists);
  ASSERT_OK(volumes().Insert(MakeVolume(kOther)));
  EXPECT_EQ(volumes().List({.owner_id = kOwner}).value().size(), 1u);
  EXPECT_EQ(volumes().List({}).value().size(), 2u);
  EXPECT_CODE(volumes().List({.visible_to = kOwner}), kInvalidArgument);
  ASSERT_OK(volumes().SetSize(v.volume_id, 20));
  ASSERT_OK(volumes().SetStorageDir(v.volume_id, "/elsewhere"));
  Result<EbsVolume> got = volumes().Get(v.volume_id);
  EXPECT_EQ(got->size, 20);
  EXPECT_EQ(got->storage_dir, "/elsewhere");
  EXPECT_CODE(volumes().SetSize(v.volume_id, -1), kInvalidArgument);
  EXPECT_CODE(volumes().SetSize("vol-00000000000000000", 1), kNotFound);
  EXPECT_CODE(volumes().Get("vol-00000000000000000"), kNotFound);
}

TEST_F(VolumeTableTest, MalformedVolumesAreRefused) {
  EbsVolume v = MakeVolume();
  v.volume_id = "vol-1";
  EXPECT_CODE(volumes().Insert(v), kInvalidArgument);
  EbsVolume negative = MakeVolume();
  negative.size = -5;
  EXPECT_CODE(volumes().Insert(negative), kInvalidArgument);
  EXPECT_CODE(volumes().Insert(MakeVolume("999999999999")), kFailedPrecondition);
}

TEST_F(VolumeTableTest, StateIsACompareAndSet) {
  EbsVolume v = MakeVolume();
  v.state = VolumeState::kCreating;
  ASSERT_OK(volumes().Insert(v));
  ASSERT_OK(volumes().UpdateState(v.volume_id, VolumeState::kCreating, VolumeState::kAvailable));
  EXPECT_CODE(volumes().UpdateState(v.volume_id, VolumeState::kCreating, VolumeState::kError),
              kFailedPrecondition);
  EXPECT_EQ(volumes().Get(v.volume_id)->state, VolumeState::kAvailable);
}

TEST_F(VolumeTableTest, Attachments) {
  EbsVolume a = MakeVolume();
  EbsVolume b = MakeVolume();
  Instance instance = MakeInstance();
  ASSERT_OK(volumes().Insert(a));
  ASSERT_OK(volumes().Insert(b));
  ASSERT_OK(catalog().instances().Insert(instance));
  Attachment attachment = AttachmentOf(a, instance, "/dev/sdf");
  ASSERT_OK(volumes().Attach(attachment));
  EXPECT_EQ(volumes().GetAttachment(a.volume_id).value(), attachment);
  // One attachment per volume; one live attachment per device of an instance.
  EXPECT_CODE(volumes().Attach(AttachmentOf(a, instance, "/dev/sdg")), kAlreadyExists);
  EXPECT_CODE(volumes().Attach(AttachmentOf(b, instance, "/dev/sdf")), kAlreadyExists);
  EXPECT_CODE(volumes().Attach(AttachmentOf(b, instance, "")), kInvalidArgument);
  Instance ghost = MakeInstance();
  EXPECT_CODE(volumes().Attach(AttachmentOf(b, ghost, "/dev/sdh")), kFailedPrecondition);
  ASSERT_OK(volumes().Attach(AttachmentOf(b, instance, "/dev/sdg")));
  Result<std::vector<Attachment>> listed = volumes().ListAttachments(instance.instance_id);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].device, "/dev/sdf");
  EXPECT_EQ((*listed)[1].device, "/dev/sdg");

  // Attached volumes and their instances cannot be deleted.
  EXPECT_CODE(volumes().Delete(a.volume_id), kFailedPrecondition);
  EXPECT_CODE(catalog().instances().Delete(instance.instance_id), kFailedPrecondition);

  ASSERT_OK(volumes().UpdateAttachmentState(a.volume_id, AttachmentState::kAttaching,
                                            AttachmentState::kAttached));
  EXPECT_CODE(volumes().UpdateAttachmentState(a.volume_id, AttachmentState::kAttaching,
                                              AttachmentState::kDetaching),
              kFailedPrecondition);
  EXPECT_CODE(volumes().Detach(a.volume_id, AttachmentState::kDetaching), kFailedPrecondition);
  ASSERT_OK(volumes().UpdateAttachmentState(a.volume_id, AttachmentState::kAttached,
                                            AttachmentState::kDetached));
  // A detached record does not hold the device.
  EbsVolume c = MakeVolume();
  ASSERT_OK(volumes().Insert(c));
  ASSERT_OK(volumes().Attach(AttachmentOf(c, instance, "/dev/sdf")));
  ASSERT_OK(volumes().Detach(a.volume_id, AttachmentState::kDetached));
  EXPECT_CODE(volumes().GetAttachment(a.volume_id), kNotFound);
  EXPECT_CODE(volumes().Detach(a.volume_id, AttachmentState::kDetached), kNotFound);
  ASSERT_OK(catalog().tags().Set(a.volume_id, {{"", "Name", "data"}}));
  ASSERT_OK(volumes().Delete(a.volume_id));
  EXPECT_TRUE(catalog().tags().List(a.volume_id)->empty());
  EXPECT_CODE(volumes().Delete(a.volume_id), kNotFound);
}

}  // namespace
}  // namespace kiln
