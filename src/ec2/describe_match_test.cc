// Check*Filters and Match* of each resource: every supported name, OR within a filter, AND
// across filters, tags, booleans, numbers and block-device-mapping.*.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ec2/describe.h"

namespace kiln {
namespace {

std::vector<Filter> F(std::string name, std::vector<std::string> values) {
  return {Filter{std::move(name), std::move(values)}};
}

std::string Ec2Code(const Status& s) { return s.ec2_code().value_or(s.ok() ? "OK" : "(none)"); }

Image TestImage() {
  return Image{
      .image_id = "ami-0123456789abcdef0",
      .owner_id = "111122223333",
      .name = "web-2024.01",
      .description = "web server",
      .state = ImageState::kAvailable,
      .architecture = "x86_64",
      .root_device_name = "/dev/xvda",
      .root_device_type = "ebs",
      .virtualization_type = "hvm",
      .image_type = "machine",
      .is_public = false,
      .source_instance_id = "i-0123456789abcdef0",
      .creation_date = "2024-01-02T03:04:05.000Z",
      .block_device_mappings = {BlockDeviceMapping{.device_name = "/dev/xvda",
                                                   .snapshot_id = "snap-0123456789abcdef0",
                                                   .volume_size = 8,
                                                   .volume_type = "gp3",
                                                   .delete_on_termination = true},
                                BlockDeviceMapping{.device_name = "/dev/sdf",
                                                   .volume_size = 100,
                                                   .volume_type = "gp2",
                                                   .delete_on_termination = false,
                                                   .encrypted = true},
                                BlockDeviceMapping{.device_name = "/dev/sdb",
                                                   .virtual_name = "ephemeral0"},
                                BlockDeviceMapping{.device_name = "/dev/sdg", .no_device = true}},
  };
}

class ImageFilterTest : public ::testing::Test {
 protected:
  bool Match(const std::vector<Filter>& filters) {
    EXPECT_TRUE(CheckImageFilters(filters).ok()) << CheckImageFilters(filters).ToString();
    return MatchImage(ImageView{image_, tags_, alias_}, filters);
  }
  bool Match(std::string name, std::vector<std::string> values) {
    return Match(F(std::move(name), std::move(values)));
  }

  Image image_ = TestImage();
  std::vector<Tag> tags_ = {{.resource_id = "ami-0123456789abcdef0", .key = "Env", .value = "prod"},
                            {.resource_id = "ami-0123456789abcdef0", .key = "Team", .value = ""}};
  std::string alias_ = "";
};

TEST_F(ImageFilterTest, EachScalarName) {
  const std::vector<std::pair<std::string, std::string>> hits = {
      {"image-id", "ami-0123456789abcdef0"},
      {"name", "web-2024.01"},
      {"description", "web server"},
      {"state", "available"},
      {"owner-id", "111122223333"},
      {"is-public", "false"},
      {"root-device-type", "ebs"},
      {"root-device-name", "/dev/xvda"},
      {"architecture", "x86_64"},
      {"virtualization-type", "hvm"},
      {"image-type", "machine"},
      {"source-instance-id", "i-0123456789abcdef0"},
      {"creation-date", "2024-01-02T03:04:05.000Z"},
      {"hypervisor", "xen"},
  };
  for (const auto& [name, value] : hits) {
    EXPECT_TRUE(Match(name, {value})) << name;
    EXPECT_FALSE(Match(name, {value + "x"})) << name;
  }
}

TEST_F(ImageFilterTest, UnsetFieldsMatchNothing) {
  EXPECT_FALSE(Match("platform", {"windows"}));
  EXPECT_FALSE(Match("platform", {"*"}));
  EXPECT_FALSE(Match("owner-alias", {"*"}));
  alias_ = "kiln";
  EXPECT_TRUE(Match("owner-alias", {"kiln"}));
  image_.platform = "windows";
  EXPECT_TRUE(Match("platform", {"windows"}));
  image_.description = "";
  EXPECT_FALSE(Match("description", {"*"}));
}

TEST_F(ImageFilterTest, WildcardsOrWithinAndAcross) {
  EXPECT_TRUE(Match("name", {"web-*"}));
  EXPECT_TRUE(Match("name", {"db-*", "web-2024.0?"}));
  EXPECT_FALSE(Match("name", {"db-*", "web-2025*"}));
  EXPECT_TRUE(Match("creation-date", {"2024-01-*"}));
  std::vector<Filter> both = F("name", {"web-*"});
  both.push_back(Filter{"state", {"available"}});
  EXPECT_TRUE(Match(both));
  both.push_back(Filter{"architecture", {"arm64"}});
  EXPECT_FALSE(Match(both)) << "AND across filters";
  EXPECT_TRUE(Match(std::vector<Filter>{})) << "no filters: everything";
}

TEST_F(ImageFilterTest, Booleans) {
  EXPECT_TRUE(Match("is-public", {"false"}));
  EXPECT_FALSE(Match("is-public", {"true"}));
  EXPECT_FALSE(Match("is-public", {"False"})) << "lowercase, as EC2";
  image_.is_public = true;
  EXPECT_TRUE(Match("is-public", {"true"}));
}

TEST_F(ImageFilterTest, Tags) {
  EXPECT_TRUE(Match("tag:Env", {"prod"}));
  EXPECT_TRUE(Match("tag:Env", {"dev", "pr*"}));
  EXPECT_FALSE(Match("tag:Env", {"dev"}));
  EXPECT_FALSE(Match("tag:env", {"prod"})) << "keys are case-sensitive";
  EXPECT_FALSE(Match("tag:E*", {"prod"})) << "the key is literal";
  EXPECT_TRUE(Match("tag:Team", {"*"})) << "an empty value matches *";
  EXPECT_FALSE(Match("tag:Owner", {"*"}));
  EXPECT_TRUE(Match("tag-key", {"Team"}));
  EXPECT_TRUE(Match("tag-key", {"T*"}));
  EXPECT_FALSE(Match("tag-key", {"Owner"}));
  EXPECT_TRUE(Match("tag-value", {"prod"}));
  EXPECT_FALSE(Match("tag-value", {"Env"}));
  tags_.clear();
  EXPECT_FALSE(Match("tag-key", {"*"}));
}

TEST_F(ImageFilterTest, BlockDeviceMappings) {
  EXPECT_TRUE(Match("block-device-mapping.device-name", {"/dev/sdb"}));
  EXPECT_TRUE(Match("block-device-mapping.device-name", {"/dev/sdg"}));
  EXPECT_FALSE(Match("block-device-mapping.device-name", {"/dev/sdh"}));
  EXPECT_TRUE(Match("block-device-mapping.snapshot-id", {"snap-*"}));
  EXPECT_TRUE(Match("block-device-mapping.volume-size", {"100"}));
  EXPECT_TRUE(Match("block-device-mapping.volume-size", {"8"}));
  EXPECT_FALSE(Match("block-device-mapping.volume-size", {"0"}));
  EXPECT_TRUE(Match("block-device-mapping.volume-type", {"gp2"}));
  EXPECT_FALSE(Match("block-device-mapping.volume-type", {"io1"}));
  EXPECT_TRUE(Match("block-device-mapping.encrypted", {"true"}));
  EXPECT_TRUE(Match("block-device-mapping.encrypted", {"false"}));
  EXPECT_TRUE(Match("block-device-mapping.delete-on-termination", {"false"}));
  image_.block_device_mappings.resize(1);
  EXPECT_FALSE(Match("block-device-mapping.encrypted", {"true"}));
  EXPECT_FALSE(Match("block-device-mapping.delete-on-termination", {"false"}));
  image_.block_device_mappings = {
      BlockDeviceMapping{.device_name = "/dev/sdb", .virtual_name = "ephemeral0"}};
  EXPECT_FALSE(Match("block-device-mapping.delete-on-termination", {"true"}))
      << "an instance-store mapping has no EBS values";
}

TEST(CheckFiltersTest, UnsupportedNamesAreInvalid) {
  for (const char* bad : {"image-ids", "Name", "", "tag:", "tag", "kernel-id", "tag-keys"}) {
    const Status s = CheckImageFilters(F(bad, {"x"}));
    EXPECT_EQ(Ec2Code(s), "InvalidParameterValue") << bad;
    EXPECT_EQ(s.message(), "The filter '" + std::string(bad) + "' is invalid");
  }
  std::vector<Filter> mixed = F("name", {"x"});
  mixed.push_back(Filter{"bogus", {"y"}});
  EXPECT_EQ(Ec2Code(CheckImageFilters(mixed)), "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(CheckSnapshotFilters(F("name", {"x"}))), "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(CheckVolumeFilters(F("volume-size", {"8"}))), "InvalidParameterValue");
  EXPECT_EQ(Ec2Code(CheckInstanceFilters(F("state", {"running"}))), "InvalidParameterValue");
  for (const char* tag : {"tag:Env", "tag:a:b", "tag-key", "tag-value"}) {
    EXPECT_TRUE(CheckImageFilters(F(tag, {"x"})).ok()) << tag;
    EXPECT_TRUE(CheckSnapshotFilters(F(tag, {"x"})).ok()) << tag;
    EXPECT_TRUE(CheckVolumeFilters(F(tag, {"x"})).ok()) << tag;
    EXPECT_TRUE(CheckInstanceFilters(F(tag, {"x"})).ok()) << tag;
  }
}

TEST(SnapshotFilterTest, EachName) {
  const Snapshot snap{.snapshot_id = "snap-0123456789abcdef0",
                      .owner_id = "111122223333",
                      .volume_id = "vol-0123456789abcdef0",
                      .volume_size = 8,
                      .state = SnapshotState::kPending,
                      .progress = 42,
                      .description = "nightly",
                      .start_time = "2024-01-02T03:04:05.000Z",
                      .encrypted = true,
                      .kms_key_id = "alias/kiln"};
  const std::vector<Tag> tags = {{.resource_id = snap.snapshot_id, .key = "k", .value = "v"}};
  const SnapshotView view{snap, tags, "kiln"};
  const std::vector<std::pair<std::string, std::string>> hits = {{"snapshot-id", snap.snapshot_id},
                                                                 {"volume-id", snap.volume_id},
                                                                 {"status", "pending"},
                                                                 {"owner-id", "111122223333"},
                                                                 {"owner-alias", "kiln"},
                                                                 {"description", "nightly"},
                                                                 {"progress", "42%"},
                                                                 {"start-time", "2024-01-02*"},
                                                                 {"volume-size", "8"},
                                                                 {"encrypted", "true"},
                                                                 {"kms-key-id", "alias/kiln"},
                                                                 {"tag:k", "v"},
                                                                 {"tag-key", "k"},
                                                                 {"tag-value", "v"}};
  for (const auto& [name, value] : hits) {
    ASSERT_TRUE(CheckSnapshotFilters(F(name, {value})).ok()) << name;
    EXPECT_TRUE(MatchSnapshot(view, F(name, {value}))) << name;
    EXPECT_FALSE(MatchSnapshot(view, F(name, {"no-" + value}))) << name;
  }
  EXPECT_FALSE(MatchSnapshot(view, F("progress", {"42"})));
  EXPECT_FALSE(MatchSnapshot(view, F("volume-size", {"80"}))) << "numbers as whole text";
}

TEST(VolumeFilterTest, EachNameAndAttachments) {
  const EbsVolume vol{.volume_id = "vol-0123456789abcdef0",
                      .size = 20,
                      .snapshot_id = "snap-0123456789abcdef0",
                      .availability_zone = "us-east-1a",
                      .state = VolumeState::kInUse,
                      .volume_type = "io1",
                      .iops = 3000,
                      .create_time = "2024-01-02T03:04:05.000Z"};
  const std::vector<Tag> tags;
  std::optional<Attachment> att = Attachment{.volume_id = vol.volume_id,
                                             .instance_id = "i-0123456789abcdef0",
                                             .device = "/dev/sdf",
                                             .state = AttachmentState::kAttached,
                                             .attach_time = "2024-01-02T03:04:06.000Z",
                                             .delete_on_termination = true};
  const VolumeView view{vol, tags, att};
  const std::vector<std::pair<std::string, std::string>> hits = {
      {"volume-id", vol.volume_id},
      {"status", "in-use"},
      {"size", "20"},
      {"snapshot-id", vol.snapshot_id},
      {"availability-zone", "us-east-1?"},
      {"create-time", "2024-*"},
      {"volume-type", "io1"},
      {"encrypted", "false"},
      {"iops", "3000"},
      {"attachment.instance-id", "i-0123456789abcdef0"},
      {"attachment.device", "/dev/sdf"},
      {"attachment.status", "attached"},
      {"attachment.attach-time", "2024-01-02T03:04:06.000Z"},
      {"attachment.delete-on-termination", "true"}};
  for (const auto& [name, value] : hits) {
    ASSERT_TRUE(CheckVolumeFilters(F(name, {value})).ok()) << name;
    EXPECT_TRUE(MatchVolume(view, F(name, {value}))) << name;
    EXPECT_FALSE(MatchVolume(view, F(name, {"no-" + value}))) << name;
  }
  EXPECT_FALSE(MatchVolume(view, F("kms-key-id", {"*"}))) << "unset";
  const std::optional<Attachment> none;
  const VolumeView detached{vol, tags, none};
  EXPECT_FALSE(MatchVolume(detached, F("attachment.instance-id", {"*"})));
  EXPECT_FALSE(MatchVolume(detached, F("attachment.delete-on-termination", {"true", "false"})));
}

TEST(InstanceFilterTest, EachNameAndBlockDevices) {
  const Instance inst{.instance_id = "i-0123456789abcdef0",
                      .owner_id = "111122223333",
                      .reservation_id = "r-0123456789abcdef0",
                      .image_id = "ami-0123456789abcdef0",
                      .instance_type = "t3.micro",
                      .state = InstanceState::kStopped,
                      .launch_time = "2024-01-02T03:04:05.000Z",
                      .key_name = "me",
                      .availability_zone = "us-east-1a",
                      .root_device_name = "/dev/xvda",
                      .root_device_type = "ebs",
                      .client_token = "tok-1"};
  const std::vector<Tag> tags = {{.resource_id = inst.instance_id, .key = "Name", .value = "w"}};
  const std::vector<Attachment> atts = {{.volume_id = "vol-00000000000000001",
                                         .instance_id = inst.instance_id,
                                         .device = "/dev/xvda",
                                         .state = AttachmentState::kAttached,
                                         .attach_time = "2024-01-02T03:04:05.000Z",
                                         .delete_on_termination = true},
                                        {.volume_id = "vol-00000000000000002",
                                         .instance_id = inst.instance_id,
                                         .device = "/dev/sdf",
                                         .state = AttachmentState::kAttaching},
                                        {.volume_id = "vol-00000000000000003",
                                         .instance_id = inst.instance_id,
                                         .device = "/dev/sdg",
                                         .state = AttachmentState::kDetached}};
  const InstanceView view{inst, tags, atts};
  const std::vector<std::pair<std::string, std::string>> hits = {
      {"instance-id", inst.instance_id},
      {"instance-state-name", "stopped"},
      {"instance-state-code", "80"},
      {"instance-type", "t3.*"},
      {"image-id", inst.image_id},
      {"key-name", "me"},
      {"availability-zone", "us-east-1a"},
      {"launch-time", "2024-01-02T03:04:05.000Z"},
      {"reservation-id", inst.reservation_id},
      {"owner-id", "111122223333"},
      {"root-device-type", "ebs"},
      {"root-device-name", "/dev/xvda"},
      {"client-token", "tok-1"},
      {"block-device-mapping.device-name", "/dev/sdf"},
      {"block-device-mapping.volume-id", "vol-00000000000000002"},
      {"block-device-mapping.status", "attaching"},
      {"block-device-mapping.delete-on-termination", "false"},
      {"block-device-mapping.attach-time", "2024-01-02T03:04:05.000Z"},
      {"tag:Name", "w"}};
  for (const auto& [name, value] : hits) {
    ASSERT_TRUE(CheckInstanceFilters(F(name, {value})).ok()) << name;
    EXPECT_TRUE(MatchInstance(view, F(name, {value}))) << name;
    EXPECT_FALSE(MatchInstance(view, F(name, {"no-" + value}))) << name;
  }
  EXPECT_FALSE(MatchInstance(view, F("instance-state-code", {"8"})));
  EXPECT_FALSE(MatchInstance(view, F("block-device-mapping.device-name", {"/dev/sdg"})))
      << "a detached volume is no longer mapped";
  EXPECT_FALSE(MatchInstance(view, F("block-device-mapping.status", {"detached"})));
  std::vector<Filter> two = F("instance-state-name", {"running", "stopped"});
  two.push_back(Filter{"tag:Name", {"x", "w"}});
  EXPECT_TRUE(MatchInstance(view, two));
  two.push_back(Filter{"tag-value", {"other"}});
  EXPECT_FALSE(MatchInstance(view, two));
}

}  // namespace
}  // namespace kiln
