// The items Write* produce, read back by botocore itself (testdata/parse_with_botocore.py):
// every element must be a member the model names, and the parsed values must be ours.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ec2/describe.h"
#include "env/env_testing.h"
#include "env/subprocess.h"

namespace kiln {
namespace {

const std::string kScript = std::string(KILN_EC2_TESTDATA) + "/parse_with_botocore.py";

// The python3 with botocore >= 1.43 found at configure time ("" if none).
const std::string kPython = KILN_BOTOCORE_PYTHON;

class BotocoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kPython.empty()) return;
    // CI installs the machine's pyenv with botocore 1.43: a skip there would hide a gap.
    if (std::getenv("CI") != nullptr) FAIL() << "no python3 with botocore >= 1.43 on PATH";
    GTEST_SKIP() << "no python3 with botocore >= 1.43 on PATH at configure time";
  }

  // Writes `xml` to a file and runs the script on it.
  void ExpectParses(const std::string& operation, const std::string& xml,
                    const std::vector<std::string>& expectations) {
    const std::string path = dir_.path() + "/" + operation + ".xml";
    std::ofstream(path, std::ios::binary) << xml;
    std::vector<std::string> argv = {kPython, kScript, operation, path};
    argv.insert(argv.end(), expectations.begin(), expectations.end());
    Result<CommandResult> r = RunCommand(argv);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, 0) << r->output << "\n" << xml;
  }

  env_testing::TempDir dir_;
};

const std::vector<Tag> kTags = {{.resource_id = "x", .key = "Name", .value = "a & <b>"},
                                {.resource_id = "x", .key = "Empty", .value = ""}};
const std::vector<Tag> kNoTags;

Image TestImage() {
  return Image{.image_id = "ami-0123456789abcdef0",
               .owner_id = "111122223333",
               .name = "web-2024.01",
               .description = "",
               .state = ImageState::kFailed,
               .state_reason = {.code = "Client.Error", .message = "it broke"},
               .architecture = "x86_64",
               .root_device_name = "/dev/xvda",
               .root_device_type = "ebs",
               .virtualization_type = "hvm",
               .image_type = "machine",
               .is_public = true,
               .source_instance_id = "i-0123456789abcdef0",
               .creation_date = "2024-01-02T03:04:05.000Z",
               .block_device_mappings = {
                   BlockDeviceMapping{.device_name = "/dev/xvda",
                                      .snapshot_id = "snap-0123456789abcdef0",
                                      .volume_size = 8,
                                      .volume_type = "gp3",
                                      .delete_on_termination = true},
                   BlockDeviceMapping{.device_name = "/dev/sdf",
                                      .volume_size = 100,
                                      .volume_type = "io1",
                                      .iops = 500,
                                      .delete_on_termination = false,
                                      .encrypted = true,
                                      .kms_key_id = "alias/k"},
                   BlockDeviceMapping{.device_name = "/dev/sdb", .virtual_name = "ephemeral0"},
                   BlockDeviceMapping{.device_name = "/dev/sdg", .no_device = true}}};
}

TEST_F(BotocoreTest, DescribeImages) {
  const Image image = TestImage();
  XmlWriter w("DescribeImagesResponse", "req-1");
  w.Open("imagesSet");
  WriteImage(w, ImageView{image, kTags, "kiln"});
  Image bare{.image_id = "ami-00000000000000001", .owner_id = "111122223333", .name = "n"};
  WriteImage(w, ImageView{bare, kNoTags, ""});
  w.Close().Field("nextToken", MakeNextToken(bare.image_id));
  const std::string xml = std::move(w).Finish();
  EXPECT_EQ(xml.find("<description>"), std::string::npos) << "unset members are omitted";
  ExpectParses(
      "DescribeImages", xml,
      {"Images.0.ImageId=\"ami-0123456789abcdef0\"",
       "Images.0.ImageLocation=\"kiln/web-2024.01\"",
       "Images.0.State=\"failed\"",
       "Images.0.OwnerId=\"111122223333\"",
       "Images.0.CreationDate=\"2024-01-02T03:04:05.000Z\"",
       "Images.0.Public=true",
       "Images.0.Architecture=\"x86_64\"",
       "Images.0.ImageType=\"machine\"",
       "Images.0.Name=\"web-2024.01\"",
       "Images.0.Description=<absent>",
       "Images.0.RootDeviceType=\"ebs\"",
       "Images.0.RootDeviceName=\"/dev/xvda\"",
       "Images.0.VirtualizationType=\"hvm\"",
       "Images.0.Hypervisor=\"xen\"",
       "Images.0.PlatformDetails=\"Linux/UNIX\"",
       "Images.0.UsageOperation=\"RunInstances\"",
       "Images.0.ImageOwnerAlias=\"kiln\"",
       "Images.0.SourceInstanceId=\"i-0123456789abcdef0\"",
       "Images.0.Platform=<absent>",
       "Images.0.StateReason={\"Code\": \"Client.Error\", \"Message\": \"it broke\"}",
       "Images.0.Tags=[{\"Key\": \"Name\", \"Value\": \"a & <b>\"}, "
       "{\"Key\": \"Empty\", \"Value\": \"\"}]",
       "Images.0.BlockDeviceMappings.0={\"DeviceName\": \"/dev/xvda\", \"Ebs\": "
       "{\"SnapshotId\": \"snap-0123456789abcdef0\", \"VolumeSize\": 8, "
       "\"DeleteOnTermination\": true, \"VolumeType\": \"gp3\", \"Encrypted\": false}}",
       "Images.0.BlockDeviceMappings.1.Ebs={\"VolumeSize\": 100, \"DeleteOnTermination\": false, "
       "\"VolumeType\": \"io1\", \"Iops\": 500, \"Encrypted\": true, \"KmsKeyId\": \"alias/k\"}",
       "Images.0.BlockDeviceMappings.2={\"DeviceName\": \"/dev/sdb\", "
       "\"VirtualName\": \"ephemeral0\"}",
       "Images.0.BlockDeviceMappings.3={\"DeviceName\": \"/dev/sdg\", \"NoDevice\": \"\"}",
       "Images.1.ImageLocation=\"111122223333/n\"",
       "Images.1.State=\"pending\"",
       "Images.1.Tags=<absent>",
       "Images.1.ImageOwnerAlias=<absent>",
       "Images.1.BlockDeviceMappings=[]",
       "Images.1.StateReason=<absent>",
       "NextToken=\"" + MakeNextToken(bare.image_id) + "\""});
}

TEST_F(BotocoreTest, DescribeSnapshots) {
  const Snapshot snap{.snapshot_id = "snap-0123456789abcdef0",
                      .owner_id = "111122223333",
                      .volume_id = "vol-0123456789abcdef0",
                      .volume_size = 8,
                      .state = SnapshotState::kError,
                      .progress = 42,
                      .description = "nightly",
                      .start_time = "2024-01-02T03:04:05.000Z",
                      .encrypted = true,
                      .kms_key_id = "alias/k",
                      .state_message = "disk on fire"};
  XmlWriter w("DescribeSnapshotsResponse", "req-2");
  w.Open("snapshotSet");
  WriteSnapshot(w, SnapshotView{snap, kTags, "kiln"});
  WriteSnapshot(w, SnapshotView{Snapshot{.snapshot_id = "snap-1", .owner_id = "1"}, kNoTags, ""});
  w.Close();
  ExpectParses("DescribeSnapshots", std::move(w).Finish(),
               {"Snapshots.0.SnapshotId=\"snap-0123456789abcdef0\"",
                "Snapshots.0.VolumeId=\"vol-0123456789abcdef0\"",
                "Snapshots.0.State=\"error\"",
                "Snapshots.0.StateMessage=\"disk on fire\"",
                "Snapshots.0.StartTime=\"2024-01-02T03:04:05+00:00\"",
                "Snapshots.0.Progress=\"42%\"",
                "Snapshots.0.OwnerId=\"111122223333\"",
                "Snapshots.0.OwnerAlias=\"kiln\"",
                "Snapshots.0.VolumeSize=8",
                "Snapshots.0.Description=\"nightly\"",
                "Snapshots.0.Encrypted=true",
                "Snapshots.0.KmsKeyId=\"alias/k\"",
                "Snapshots.0.StorageTier=\"standard\"",
                "Snapshots.0.Tags.0.Value=\"a & <b>\"",
                "Snapshots.1.State=\"pending\"",
                "Snapshots.1.Progress=\"0%\"",
                "Snapshots.1.OwnerAlias=<absent>",
                "Snapshots.1.StateMessage=<absent>",
                "Snapshots.1.Tags=<absent>",
                "NextToken=<absent>"});
}

TEST_F(BotocoreTest, DescribeVolumesAndAttachVolume) {
  const EbsVolume vol{.volume_id = "vol-0123456789abcdef0",
                      .size = 20,
                      .availability_zone = "us-east-1a",
                      .state = VolumeState::kInUse,
                      .volume_type = "io1",
                      .iops = 3000,
                      .create_time = "2024-01-02T03:04:05.000Z"};
  const std::optional<Attachment> att = Attachment{.volume_id = vol.volume_id,
                                                   .instance_id = "i-0123456789abcdef0",
                                                   .device = "/dev/sdf",
                                                   .state = AttachmentState::kAttached,
                                                   .attach_time = "2024-01-02T03:04:06.000Z",
                                                   .delete_on_termination = true};
  const std::optional<Attachment> none;
  XmlWriter w("DescribeVolumesResponse", "req-3");
  w.Open("volumeSet");
  WriteVolume(w, VolumeView{vol, kTags, att});
  const EbsVolume from_snap{
      .volume_id = "vol-1", .size = 8, .snapshot_id = "snap-1", .state = VolumeState::kAvailable};
  WriteVolume(w, VolumeView{from_snap, kNoTags, none});
  w.Close();
  ExpectParses("DescribeVolumes", std::move(w).Finish(),
               {"Volumes.0.VolumeId=\"vol-0123456789abcdef0\"", "Volumes.0.Size=20",
                "Volumes.0.SnapshotId=\"\"", "Volumes.0.AvailabilityZone=\"us-east-1a\"",
                "Volumes.0.State=\"in-use\"", "Volumes.0.CreateTime=\"2024-01-02T03:04:05+00:00\"",
                "Volumes.0.VolumeType=\"io1\"", "Volumes.0.Iops=3000", "Volumes.0.Encrypted=false",
                "Volumes.0.MultiAttachEnabled=false", "Volumes.0.KmsKeyId=<absent>",
                "Volumes.0.Tags.1={\"Key\": \"Empty\", \"Value\": \"\"}",
                "Volumes.0.Attachments=[{\"VolumeId\": \"vol-0123456789abcdef0\", \"InstanceId\": "
                "\"i-0123456789abcdef0\", \"Device\": \"/dev/sdf\", \"State\": \"attached\", "
                "\"AttachTime\": \"2024-01-02T03:04:06+00:00\", \"DeleteOnTermination\": true}]",
                "Volumes.1.SnapshotId=\"snap-1\"", "Volumes.1.Attachments=[]",
                "Volumes.1.Iops=<absent>", "Volumes.1.State=\"available\""});

  XmlWriter a("AttachVolumeResponse", "req-4");
  WriteAttachmentFields(a, *att);
  ExpectParses("AttachVolume", std::move(a).Finish(),
               {"VolumeId=\"vol-0123456789abcdef0\"", "InstanceId=\"i-0123456789abcdef0\"",
                "Device=\"/dev/sdf\"", "State=\"attached\"",
                "AttachTime=\"2024-01-02T03:04:06+00:00\"", "DeleteOnTermination=true"});
}

TEST_F(BotocoreTest, DescribeInstancesAndStateChanges) {
  const Instance inst{.instance_id = "i-0123456789abcdef0",
                      .owner_id = "111122223333",
                      .reservation_id = "r-0123456789abcdef0",
                      .image_id = "ami-0123456789abcdef0",
                      .instance_type = "t3.micro",
                      .state = InstanceState::kStopped,
                      .state_reason = {.code = "Client.UserInitiatedShutdown",
                                       .message = "Client.UserInitiatedShutdown: User initiated "
                                                  "shutdown"},
                      .state_transition_reason = "User initiated (2024-01-02 03:04:05 GMT)",
                      .launch_time = "2024-01-02T03:04:05.000Z",
                      .key_name = "me",
                      .availability_zone = "us-east-1a",
                      .root_device_name = "/dev/xvda",
                      .root_device_type = "ebs",
                      .client_token = "tok-1",
                      .ami_launch_index = 2};
  const std::vector<Attachment> atts = {{.volume_id = "vol-00000000000000001",
                                         .instance_id = inst.instance_id,
                                         .device = "/dev/xvda",
                                         .state = AttachmentState::kAttached,
                                         .attach_time = "2024-01-02T03:04:05.000Z",
                                         .delete_on_termination = true},
                                        {.volume_id = "vol-00000000000000003",
                                         .instance_id = inst.instance_id,
                                         .device = "/dev/sdg",
                                         .state = AttachmentState::kDetached}};
  XmlWriter w("DescribeInstancesResponse", "req-5");
  w.Open("reservationSet").Open("item");
  w.Field("reservationId", inst.reservation_id).Field("ownerId", inst.owner_id);
  w.Open("groupSet").Close().Open("instancesSet");
  WriteInstance(w, InstanceView{inst, kTags, atts});
  w.Close().Close().Close();
  const std::string p = "Reservations.0.Instances.0.";
  ExpectParses("DescribeInstances", std::move(w).Finish(),
               {"Reservations.0.ReservationId=\"r-0123456789abcdef0\"",
                "Reservations.0.OwnerId=\"111122223333\"",
                p + "InstanceId=\"i-0123456789abcdef0\"",
                p + "ImageId=\"ami-0123456789abcdef0\"",
                p + "State={\"Code\": 80, \"Name\": \"stopped\"}",
                p + "PrivateDnsName=\"\"",
                p + "PublicDnsName=\"\"",
                p + "StateTransitionReason=\"User initiated (2024-01-02 03:04:05 GMT)\"",
                p + "KeyName=\"me\"",
                p + "AmiLaunchIndex=2",
                p + "ProductCodes=[]",
                p + "InstanceType=\"t3.micro\"",
                p + "LaunchTime=\"2024-01-02T03:04:05+00:00\"",
                p + "Placement={\"AvailabilityZone\": \"us-east-1a\", \"GroupName\": \"\", "
                    "\"Tenancy\": \"default\"}",
                p + "Monitoring={\"State\": \"disabled\"}",
                p + "Architecture=\"x86_64\"",
                p + "RootDeviceType=\"ebs\"",
                p + "RootDeviceName=\"/dev/xvda\"",
                p + "BlockDeviceMappings=[{\"DeviceName\": \"/dev/xvda\", \"Ebs\": {\"VolumeId\": "
                    "\"vol-00000000000000001\", \"Status\": \"attached\", \"AttachTime\": "
                    "\"2024-01-02T03:04:05+00:00\", \"DeleteOnTermination\": true}}]",
                p + "VirtualizationType=\"hvm\"",
                p + "ClientToken=\"tok-1\"",
                p + "Tags.0.Key=\"Name\"",
                p + "Hypervisor=\"xen\"",
                p + "EbsOptimized=false",
                p + "StateReason.Code=\"Client.UserInitiatedShutdown\"",
                p + "PlatformDetails=\"Linux/UNIX\"",
                p + "UsageOperation=\"RunInstances\"",
                p + "CurrentInstanceBootMode=\"legacy-bios\"",
                p + "SecurityGroups=[]",
                p + "NetworkInterfaces=[]"});

  XmlWriter s("StopInstancesResponse", "req-6");
  s.Open("instancesSet");
  WriteStateChange(s, "i-0123456789abcdef0", InstanceState::kRunning, InstanceState::kStopping);
  s.Close();
  ExpectParses("StopInstances", std::move(s).Finish(),
               {"StoppingInstances=[{\"InstanceId\": \"i-0123456789abcdef0\", \"CurrentState\": "
                "{\"Code\": 64, \"Name\": \"stopping\"}, \"PreviousState\": {\"Code\": 16, "
                "\"Name\": \"running\"}}]"});
}

TEST_F(BotocoreTest, TheCheckerCatchesAMisspeltMember) {
  XmlWriter w("DescribeSnapshotsResponse", "req-7");
  w.Open("snapshotSet").Open("item").Field("snapshotId", "snap-1");
  w.Field("stateMessage", "botocore calls it statusMessage").Close().Close();
  const std::string path = dir_.path() + "/bad.xml";
  std::ofstream(path) << std::move(w).Finish();
  Result<CommandResult> r = RunCommand({kPython, kScript, "DescribeSnapshots", path});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 1) << r->output;
  EXPECT_NE(r->output.find("stateMessage: not a member of Snapshot"), std::string::npos)
      << r->output;
}

}  // namespace
}  // namespace kiln
