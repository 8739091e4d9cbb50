#include "cli/ec2_xml.h"

#include <gtest/gtest.h>

#include "cli/ec2_client.h"
#include "cli/output.h"

namespace kiln::cli {
namespace {

constexpr char kNs[] = " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";

XmlDoc Parse(const std::string& body) {
  Result<XmlDoc> doc = ParseEc2Answer(200, body);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? std::move(doc).value() : std::make_unique<pugi::xml_document>();
}

TEST(ParseEc2AnswerTest, ErrorDocument) {
  Result<XmlDoc> doc = ParseEc2Answer(
      400,
      "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidAMIID.NotFound</Code>"
      "<Message>The image id '[ami-1]' does not exist</Message></Error></Errors>"
      "<RequestID>r</RequestID></Response>");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().ec2_code(), "InvalidAMIID.NotFound");
  EXPECT_EQ(doc.status().message(), "The image id '[ami-1]' does not exist");
  EXPECT_EQ(ErrorText(doc.status()),
            "kiln: InvalidAMIID.NotFound: The image id '[ami-1]' does not exist\n"
            "hint: list images with `kiln images --owner self` (or `--owner kiln`)\n");
  EXPECT_EQ(ExitStatusFor(doc.status()), kExitApiError);
}

TEST(ParseEc2AnswerTest, ErrorWithoutMessageAndServerError) {
  Result<XmlDoc> doc = ParseEc2Answer(
      503, "<Response><Errors><Error><Code>Unavailable</Code></Error></Errors></Response>");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Code::kUnavailable);
  EXPECT_EQ(doc.status().message(), "(no message)");
}

TEST(ParseEc2AnswerTest, MalformedOrUnexpected) {
  for (const auto& [status, body] :
       std::vector<std::pair<int, std::string>>{{200, "<DescribeImagesResponse><imagesSet>"},
                                                {200, "not xml at all <"},
                                                {200, ""},
                                                {500, "<html>Internal error</html>"},
                                                {403, "Forbidden"}}) {
    Result<XmlDoc> doc = ParseEc2Answer(status, body);
    ASSERT_FALSE(doc.ok()) << body;
    EXPECT_EQ(doc.status().code(), Code::kInternal) << body;
    EXPECT_FALSE(doc.status().ec2_code().has_value());
    EXPECT_EQ(ExitStatusFor(doc.status()), kExitApiError);
  }
}

TEST(Ec2XmlTest, Images) {
  XmlDoc doc = Parse(std::string("<DescribeImagesResponse") + kNs +
                     "><requestId>r</requestId><imagesSet><item><imageId>ami-1</imageId>"
                     "<imageState>available</imageState><imageOwnerId>100</imageOwnerId>"
                     "<creationDate>2026-11-27T10:53:21.538Z</creationDate><isPublic>true"
                     "</isPublic><imageOwnerAlias>kiln</imageOwnerAlias><name>minimal</name>"
                     "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda"
                     "</rootDeviceName><blockDeviceMapping><item><deviceName>/dev/xvda"
                     "</deviceName><ebs><snapshotId>snap-1</snapshotId><volumeSize>8"
                     "</volumeSize><deleteOnTermination>true</deleteOnTermination></ebs></item>"
                     "<item><deviceName>/dev/sdb</deviceName><virtualName>ephemeral0"
                     "</virtualName></item></blockDeviceMapping></item></imagesSet>"
                     "</DescribeImagesResponse>");
  const std::vector<ImageInfo> images = ParseImages(doc->document_element());
  ASSERT_EQ(images.size(), 1u);
  const ImageInfo& i = images[0];
  EXPECT_EQ(i.image_id, "ami-1");
  EXPECT_EQ(i.state, "available");
  EXPECT_EQ(i.owner_alias, "kiln");
  EXPECT_TRUE(i.is_public);
  ASSERT_EQ(i.block_devices.size(), 2u);
  EXPECT_EQ(i.block_devices[0].snapshot_id, "snap-1");
  EXPECT_EQ(i.block_devices[0].volume_size, 8);
  EXPECT_EQ(i.block_devices[1].virtual_name, "ephemeral0");
  EXPECT_EQ(ToJson(i)["BlockDeviceMappings"][1]["VirtualName"], "ephemeral0");
}

TEST(Ec2XmlTest, InstancesFromDescribeAndRun) {
  const std::string item =
      "<item><instanceId>i-1</instanceId><imageId>ami-1</imageId><instanceState><code>16</code>"
      "<name>running</name></instanceState><instanceType>t3.micro</instanceType>"
      "<tagSet><item><key>Name</key><value>web</value></item></tagSet>"
      "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-1"
      "</volumeId><status>attached</status></ebs></item></blockDeviceMapping></item>";
  XmlDoc d = Parse("<DescribeInstancesResponse><reservationSet><item><instancesSet>" + item +
                   "</instancesSet></item></reservationSet></DescribeInstancesResponse>");
  std::vector<InstanceInfo> described = ParseInstances(d->document_element());
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0].state, "running");
  EXPECT_EQ(described[0].NameTag(), "web");
  EXPECT_EQ(described[0].block_devices[0].volume_id, "vol-1");
  XmlDoc r = Parse("<RunInstancesResponse><instancesSet>" + item +
                   "</instancesSet></RunInstancesResponse>");
  EXPECT_EQ(ParseInstances(r->document_element()).size(), 1u);
}

TEST(Ec2XmlTest, StateChangesSnapshotsVolumes) {
  XmlDoc s = Parse(
      "<StopInstancesResponse><instancesSet><item><instanceId>i-1</instanceId><currentState>"
      "<name>stopping</name></currentState><previousState><name>running</name></previousState>"
      "</item></instancesSet></StopInstancesResponse>");
  const auto changes = ParseStateChanges(s->document_element());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].previous_state, "running");
  EXPECT_EQ(changes[0].current_state, "stopping");
  XmlDoc snaps = Parse(
      "<DescribeSnapshotsResponse><snapshotSet><item><snapshotId>snap-1</snapshotId><status>"
      "pending</status><progress>42%</progress><volumeSize>8</volumeSize></item></snapshotSet>"
      "</DescribeSnapshotsResponse>");
  const auto sn = ParseSnapshots(snaps->document_element());
  ASSERT_EQ(sn.size(), 1u);
  EXPECT_EQ(sn[0].progress, "42%");
  EXPECT_EQ(sn[0].volume_size, 8);
  XmlDoc vols = Parse(
      "<DescribeVolumesResponse><volumeSet><item><volumeId>vol-1</volumeId><size>10</size>"
      "<status>in-use</status><attachmentSet><item><instanceId>i-1</instanceId><device>/dev/sdf"
      "</device><status>attached</status></item></attachmentSet></item></volumeSet>"
      "</DescribeVolumesResponse>");
  const auto v = ParseVolumes(vols->document_element());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].size, 10);
  ASSERT_EQ(v[0].attachments.size(), 1u);
  EXPECT_EQ(v[0].attachments[0].device, "/dev/sdf");
}

TEST(Ec2XmlTest, StorageUsageAndMissingFields) {
  XmlDoc d = Parse(std::string("<DescribeStorageUsageResponse") + kNs +
                   "><requestId>r</requestId><storedBytes>3000</storedBytes><imageSet><item>"
                   "<imageId>ami-1</imageId><name>n</name><state>available</state>"
                   "<storedBytes>2000</storedBytes><uniqueBytes>500</uniqueBytes><sharedBytes>"
                   "1500</sharedBytes><snapshotSet><item><snapshotId>snap-1</snapshotId></item>"
                   "</snapshotSet></item></imageSet><snapshotSet><item><snapshotId>snap-1"
                   "</snapshotId><volumeSize>8</volumeSize><imageId>ami-1</imageId><storedBytes>"
                   "2000</storedBytes><uniqueBytes>500</uniqueBytes><sharedBytes>1500"
                   "</sharedBytes></item><item><snapshotId>snap-2</snapshotId></item>"
                   "</snapshotSet></DescribeStorageUsageResponse>");
  const StorageUsage u = ParseStorageUsage(d->document_element());
  EXPECT_EQ(u.stored_bytes, 3000);
  ASSERT_EQ(u.images.size(), 1u);
  EXPECT_EQ(u.images[0].unique_bytes, 500);
  EXPECT_EQ(u.images[0].snapshot_ids, std::vector<std::string>{"snap-1"});
  ASSERT_EQ(u.snapshots.size(), 2u);
  EXPECT_EQ(u.snapshots[0].shared_bytes, 1500);
  EXPECT_EQ(u.snapshots[1].stored_bytes, 0);  // missing fields are 0
}

}  // namespace
}  // namespace kiln::cli
