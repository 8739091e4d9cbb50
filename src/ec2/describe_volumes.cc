// DescribeSnapshots and DescribeVolumes: filters and items (botocore shapes Snapshot, Volume,
// VolumeAttachment).
#include <array>

#include "ec2/describe.h"
#include "ec2/describe_internal.h"

namespace kiln {
namespace {

using namespace describe_internal;  // NOLINT: the helpers of this family of files

std::string Percent(int progress) { return std::to_string(progress) + "%"; }

// clang-format off
constexpr std::array<FilterField<SnapshotView>, 11> kSnapshotFields = {{
  {"snapshot-id", [](const SnapshotView& v) { return IfSet(v.snapshot.snapshot_id); }},
  {"volume-id", [](const SnapshotView& v) { return IfSet(v.snapshot.volume_id); }},
  {"status", [](const SnapshotView& v) {
    return Values{std::string(ToString(v.snapshot.state))};
  }},
  {"owner-id", [](const SnapshotView& v) { return IfSet(v.snapshot.owner_id); }},
  {"owner-alias", [](const SnapshotView& v) { return IfSet(v.owner_alias); }},
  {"description", [](const SnapshotView& v) { return IfSet(v.snapshot.description); }},
  {"progress", [](const SnapshotView& v) { return Values{Percent(v.snapshot.progress)}; }},
  {"start-time", [](const SnapshotView& v) { return IfSet(v.snapshot.start_time); }},
  {"volume-size", [](const SnapshotView& v) { return Num(v.snapshot.volume_size); }},
  {"encrypted", [](const SnapshotView& v) { return Bool(v.snapshot.encrypted); }},
  {"kms-key-id", [](const SnapshotView& v) { return IfSet(v.snapshot.kms_key_id); }},
}};

// The attachment's values, or none when the volume has no attachment.
template <typename F>
Values OfAttachment(const VolumeView& v, F field) {
  return v.attachment ? field(*v.attachment) : Values{};
}

constexpr std::array<FilterField<VolumeView>, 15> kVolumeFields = {{
  {"volume-id", [](const VolumeView& v) { return IfSet(v.volume.volume_id); }},
  {"status", [](const VolumeView& v) { return Values{std::string(ToString(v.volume.state))}; }},
  {"size", [](const VolumeView& v) { return Num(v.volume.size); }},
  {"snapshot-id", [](const VolumeView& v) { return IfSet(v.volume.snapshot_id); }},
  {"availability-zone", [](const VolumeView& v) { return IfSet(v.volume.availability_zone); }},
  {"create-time", [](const VolumeView& v) { return IfSet(v.volume.create_time); }},
  {"volume-type", [](const VolumeView& v) { return IfSet(v.volume.volume_type); }},
  {"encrypted", [](const VolumeView& v) { return Bool(v.volume.encrypted); }},
  {"kms-key-id", [](const VolumeView& v) { return IfSet(v.volume.kms_key_id); }},
  {"iops", [](const VolumeView& v) { return NumIfSet(v.volume.iops); }},
  {"attachment.instance-id", [](const VolumeView& v) {
    return OfAttachment(v, [](const Attachment& a) { return IfSet(a.instance_id); });
  }},
  {"attachment.device", [](const VolumeView& v) {
    return OfAttachment(v, [](const Attachment& a) { return IfSet(a.device); });
  }},
  {"attachment.status", [](const VolumeView& v) {
    return OfAttachment(v, [](const Attachment& a) { return Values{std::string(ToString(a.state))}; });
  }},
  {"attachment.attach-time", [](const VolumeView& v) {
    return OfAttachment(v, [](const Attachment& a) { return IfSet(a.attach_time); });
  }},
  {"attachment.delete-on-termination", [](const VolumeView& v) {
    return OfAttachment(v, [](const Attachment& a) { return Bool(a.delete_on_termination); });
  }},
}};
// clang-format on

}  // namespace

Status CheckSnapshotFilters(const std::vector<Filter>& filters) {
  static const std::vector<std::string_view> names =
      Names(std::span<const FilterField<SnapshotView>>(kSnapshotFields));
  return CheckNames(filters, names);
}

bool MatchSnapshot(const SnapshotView& snapshot, const std::vector<Filter>& filters) {
  return MatchAll(std::span<const FilterField<SnapshotView>>(kSnapshotFields), snapshot,
                  snapshot.tags, filters);
}

void WriteSnapshot(XmlWriter& w, const SnapshotView& v) {
  const Snapshot& s = v.snapshot;
  w.Open("item");
  w.Field("snapshotId", s.snapshot_id);
  w.FieldIfSet("volumeId", s.volume_id);
  w.Field("status", ToString(s.state));
  w.FieldIfSet("statusMessage", s.state_message);
  w.FieldIfSet("startTime", s.start_time);
  w.Field("progress", Percent(s.progress));
  w.Field("ownerId", s.owner_id);
  w.FieldIfSet("ownerAlias", v.owner_alias);
  w.Field("volumeSize", s.volume_size);
  w.FieldIfSet("description", s.description);
  w.Field("encrypted", s.encrypted);
  w.FieldIfSet("kmsKeyId", s.kms_key_id);
  w.Field("storageTier", "standard");
  WriteTagSet(w, v.tags);
  w.Close();
}

Status CheckVolumeFilters(const std::vector<Filter>& filters) {
  static const std::vector<std::string_view> names =
      Names(std::span<const FilterField<VolumeView>>(kVolumeFields));
  return CheckNames(filters, names);
}

bool MatchVolume(const VolumeView& volume, const std::vector<Filter>& filters) {
  return MatchAll(std::span<const FilterField<VolumeView>>(kVolumeFields), volume, volume.tags,
                  filters);
}

void WriteAttachmentFields(XmlWriter& w, const Attachment& a) {
  w.Field("volumeId", a.volume_id);
  w.Field("instanceId", a.instance_id);
  w.FieldIfSet("device", a.device);
  w.Field("status", ToString(a.state));
  w.FieldIfSet("attachTime", a.attach_time);
  w.Field("deleteOnTermination", a.delete_on_termination);
}

void WriteVolume(XmlWriter& w, const VolumeView& v) {
  const EbsVolume& vol = v.volume;
  w.Open("item");
  w.Field("volumeId", vol.volume_id);
  w.Field("size", vol.size);
  // EC2 sends an empty snapshotId for a volume not made from a snapshot.
  w.Field("snapshotId", vol.snapshot_id);
  w.FieldIfSet("availabilityZone", vol.availability_zone);
  w.Field("status", ToString(vol.state));
  w.FieldIfSet("createTime", vol.create_time);
  w.Open("attachmentSet");
  if (v.attachment) {
    w.Open("item");
    WriteAttachmentFields(w, *v.attachment);
    w.Close();
  }
  w.Close();
  w.FieldIfSet("volumeType", vol.volume_type);
  WriteNumIfSet(w, "iops", vol.iops);
  w.Field("encrypted", vol.encrypted);
  w.FieldIfSet("kmsKeyId", vol.kms_key_id);
  WriteTagSet(w, v.tags);
  w.Field("multiAttachEnabled", false);
  if (v.initialization_rate > 0) w.Field("volumeInitializationRate", v.initialization_rate);
  w.Close();
}

}  // namespace kiln
