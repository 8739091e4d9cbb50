// The parts of EC2's XML answers that `kiln` shows, as plain structs. Parsers take the answer's
// document element and never fail on missing fields (they stay empty or 0): EC2 omits unset
// fields, and the CLI shows what is there.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <pugixml.hpp>
#include <string>
#include <vector>

namespace kiln::cli {

struct Tag {
  std::string key;
  std::string value;
};

struct BlockDevice {
  std::string device_name;
  std::string virtual_name;  // ephemeralN for instance store
  std::string snapshot_id;   // images
  int64_t volume_size = 0;   // GiB (images)
  std::string volume_id;     // instances
  std::string status;        // instances: attaching, attached, ...
  bool delete_on_termination = false;
};

struct ImageInfo {
  std::string image_id, name, description, state, owner_id, owner_alias, creation_date;
  std::string root_device_type, root_device_name, state_reason;
  bool is_public = false;
  std::vector<BlockDevice> block_devices;
  std::vector<Tag> tags;
};

struct InstanceInfo {
  std::string instance_id, image_id, state, instance_type, launch_time, availability_zone;
  std::string root_device_type, root_device_name, private_ip;
  std::vector<BlockDevice> block_devices;
  std::vector<Tag> tags;
  std::string NameTag() const;
};

struct InstanceStateChange {
  std::string instance_id, previous_state, current_state;
};

struct SnapshotInfo {
  std::string snapshot_id, volume_id, state, progress, start_time, owner_id, description;
  int64_t volume_size = 0;
  bool encrypted = false;
  std::vector<Tag> tags;
};

struct VolumeAttachmentInfo {
  std::string instance_id, device, state;
};

struct VolumeInfo {
  std::string volume_id, state, volume_type, snapshot_id, availability_zone, create_time;
  int64_t size = 0;
  bool encrypted = false;
  std::vector<VolumeAttachmentInfo> attachments;
  std::vector<Tag> tags;
};

struct ImageUsage {
  std::string image_id, name, state, creation_date;
  int64_t stored_bytes = 0, unique_bytes = 0, shared_bytes = 0;
  std::vector<std::string> snapshot_ids;
};

struct SnapshotUsage {
  std::string snapshot_id, volume_id, state, start_time, image_id;
  int64_t volume_size = 0;
  int64_t stored_bytes = 0, unique_bytes = 0, shared_bytes = 0;
};

struct StorageUsage {
  int64_t stored_bytes = 0;
  std::vector<ImageUsage> images;
  std::vector<SnapshotUsage> snapshots;
};

// Each takes the document element of the matching Describe*Response (or RunInstances for
// ParseInstances: its instancesSet, which has the same items).
std::vector<ImageInfo> ParseImages(const pugi::xml_node& response);
std::vector<InstanceInfo> ParseInstances(const pugi::xml_node& response);
std::vector<InstanceStateChange> ParseStateChanges(const pugi::xml_node& response);
std::vector<SnapshotInfo> ParseSnapshots(const pugi::xml_node& response);
std::vector<VolumeInfo> ParseVolumes(const pugi::xml_node& response);
StorageUsage ParseStorageUsage(const pugi::xml_node& response);

}  // namespace kiln::cli
