// CreateVolume, DeleteVolume, AttachVolume, DetachVolume, ModifyVolume, DescribeVolumes.
#include <spdlog/spdlog.h>

#include <regex>

#include "catalog/ids.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/encryption.h"
#include "cloud/mappings.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

constexpr int64_t kMaxVolumeGiB = 16384;

Status WriteVolumeFields(Cloud& cloud, XmlWriter& w, const EbsVolume& v) {
  ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(v.volume_id));
  w.Field("volumeId", v.volume_id).Field("size", v.size);
  w.FieldIfSet("snapshotId", v.snapshot_id);
  w.Field("availabilityZone", v.availability_zone).Field("status", ToString(v.state));
  w.Field("createTime", v.create_time).Field("volumeType", v.volume_type);
  if (v.iops > 0) w.Field("iops", v.iops);
  w.Field("encrypted", v.encrypted).Field("multiAttachEnabled", false);
  w.FieldIfSet("kmsKeyId", v.kms_key_id);
  actions::WriteTagSet(w, tags);
  return Status::Ok();
}

Result<std::string> CreateVolume(Cloud& cloud, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string zone, Required(p, "AvailabilityZone"));
  if (zone.rfind(cloud.options().region, 0) != 0 ||
      zone.size() != cloud.options().region.size() + 1 || zone.back() < 'a' || zone.back() > 'c') {
    return Ec2Error("InvalidParameterValue", "Invalid availability zone: [" + zone + "]");
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> size, IntParam(p, "Size", 1, kMaxVolumeGiB));
  const std::string snapshot_id = p.Get("SnapshotId").value_or("");
  const std::string type = p.Get("VolumeType").value_or("gp2");
  static const std::regex types("^(gp2|gp3|io1|io2|st1|sc1|standard)$");
  if (!std::regex_match(type, types)) {
    return Ec2Error("InvalidParameterValue", "Invalid value '" + type + "' for VolumeType");
  }
  ASSIGN_OR_RETURN(bool encrypted, BoolParam(p, "Encrypted", false));
  const std::string kms_key_id = p.Get("KmsKeyId").value_or("");
  ASSIGN_OR_RETURN(std::optional<int64_t> iops, IntParam(p, "Iops", 100, 256000));
  ASSIGN_OR_RETURN(
      std::optional<int> init_rate,
      VolumeInitializationRateParam(p, "VolumeInitializationRate", !snapshot_id.empty()));
  if (snapshot_id.empty() && !size) {
    return Ec2Error("MissingParameter",
                    "The request must contain the parameter size or snapshotId");
  }
  int64_t gib = size.value_or(0);
  std::optional<Snapshot> snap;
  if (!snapshot_id.empty()) {
    ASSIGN_OR_RETURN(snap, UsableSnapshot(cloud, req.caller, snapshot_id));
    if (snap->state != SnapshotState::kCompleted) {
      return Ec2Error("IncorrectState", "Snapshot " + snapshot_id + " is not completed");
    }
    if (gib == 0) gib = snap->volume_size;
    if (gib < snap->volume_size) {
      return Ec2Error("InvalidParameterValue",
                      "Volume of " + std::to_string(gib) + "GiB is smaller than snapshot " +
                          snapshot_id + ", expect size >= " + std::to_string(snap->volume_size) +
                          "GiB");
    }
  }
  ASSIGN_OR_RETURN(VolumeSealing sealing, DecideSealing(cloud, req.caller.account_id, encrypted,
                                                        kms_key_id, snap ? &*snap : nullptr));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFor(p, "volume", {"volume"}));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(std::string id, NewId("vol"));
  EbsVolume v{.volume_id = id,
              .owner_id = req.caller.account_id,
              .size = gib,
              .snapshot_id = snapshot_id,
              .availability_zone = zone,
              .state = VolumeState::kAvailable,
              .volume_type = type,
              .iops = iops.value_or(0),
              .encrypted = sealing.encrypted,
              .kms_key_id = sealing.kms_key_arn,
              .create_time = cloud.Now(),
              .storage_dir = id};
  RETURN_IF_ERROR(
      CreateVolumeData(cloud, req.caller.account_id, id, snapshot_id, gib, sealing).status());
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(tx.volumes().Insert(v));
    if (!snapshot_id.empty()) RETURN_IF_ERROR(RecordVolumeInitialization(tx, id, init_rate));
    if (!tags.empty()) RETURN_IF_ERROR(tx.tags().Set(id, TagsOn(tags, id)));
    return tx.Commit();
  }();
  if (!s.ok()) {
    cloud.storage().DeleteVolume(id).IgnoreError();
    return s;
  }
  if (!snapshot_id.empty()) cloud.initializer().Start(id);
  XmlWriter w("CreateVolumeResponse", req.request_id);
  RETURN_IF_ERROR(WriteVolumeFields(cloud, w, v));
  return std::move(w).Finish();
}

Result<std::string> DeleteVolume(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "VolumeId"));
  ASSIGN_OR_RETURN(EbsVolume v, OwnedVolume(cloud, req.caller, id));
  if (v.state != VolumeState::kAvailable) {
    Result<Attachment> a = cloud.catalog().volumes().GetAttachment(id);
    return Ec2Error("VolumeInUse", "Volume " + id + " is currently attached to " +
                                       (a.ok() ? a->instance_id : std::string("an instance")));
  }
  if (req.dry_run) return DryRunSucceeded();
  RETURN_IF_ERROR(
      cloud.catalog().volumes().UpdateState(id, VolumeState::kAvailable, VolumeState::kDeleting));
  cloud.initializer().Cancel(id);
  Status s = cloud.storage().DeleteVolume(id);
  if (!s.ok()) {
    spdlog::error("deleting volume {}: {}", id, s.ToString());
    cloud.catalog()
        .volumes()
        .UpdateState(id, VolumeState::kDeleting, VolumeState::kError)
        .IgnoreError();
    return s;
  }
  RETURN_IF_ERROR(
      cloud.catalog().volumes().UpdateState(id, VolumeState::kDeleting, VolumeState::kDeleted));
  cloud.catalog().tags().DeleteAll(id).IgnoreError();
  XmlWriter w("DeleteVolumeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

Result<std::string> AttachVolume(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string volume_id, Required(req.params, "VolumeId"));
  ASSIGN_OR_RETURN(std::string instance_id, Required(req.params, "InstanceId"));
  ASSIGN_OR_RETURN(std::string device, Required(req.params, "Device"));
  ASSIGN_OR_RETURN(EbsVolume v, OwnedVolume(cloud, req.caller, volume_id));
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, instance_id));
  if (v.state != VolumeState::kAvailable) {
    return Ec2Error("VolumeInUse", "Volume " + volume_id + " is not available");
  }
  if (v.availability_zone != inst.availability_zone) {
    return Ec2Error("InvalidVolume.ZoneMismatch", "The volume '" + volume_id +
                                                      "' is not in the same availability zone as "
                                                      "instance '" +
                                                      instance_id + "'");
  }
  if (inst.state != InstanceState::kRunning && inst.state != InstanceState::kStopped) {
    return Ec2Error("IncorrectInstanceState",
                    "Instance '" + instance_id + "' is not 'running' or 'stopped'.");
  }
  ASSIGN_OR_RETURN(std::vector<Attachment> atts,
                   cloud.catalog().volumes().ListAttachments(instance_id));
  for (const Attachment& a : atts) {
    if (a.state != AttachmentState::kDetached && SameDevice(a.device, device)) {
      return Ec2Error("InvalidParameterValue", "Attachment point " + device + " is already in use");
    }
  }
  for (const InstanceStoreVolume& d : inst.instance_store) {
    if (SameDevice(d.device, device)) {
      return Ec2Error("InvalidParameterValue", "Attachment point " + device + " is already in use");
    }
  }
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Volume * volume, cloud.storage().GetVolume(volume_id));
  Status s = cloud.runtime().Attach(instance_id, EbsAttachment{device, volume_id, volume});
  if (s.code() == Code::kInvalidArgument) {
    return Ec2Error("InvalidParameterValue",
                    "Value (" + device + ") for parameter device is invalid. " + s.message());
  }
  RETURN_IF_ERROR(s);
  Attachment att{.volume_id = volume_id,
                 .instance_id = instance_id,
                 .device = device,
                 .state = AttachmentState::kAttached,
                 .attach_time = cloud.Now(),
                 .delete_on_termination = false};
  Status c = [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(
        tx.volumes().UpdateState(volume_id, VolumeState::kAvailable, VolumeState::kInUse));
    RETURN_IF_ERROR(tx.volumes().Attach(att));
    return tx.Commit();
  }();
  if (!c.ok()) {
    cloud.runtime().Detach(instance_id, device, /*force=*/true).IgnoreError();
    return c;
  }
  XmlWriter w("AttachVolumeResponse", req.request_id);
  WriteAttachmentFields(w, att);
  return std::move(w).Finish();
}

Result<std::string> DetachVolume(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string volume_id, Required(req.params, "VolumeId"));
  ASSIGN_OR_RETURN(bool force, BoolParam(req.params, "Force", false));
  ASSIGN_OR_RETURN(EbsVolume v, OwnedVolume(cloud, req.caller, volume_id));
  Result<Attachment> att = cloud.catalog().volumes().GetAttachment(volume_id);
  if (!att.ok() || att->state == AttachmentState::kDetached) {
    return Ec2Error("IncorrectState", "Volume '" + volume_id + "' is in the 'available' state.");
  }
  if (std::optional<std::string> i = req.params.Get("InstanceId"); i && *i != att->instance_id) {
    return Ec2Error("InvalidAttachment.NotFound",
                    "Volume " + volume_id + " is not attached to " + *i);
  }
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, att->instance_id));
  if (SameDevice(att->device, inst.root_device_name) && inst.state != InstanceState::kStopped) {
    return Ec2Error("IncorrectState", "Unable to detach root volume '" + volume_id +
                                          "' from instance '" + inst.instance_id + "'");
  }
  if (req.dry_run) return DryRunSucceeded();
  Status s = cloud.runtime().Detach(att->instance_id, att->device, force);
  if (s.code() == Code::kFailedPrecondition) {
    return Ec2Error("IncorrectState", "Volume " + volume_id + " is mounted inside instance " +
                                          att->instance_id + "; unmount it first or use Force");
  }
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  Attachment detached = *att;
  detached.state = AttachmentState::kDetaching;
  RETURN_IF_ERROR([&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(tx.volumes().Detach(volume_id, att->state));
    RETURN_IF_ERROR(
        tx.volumes().UpdateState(volume_id, VolumeState::kInUse, VolumeState::kAvailable));
    return tx.Commit();
  }());
  (void)v;
  XmlWriter w("DetachVolumeResponse", req.request_id);
  WriteAttachmentFields(w, detached);
  return std::move(w).Finish();
}

// Grows volume `v` to `gib` (Elastic Volumes): the engine first, then, when it is attached,
// the device its instance sees (at once if running, at the next start if stopped). Whatever
// fails, the catalog ends up with the size the volume really has.
Status GrowVolume(Cloud& cloud, const EbsVolume& v, int64_t gib) {
  ASSIGN_OR_RETURN(Volume * volume, cloud.storage().GetVolume(v.volume_id));
  Status s = volume->Grow(static_cast<uint64_t>(gib) * kGiB);
  if (s.code() == Code::kFailedPrecondition) {
    // The engine grows no volume while a snapshot fixes its point in time.
    return Ec2Error("IncorrectModificationState",
                    "Volume " + v.volume_id + " has a snapshot in progress; modify it after");
  }
  if (s.ok()) {
    Result<Attachment> att = cloud.catalog().volumes().GetAttachment(v.volume_id);
    if (att.ok() && att->state != AttachmentState::kDetached) {
      s = cloud.runtime().VolumeGrown(att->instance_id, v.volume_id);
      if (s.code() == Code::kNotFound) {
        // The runtime does not have it attached (its instance is not registered there): no
        // device shows it now, and the next registration opens the grown volume.
        spdlog::warn("volume {} grew; the runtime does not show it: {}", v.volume_id, s.ToString());
        s = Status::Ok();
      }
    } else if (!att.ok() && att.status().code() != Code::kNotFound) {
      s = att.status();
    }
  }
  const int64_t real = static_cast<int64_t>(volume->size() / kGiB);
  if (real != v.size) {
    Status recorded = cloud.catalog().volumes().SetSize(v.volume_id, real);
    if (!recorded.ok()) {
      spdlog::error("volume {} is {} GiB but the catalog says {} GiB: {}", v.volume_id, real,
                    v.size, recorded.ToString());
      if (s.ok()) s = recorded;
    }
  }
  return s;
}

Result<std::string> ModifyVolume(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "VolumeId"));
  ASSIGN_OR_RETURN(EbsVolume v, OwnedVolume(cloud, req.caller, id));
  ASSIGN_OR_RETURN(std::optional<int64_t> size, IntParam(req.params, "Size", 1, kMaxVolumeGiB));
  const std::string start = cloud.Now();
  if (size && *size < v.size) {
    return Ec2Error("InvalidParameterValue", "New size cannot be smaller than existing size");
  }
  if (v.state != VolumeState::kAvailable && v.state != VolumeState::kInUse) {
    return Ec2Error("IncorrectState",
                    "Volume " + id + " is in the '" + std::string(ToString(v.state)) + "' state.");
  }
  if (req.dry_run) return DryRunSucceeded();
  // Attached or not, as EC2's Elastic Volumes: no detach, no stop.
  if (size && *size > v.size) RETURN_IF_ERROR(GrowVolume(cloud, v, *size));
  XmlWriter w("ModifyVolumeResponse", req.request_id);
  w.Open("volumeModification");
  w.Field("volumeId", id).Field("modificationState", "completed");
  w.Field("targetSize", size.value_or(v.size)).Field("originalSize", v.size);
  w.Field("targetVolumeType", v.volume_type).Field("originalVolumeType", v.volume_type);
  w.Field("progress", int64_t{100}).Field("startTime", start).Field("endTime", cloud.Now());
  w.Close();
  return std::move(w).Finish();
}

Result<std::string> DescribeVolumes(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, ParseFilters(req.params));
  RETURN_IF_ERROR(CheckVolumeFilters(filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 500));
  ListQuery q;
  q.owner_id = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("VolumeId"));
  if (page.after_id.empty()) {
    for (const std::string& id : q.ids)
      RETURN_IF_ERROR(OwnedVolume(cloud, req.caller, id).status());
  }
  q.after_id = page.after_id;
  ASSIGN_OR_RETURN(std::vector<EbsVolume> all, cloud.catalog().volumes().List(q));
  XmlWriter w("DescribeVolumesResponse", req.request_id);
  w.Open("volumeSet");
  for (const EbsVolume& v : all) {
    if (v.state == VolumeState::kDeleted) continue;
    ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(v.volume_id));
    std::optional<Attachment> att;
    if (Result<Attachment> a = cloud.catalog().volumes().GetAttachment(v.volume_id); a.ok())
      att = *a;
    VolumeView view{v, tags, att, InitializationRateOf(cloud, v.volume_id)};
    if (!MatchVolume(view, filters)) continue;
    if (!page.Admit(v.volume_id)) break;
    WriteVolume(w, view);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> VolumeActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  return {
      {"CreateVolume",
       {"AvailabilityZone", "Size", "SnapshotId", "VolumeType", "Iops", "Encrypted", "KmsKeyId",
        "Throughput", "MultiAttachEnabled", "ClientToken", "VolumeInitializationRate",
        "TagSpecification.N.ResourceType", "TagSpecification.N.Tag.N.Key",
        "TagSpecification.N.Tag.N.Value"},
       bind(&CreateVolume),
       true},
      {"DeleteVolume", {"VolumeId"}, bind(&DeleteVolume), true},
      {"AttachVolume", {"VolumeId", "InstanceId", "Device"}, bind(&AttachVolume), true},
      {"DetachVolume", {"VolumeId", "InstanceId", "Device", "Force"}, bind(&DetachVolume), true},
      {"ModifyVolume",
       {"VolumeId", "Size", "VolumeType", "Iops", "Throughput", "MultiAttachEnabled"},
       bind(&ModifyVolume),
       true},
      {"DescribeVolumes",
       {"VolumeId.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken"},
       bind(&DescribeVolumes)},
  };
}

}  // namespace kiln
