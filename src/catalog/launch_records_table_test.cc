#include "catalog/launch_records_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::MakeInstance;
using catalog_testing::MakeVolume;

class LaunchRecordsTest : public CatalogTest {};

TEST_F(LaunchRecordsTest, PasswordDataPutGetReplaceAndGoesWithItsInstance) {
  Instance inst = MakeInstance();
  ASSERT_OK(catalog().instances().Insert(inst));
  PasswordDataTable pw = catalog().password_data();
  EXPECT_FALSE(pw.Get(inst.instance_id).value().has_value());
  PasswordData d{inst.instance_id, "Y2lwaGVy", "2024-01-02T03:04:05.000Z"};
  ASSERT_OK(pw.Put(d));
  EXPECT_EQ(pw.Get(inst.instance_id).value(), d);
  d.password_data = "bmV3";
  ASSERT_OK(pw.Put(d));
  EXPECT_EQ(pw.Get(inst.instance_id).value(), d);
  ASSERT_OK(catalog().instances().Delete(inst.instance_id));
  EXPECT_FALSE(pw.Get(inst.instance_id).value().has_value());
}

TEST_F(LaunchRecordsTest, PasswordDataRefusals) {
  PasswordDataTable pw = catalog().password_data();
  EXPECT_CODE(pw.Put({"i-0123456789abcdef0", "eA==", "t"}), kFailedPrecondition);
  EXPECT_CODE(pw.Put({"i-bad", "eA==", "t"}), kInvalidArgument);
  Instance inst = MakeInstance();
  ASSERT_OK(catalog().instances().Insert(inst));
  EXPECT_CODE(pw.Put({inst.instance_id, "", "t"}), kInvalidArgument);
}

TEST_F(LaunchRecordsTest, VolumeInitializationLifecycle) {
  EbsVolume v = MakeVolume();
  ASSERT_OK(catalog().volumes().Insert(v));
  VolumeInitializationTable init = catalog().volume_initialization();
  EXPECT_FALSE(init.Get(v.volume_id).value().has_value());
  ASSERT_OK(init.Insert({v.volume_id, 150, false}));
  EXPECT_CODE(init.Insert({v.volume_id, 150, false}), kAlreadyExists);
  EXPECT_EQ(init.Get(v.volume_id).value(), (VolumeInitialization{v.volume_id, 150, false}));
  ASSERT_EQ(init.ListUnfinished().value().size(), 1u);
  ASSERT_OK(init.MarkInitialized(v.volume_id));
  EXPECT_TRUE(init.Get(v.volume_id).value()->initialized);
  EXPECT_TRUE(init.ListUnfinished().value().empty());
  EXPECT_CODE(init.MarkInitialized("vol-0123456789abcdef0"), kNotFound);
  EXPECT_CODE(init.Insert({"vol-0123456789abcdef0", 0, false}), kFailedPrecondition);
  EXPECT_CODE(init.Insert({v.volume_id, -1, false}), kInvalidArgument);
}

}  // namespace
}  // namespace kiln
