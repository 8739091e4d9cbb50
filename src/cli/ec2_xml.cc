#include "cli/ec2_xml.h"

#include <cstdlib>

namespace kiln::cli {
namespace {

std::string Text(const pugi::xml_node& node, const char* name) {
  return node.child(name).child_value();
}

int64_t Int(const pugi::xml_node& node, const char* name) {
  return std::strtoll(node.child(name).child_value(), nullptr, 10);
}

bool Bool(const pugi::xml_node& node, const char* name) {
  return std::string_view(node.child(name).child_value()) == "true";
}

// The <item>s of a <set>.
template <typename Fn>
void ForItems(const pugi::xml_node& parent, const char* set, Fn fn) {
  for (const pugi::xml_node& item : parent.child(set).children("item")) fn(item);
}

std::vector<Tag> Tags(const pugi::xml_node& node) {
  std::vector<Tag> tags;
  ForItems(node, "tagSet", [&](const pugi::xml_node& t) {
    tags.push_back({Text(t, "key"), Text(t, "value")});
  });
  return tags;
}

std::vector<BlockDevice> BlockDevices(const pugi::xml_node& node) {
  std::vector<BlockDevice> out;
  ForItems(node, "blockDeviceMapping", [&](const pugi::xml_node& m) {
    BlockDevice d;
    d.device_name = Text(m, "deviceName");
    d.virtual_name = Text(m, "virtualName");
    const pugi::xml_node ebs = m.child("ebs");
    d.snapshot_id = Text(ebs, "snapshotId");
    d.volume_size = Int(ebs, "volumeSize");
    d.volume_id = Text(ebs, "volumeId");
    d.status = Text(ebs, "status");
    d.delete_on_termination = Bool(ebs, "deleteOnTermination");
    out.push_back(std::move(d));
  });
  return out;
}

InstanceInfo Instance(const pugi::xml_node& i) {
  InstanceInfo info;
  info.instance_id = Text(i, "instanceId");
  info.image_id = Text(i, "imageId");
  info.state = Text(i.child("instanceState"), "name");
  info.instance_type = Text(i, "instanceType");
  info.launch_time = Text(i, "launchTime");
  info.availability_zone = Text(i.child("placement"), "availabilityZone");
  info.root_device_type = Text(i, "rootDeviceType");
  info.root_device_name = Text(i, "rootDeviceName");
  info.private_ip = Text(i, "privateIpAddress");
  info.block_devices = BlockDevices(i);
  info.tags = Tags(i);
  return info;
}

}  // namespace

std::string InstanceInfo::NameTag() const {
  for (const Tag& t : tags) {
    if (t.key == "Name") return t.value;
  }
  return "";
}

std::vector<ImageInfo> ParseImages(const pugi::xml_node& response) {
  std::vector<ImageInfo> out;
  ForItems(response, "imagesSet", [&](const pugi::xml_node& i) {
    ImageInfo info;
    info.image_id = Text(i, "imageId");
    info.name = Text(i, "name");
    info.description = Text(i, "description");
    info.state = Text(i, "imageState");
    info.owner_id = Text(i, "imageOwnerId");
    info.owner_alias = Text(i, "imageOwnerAlias");
    info.creation_date = Text(i, "creationDate");
    info.root_device_type = Text(i, "rootDeviceType");
    info.root_device_name = Text(i, "rootDeviceName");
    info.state_reason = Text(i.child("stateReason"), "message");
    info.is_public = Bool(i, "isPublic");
    info.block_devices = BlockDevices(i);
    info.tags = Tags(i);
    out.push_back(std::move(info));
  });
  return out;
}

std::vector<InstanceInfo> ParseInstances(const pugi::xml_node& response) {
  std::vector<InstanceInfo> out;
  // DescribeInstances: reservationSet/item/instancesSet; RunInstances: instancesSet directly.
  ForItems(response, "instancesSet", [&](const pugi::xml_node& i) { out.push_back(Instance(i)); });
  ForItems(response, "reservationSet", [&](const pugi::xml_node& r) {
    ForItems(r, "instancesSet", [&](const pugi::xml_node& i) { out.push_back(Instance(i)); });
  });
  return out;
}

std::vector<InstanceStateChange> ParseStateChanges(const pugi::xml_node& response) {
  std::vector<InstanceStateChange> out;
  ForItems(response, "instancesSet", [&](const pugi::xml_node& i) {
    out.push_back({Text(i, "instanceId"), Text(i.child("previousState"), "name"),
                   Text(i.child("currentState"), "name")});
  });
  return out;
}

std::vector<SnapshotInfo> ParseSnapshots(const pugi::xml_node& response) {
  std::vector<SnapshotInfo> out;
  ForItems(response, "snapshotSet", [&](const pugi::xml_node& s) {
    SnapshotInfo info;
    info.snapshot_id = Text(s, "snapshotId");
    info.volume_id = Text(s, "volumeId");
    info.state = Text(s, "status");
    info.progress = Text(s, "progress");
    info.start_time = Text(s, "startTime");
    info.owner_id = Text(s, "ownerId");
    info.description = Text(s, "description");
    info.volume_size = Int(s, "volumeSize");
    info.encrypted = Bool(s, "encrypted");
    info.tags = Tags(s);
    out.push_back(std::move(info));
  });
  return out;
}

std::vector<VolumeInfo> ParseVolumes(const pugi::xml_node& response) {
  std::vector<VolumeInfo> out;
  ForItems(response, "volumeSet", [&](const pugi::xml_node& v) {
    VolumeInfo info;
    info.volume_id = Text(v, "volumeId");
    info.state = Text(v, "status");
    info.volume_type = Text(v, "volumeType");
    info.snapshot_id = Text(v, "snapshotId");
    info.availability_zone = Text(v, "availabilityZone");
    info.create_time = Text(v, "createTime");
    info.size = Int(v, "size");
    info.encrypted = Bool(v, "encrypted");
    ForItems(v, "attachmentSet", [&](const pugi::xml_node& a) {
      info.attachments.push_back({Text(a, "instanceId"), Text(a, "device"), Text(a, "status")});
    });
    info.tags = Tags(v);
    out.push_back(std::move(info));
  });
  return out;
}

StorageUsage ParseStorageUsage(const pugi::xml_node& response) {
  StorageUsage usage;
  usage.stored_bytes = Int(response, "storedBytes");
  ForItems(response, "imageSet", [&](const pugi::xml_node& i) {
    ImageUsage u{Text(i, "imageId"),    Text(i, "name"),
                 Text(i, "state"),      Text(i, "creationDate"),
                 Int(i, "storedBytes"), Int(i, "uniqueBytes"),
                 Int(i, "sharedBytes"), {}};
    ForItems(i, "snapshotSet",
             [&](const pugi::xml_node& s) { u.snapshot_ids.push_back(Text(s, "snapshotId")); });
    usage.images.push_back(std::move(u));
  });
  ForItems(response, "snapshotSet", [&](const pugi::xml_node& s) {
    usage.snapshots.push_back({Text(s, "snapshotId"), Text(s, "volumeId"), Text(s, "state"),
                               Text(s, "startTime"), Text(s, "imageId"), Int(s, "volumeSize"),
                               Int(s, "storedBytes"), Int(s, "uniqueBytes"),
                               Int(s, "sharedBytes")});
  });
  return usage;
}

}  // namespace kiln::cli
