// CreateImage, RegisterImage, DeregisterImage, DescribeImages.
#include <spdlog/spdlog.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/ids.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/capture.h"
#include "cloud/cloud.h"
#include "cloud/encryption.h"
#include "cloud/instance_ops.h"
#include "cloud/mappings.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

constexpr int kFreezeMaxMs = 30000;

Result<std::string> ImageDescription(const QueryParams& p) {
  std::string d = p.Get("Description").value_or("");
  if (d.size() > 255) {
    return Ec2Error("InvalidParameterValue", "Description must be at most 255 characters");
  }
  return d;
}

Status CheckNameFree(Cloud& cloud, const std::string& owner, const std::string& name) {
  Result<Image> taken = cloud.catalog().images().FindByName(owner, name);
  if (taken.ok()) {
    return Ec2Error("InvalidAMIName.Duplicate",
                    "AMI name " + name + " is already in use by AMI " + taken->image_id);
  }
  return Status::Ok();
}

// The volumes CreateImage snapshots, and the image's mappings: the instance's EBS volumes at
// their sizes (or the larger size the request asks), minus NoDevice ones; the request's new
// empty EBS volumes and ephemeral mappings; and the instance's instance-store mappings.
struct ImagePlan {
  std::vector<BlockDeviceMapping> mappings;
  std::vector<Capture> captures;
};

Result<ImagePlan> PlanImage(Cloud& cloud, const Instance& inst, const std::string& image_id,
                            const std::vector<BlockDeviceMapping>& request) {
  ASSIGN_OR_RETURN(std::vector<Attachment> atts,
                   cloud.catalog().volumes().ListAttachments(inst.instance_id));
  ImagePlan plan;
  for (const Attachment& a : atts) {
    if (a.state != AttachmentState::kAttached) continue;
    ASSIGN_OR_RETURN(EbsVolume vol, cloud.catalog().volumes().Get(a.volume_id));
    auto r = std::find_if(request.begin(), request.end(), [&](const BlockDeviceMapping& m) {
      return SameDevice(m.device_name, a.device);
    });
    if (r != request.end() && r->no_device) continue;
    BlockDeviceMapping m{.device_name = a.device,
                         .volume_size = vol.size,
                         .volume_type = vol.volume_type,
                         .iops = vol.iops,
                         .delete_on_termination = a.delete_on_termination,
                         // Its snapshot is sealed as the volume is (SnapshotStore::Start).
                         .encrypted = vol.encrypted,
                         .kms_key_id = vol.kms_key_id};
    if (r != request.end()) {
      if (!r->virtual_name.empty()) {
        return Ec2Error("InvalidBlockDeviceMapping",
                        "The device " + a.device + " holds an EBS volume of the instance");
      }
      if (r->volume_size != 0 && r->volume_size < vol.size) {
        return Ec2Error("InvalidBlockDeviceMapping",
                        "Volume of size " + std::to_string(r->volume_size) +
                            "GB is smaller than the volume at " + a.device + " (" +
                            std::to_string(vol.size) + "GB)");
      }
      if (r->volume_size != 0) m.volume_size = r->volume_size;
      m.delete_on_termination = r->delete_on_termination;
      if (!r->volume_type.empty()) m.volume_type = r->volume_type;
    }
    ASSIGN_OR_RETURN(m.snapshot_id, NewId("snap"));
    plan.captures.push_back(Capture{a.volume_id, m.snapshot_id, nullptr});
    plan.mappings.push_back(m);
  }
  for (const InstanceStoreVolume& d : inst.instance_store) {
    const bool overridden = std::any_of(request.begin(), request.end(), [&](const auto& m) {
      return SameDevice(m.device_name, d.device);
    });
    if (!overridden) {
      plan.mappings.push_back(
          BlockDeviceMapping{.device_name = d.device, .virtual_name = d.virtual_name});
    }
  }
  for (const BlockDeviceMapping& r : request) {
    const bool attached = std::any_of(atts.begin(), atts.end(), [&](const Attachment& a) {
      return SameDevice(a.device, r.device_name);
    });
    if (attached || r.no_device) continue;
    if (!r.snapshot_id.empty()) {
      return Ec2Error("InvalidBlockDeviceMapping",
                      "CreateImage cannot map snapshot " + r.snapshot_id + " at " + r.device_name);
    }
    if (r.virtual_name.empty() && r.volume_size == 0) {
      return Ec2Error("InvalidBlockDeviceMapping",
                      "The new volume at " + r.device_name + " needs a VolumeSize");
    }
    plan.mappings.push_back(r);
    if (!r.kms_key_id.empty()) {
      ASSIGN_OR_RETURN(plan.mappings.back().kms_key_id,
                       ResolveKmsKey(cloud, inst.owner_id, r.kms_key_id));
    }
  }
  (void)image_id;
  return plan;
}

// Captures the started `captures` and makes the image available (or failed).
Status FinishImage(Cloud& cloud, const std::string& image_id, std::vector<Capture>& captures) {
  return RunCaptures(cloud, captures, image_id);
}

// Up to this much to copy, CreateImage's reboot captures before the guest boots again; more, and
// the capture runs beside the boot. On two cores a boot beside a small capture doubles its time
// (docs/benchmarks.md), while the capture delays the boot by only a few tens of milliseconds.
constexpr uint64_t kCaptureBeforeBootBytes = 64ull << 20;

// The background half of CreateImage: the instance's volumes at one point in time (after a
// clean guest shutdown, or frozen with NoReboot), then captured; the image becomes available.
// With a reboot, a large capture runs while the guest boots again, a small one just before
// (kCaptureBeforeBootBytes): the image is available when its snapshots are (as in EC2), not
// when the instance is back up. A failed boot is the instance's trouble (logged; the guest
// watcher settles it), not the image's.
void RunCreateImage(Cloud& cloud, const std::string& job_id, const std::string& image_id,
                    const std::string& instance_id, bool no_reboot, std::vector<Capture> captures) {
  Status s = cloud.catalog().jobs().Claim(job_id);
  bool finished = false;  // FinishImage has run; `s` is its outcome
  if (s.ok()) {
    Result<InstanceStatus> st = cloud.runtime().Describe(instance_id);
    const bool running = st.ok() && st->running;
    if (running && !no_reboot) {
      std::thread finisher;
      Status captured;       // FinishImage's outcome, once the guest was down
      bool started = false;  // the point in time is fixed: `captured` will say how it ended
      Status boot = cloud.runtime().RebootWith(instance_id, [&] {
        RETURN_IF_ERROR(StartCaptures(cloud, captures));
        started = true;
        if (PendingCaptureBytes(captures) <= kCaptureBeforeBootBytes) {
          captured = FinishImage(cloud, image_id, captures);
        } else {
          finisher = std::thread([&] { captured = FinishImage(cloud, image_id, captures); });
        }
        return Status::Ok();
      });
      if (finisher.joinable()) finisher.join();
      if (started) {
        if (!boot.ok()) {
          spdlog::error("instance {} after image {}: {}", instance_id, image_id, boot.ToString());
        }
        s = captured;
      } else {
        s = boot;  // no point in time: the guest did not shut down, or no capture started
      }
      finished = true;
    } else if (running) {
      s = cloud.runtime().Freeze(instance_id, kFreezeMaxMs);
      if (s.ok()) {
        s = StartCaptures(cloud, captures);
        Status t = cloud.runtime().Thaw(instance_id);
        if (s.ok()) s = t;
      }
    } else {
      s = StartCaptures(cloud, captures);
    }
  }
  if (s.ok() && !finished) s = FinishImage(cloud, image_id, captures);
  if (s.ok()) {
    cloud.catalog().jobs().Finish(job_id).IgnoreError();
    spdlog::info("image {} of {} is available", image_id, instance_id);
    return;
  }
  spdlog::error("image {} of {} failed: {}", image_id, instance_id, s.ToString());
  cloud.catalog().jobs().Fail(job_id, s.message()).IgnoreError();
  FailImage(cloud, image_id, "Server.InternalError", "Server.InternalError: " + s.message())
      .IgnoreError();
}

Result<std::string> CreateImage(Cloud& cloud, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string instance_id, Required(p, "InstanceId"));
  ASSIGN_OR_RETURN(std::string name, Required(p, "Name"));
  RETURN_IF_ERROR(CheckImageName(name));
  ASSIGN_OR_RETURN(std::string description, ImageDescription(p));
  ASSIGN_OR_RETURN(bool no_reboot, BoolParam(p, "NoReboot", false));
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, instance_id));
  if (inst.root_device_type != "ebs") {
    return Ec2Error("InvalidParameterValue",
                    "The instance '" + instance_id + "' is not an Amazon EBS-backed instance.");
  }
  if (inst.state != InstanceState::kRunning && inst.state != InstanceState::kStopped) {
    return Ec2Error("IncorrectInstanceState", "The instance '" + instance_id +
                                                  "' is not in a state from which an image "
                                                  "can be created (running or stopped).");
  }
  RETURN_IF_ERROR(CheckNameFree(cloud, req.caller.account_id, name));
  ASSIGN_OR_RETURN(std::vector<BlockDeviceMapping> request, ParseMappings(p));
  const std::vector<std::string_view> taggable = {"image", "snapshot"};
  ASSIGN_OR_RETURN(std::vector<Tag> image_tags, TagsFor(p, "image", taggable));
  ASSIGN_OR_RETURN(std::vector<Tag> snapshot_tags, TagsFor(p, "snapshot", taggable));
  ASSIGN_OR_RETURN(std::string image_id, NewId("ami"));
  ASSIGN_OR_RETURN(ImagePlan plan, PlanImage(cloud, inst, image_id, request));
  if (req.dry_run) return DryRunSucceeded();
  Image image{.image_id = image_id,
              .owner_id = req.caller.account_id,
              .name = name,
              .description = description,
              .state = ImageState::kPending,
              .architecture = "x86_64",
              .root_device_name = inst.root_device_name,
              .root_device_type = "ebs",
              .virtualization_type = "hvm",
              .image_type = "machine",
              .source_instance_id = instance_id,
              .creation_date = cloud.Now(),
              .block_device_mappings = plan.mappings};
  nlohmann::json payload = {{"instance_id", instance_id}, {"no_reboot", no_reboot}};
  std::string job_id;
  {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    for (const Capture& c : plan.captures) {
      ASSIGN_OR_RETURN(EbsVolume vol, tx.volumes().Get(c.volume_id));
      RETURN_IF_ERROR(tx.snapshots().Insert(
          Snapshot{.snapshot_id = c.snapshot_id,
                   .owner_id = req.caller.account_id,
                   .volume_id = c.volume_id,
                   .volume_size = vol.size,
                   .state = SnapshotState::kPending,
                   .description = "Created by CreateImage(" + instance_id + ") for " + image_id,
                   .start_time = image.creation_date,
                   .encrypted = vol.encrypted,
                   .kms_key_id = vol.kms_key_id,
                   .storage_key = c.snapshot_id}));
      if (!snapshot_tags.empty()) {
        RETURN_IF_ERROR(tx.snapshots().Get(c.snapshot_id).status());
        RETURN_IF_ERROR(tx.tags().Set(c.snapshot_id, TagsOn(snapshot_tags, c.snapshot_id)));
      }
    }
    Status inserted = tx.images().Insert(image);
    if (inserted.code() == Code::kAlreadyExists) {
      return Ec2Error("InvalidAMIName.Duplicate", inserted.message());
    }
    RETURN_IF_ERROR(inserted);
    if (!image_tags.empty()) RETURN_IF_ERROR(tx.tags().Set(image_id, TagsOn(image_tags, image_id)));
    ASSIGN_OR_RETURN(Job job, tx.jobs().Enqueue("create-image", image_id, payload.dump()));
    job_id = job.job_id;
    RETURN_IF_ERROR(tx.Commit());
  }
  // std::function needs a copyable task: the move-only captures travel in a shared_ptr.
  auto captures = std::make_shared<std::vector<Capture>>(std::move(plan.captures));
  cloud.Background([&cloud, job_id, image_id, instance_id, no_reboot, captures] {
    RunCreateImage(cloud, job_id, image_id, instance_id, no_reboot, std::move(*captures));
  });
  XmlWriter w("CreateImageResponse", req.request_id);
  w.Field("imageId", image_id);
  return std::move(w).Finish();
}

Result<std::string> RegisterImage(Cloud& cloud, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string name, Required(p, "Name"));
  RETURN_IF_ERROR(CheckImageName(name));
  ASSIGN_OR_RETURN(std::string description, ImageDescription(p));
  const std::string root = p.Get("RootDeviceName").value_or("/dev/xvda");
  const std::string arch = p.Get("Architecture").value_or("x86_64");
  if (arch != "x86_64") {
    return Ec2Error("InvalidParameterValue", "Architecture " + arch + " is not supported here");
  }
  ASSIGN_OR_RETURN(std::vector<BlockDeviceMapping> maps, ParseMappings(p));
  const BlockDeviceMapping* root_map = nullptr;
  for (BlockDeviceMapping& m : maps) {
    if (!m.virtual_name.empty() || m.no_device) continue;
    if (m.snapshot_id.empty()) {
      if (!m.kms_key_id.empty()) {
        ASSIGN_OR_RETURN(m.kms_key_id, ResolveKmsKey(cloud, req.caller.account_id, m.kms_key_id));
      }
      continue;
    }
    ASSIGN_OR_RETURN(Snapshot snap, UsableSnapshot(cloud, req.caller, m.snapshot_id));
    // A snapshot's mapping is encrypted exactly when the snapshot is.
    m.encrypted = snap.encrypted;
    m.kms_key_id = snap.kms_key_id;
    if (snap.state != SnapshotState::kCompleted) {
      return Ec2Error("IncorrectState", "Snapshot " + snap.snapshot_id + " is not completed");
    }
    if (m.volume_size == 0) m.volume_size = snap.volume_size;
    if (m.volume_size < snap.volume_size) {
      return Ec2Error("InvalidBlockDeviceMapping",
                      "Volume of size " + std::to_string(m.volume_size) +
                          "GB is smaller than snapshot '" + snap.snapshot_id + "'");
    }
  }
  for (const BlockDeviceMapping& m : maps) {
    if (m.device_name == root && !m.snapshot_id.empty()) root_map = &m;
  }
  if (root_map == nullptr) {
    return Ec2Error("InvalidBlockDeviceMapping",
                    "The root device " + root + " must map an EBS snapshot");
  }
  RETURN_IF_ERROR(CheckNameFree(cloud, req.caller.account_id, name));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFor(p, "image", {"image"}));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(std::string image_id, NewId("ami"));
  Image image{.image_id = image_id,
              .owner_id = req.caller.account_id,
              .name = name,
              .description = description,
              .state = ImageState::kAvailable,
              .architecture = arch,
              .root_device_name = root,
              .root_device_type = "ebs",
              .virtualization_type = "hvm",
              .image_type = "machine",
              .creation_date = cloud.Now(),
              .block_device_mappings = maps};
  ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
  Status inserted = tx.images().Insert(image);
  if (inserted.code() == Code::kAlreadyExists) {
    return Ec2Error("InvalidAMIName.Duplicate", inserted.message());
  }
  RETURN_IF_ERROR(inserted);
  if (!tags.empty()) RETURN_IF_ERROR(tx.tags().Set(image_id, TagsOn(tags, image_id)));
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("RegisterImageResponse", req.request_id);
  w.Field("imageId", image_id);
  return std::move(w).Finish();
}

Result<std::string> DeregisterImage(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "ImageId"));
  ASSIGN_OR_RETURN(bool delete_snapshots,
                   BoolParam(req.params, "DeleteAssociatedSnapshots", false));
  ASSIGN_OR_RETURN(Image image, OwnedImage(cloud, req.caller, id));
  if (req.dry_run) return DryRunSucceeded();
  // Deregistering releases its snapshots at once (Terraform deletes them right after).
  Status s = cloud.catalog().images().UpdateState(id, image.state, ImageState::kDeregistered);
  if (!s.ok()) return s;
  if (delete_snapshots) {
    for (const BlockDeviceMapping& m : image.block_device_mappings) {
      if (m.snapshot_id.empty()) continue;
      Result<std::vector<std::string>> users =
          cloud.catalog().images().ListUsingSnapshot(m.snapshot_id);
      if (!users.ok() || !users->empty()) continue;  // another image still uses it
      Status d = cloud.catalog().snapshots().Delete(m.snapshot_id);
      if (d.ok()) d = cloud.storage().DeleteSnapshot(m.snapshot_id);
      if (!d.ok()) spdlog::error("deleting snapshot {} of {}: {}", m.snapshot_id, id, d.ToString());
    }
  }
  XmlWriter w("DeregisterImageResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

// Owners.N: account ids, "self", or an alias ("kiln", "amazon" matches nothing here).
Result<std::vector<std::string>> OwnerIds(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> owners, req.params.List("Owner"));
  std::vector<std::string> ids;
  for (const std::string& o : owners) {
    if (o == "self") {
      ids.push_back(req.caller.account_id);
    } else if (IsAccountId(o)) {
      ids.push_back(o);
    } else if (Result<Account> a = cloud.catalog().accounts().FindByAlias(o); a.ok()) {
      ids.push_back(a->account_id);
    } else if (o == "amazon" || o == "aws-marketplace" || o == "aws-backup-vault") {
      ids.push_back("-");  // a real alias that owns nothing here
    } else {
      return Ec2Error("InvalidUserID.Malformed", "Invalid user id: \"" + o + "\"");
    }
  }
  return ids;
}

// The first `name` filter as SQLite GLOB patterns, so the catalog reads only the images it
// can match (the filter is still applied to what comes back). EC2's wildcards are GLOB's * and
// ?; a [ is escaped. None for a value with a backslash (EC2's escape: matched in memory only).
std::vector<std::string> NameGlobs(const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    if (f.name != "name") continue;
    std::vector<std::string> globs;
    for (const std::string& v : f.values) {
      if (v.find('\\') != std::string::npos) return {};
      std::string glob;
      for (char c : v) glob += c == '[' ? std::string("[[]") : std::string(1, c);
      globs.push_back(std::move(glob));
    }
    return globs;
  }
  return {};
}

Result<std::string> DescribeImages(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, ParseFilters(req.params));
  RETURN_IF_ERROR(CheckImageFilters(filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ASSIGN_OR_RETURN(std::vector<std::string> owners, OwnerIds(cloud, req));
  ASSIGN_OR_RETURN(std::vector<std::string> executable_by, req.params.List("ExecutableBy"));
  ASSIGN_OR_RETURN(bool include_deprecated, BoolParam(req.params, "IncludeDeprecated", false));
  (void)include_deprecated;
  ListQuery q;
  q.visible_to = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("ImageId"));
  for (const std::string& id : q.ids) {
    RETURN_IF_ERROR(CheckIdFormat("ami", id, "InvalidAMIID.Malformed"));
  }
  q.after_id = page.after_id;
  q.name_globs = NameGlobs(filters);
  ASSIGN_OR_RETURN(std::vector<Image> all, cloud.catalog().images().List(q));
  if (!q.ids.empty()) {
    for (const std::string& id : q.ids) {
      const bool found = std::any_of(all.begin(), all.end(), [&](const Image& i) {
        return i.image_id == id && i.state != ImageState::kDeregistered;
      });
      if (!found && page.after_id.empty()) {
        return Ec2Error("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
      }
    }
  }
  std::erase_if(all, [&](const Image& image) {
    return image.state == ImageState::kDeregistered ||
           (!owners.empty() &&
            std::find(owners.begin(), owners.end(), image.owner_id) == owners.end());
  });
  // Every listed image's tags in one catalog read: one per image made a DescribeImages of a
  // few hundred images spend most of its time taking and dropping SQLite's file locks.
  std::vector<std::string> ids;
  for (const Image& image : all) ids.push_back(image.image_id);
  ASSIGN_OR_RETURN(std::vector<Tag> all_tags, cloud.catalog().tags().ListForResources(ids));
  std::map<std::string, std::vector<Tag>> tags_of;
  for (Tag& t : all_tags) tags_of[t.resource_id].push_back(std::move(t));
  static const std::vector<Tag> kNoTags;
  XmlWriter w("DescribeImagesResponse", req.request_id);
  w.Open("imagesSet");
  for (const Image& image : all) {
    if (!executable_by.empty()) {
      ASSIGN_OR_RETURN(std::vector<LaunchPermission> perms,
                       cloud.catalog().images().ListLaunchPermissions(image.image_id));
      if (!ExecutableBy(image, perms, req.caller.account_id, executable_by)) continue;
    }
    auto tags = tags_of.find(image.image_id);
    ImageView view{image, tags == tags_of.end() ? kNoTags : tags->second,
                   cloud.OwnerAlias(image.owner_id)};
    if (!MatchImage(view, filters)) continue;
    if (!page.Admit(image.image_id)) break;
    WriteImage(w, view);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> ImageActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  const std::vector<std::string> bdm = {
      "BlockDeviceMapping.N.DeviceName",     "BlockDeviceMapping.N.VirtualName",
      "BlockDeviceMapping.N.NoDevice",       "BlockDeviceMapping.N.Ebs.SnapshotId",
      "BlockDeviceMapping.N.Ebs.VolumeSize", "BlockDeviceMapping.N.Ebs.DeleteOnTermination",
      "BlockDeviceMapping.N.Ebs.VolumeType", "BlockDeviceMapping.N.Ebs.Iops",
      "BlockDeviceMapping.N.Ebs.Encrypted",  "BlockDeviceMapping.N.Ebs.KmsKeyId",
      "BlockDeviceMapping.N.Ebs.Throughput", "TagSpecification.N.ResourceType",
      "TagSpecification.N.Tag.N.Key",        "TagSpecification.N.Tag.N.Value"};
  std::vector<std::string> create = {"InstanceId", "Name", "Description", "NoReboot"};
  create.insert(create.end(), bdm.begin(), bdm.end());
  std::vector<std::string> reg = {
      "Name",       "Description",     "Architecture", "RootDeviceName", "VirtualizationType",
      "EnaSupport", "SriovNetSupport", "BootMode",     "ImdsSupport",    "TpmSupport"};
  reg.insert(reg.end(), bdm.begin(), bdm.end());
  return {
      {"CreateImage", create, bind(&CreateImage), true},
      {"RegisterImage", reg, bind(&RegisterImage), true},
      {"DeregisterImage", {"ImageId", "DeleteAssociatedSnapshots"}, bind(&DeregisterImage), true},
      {"DescribeImages",
       {"ImageId.N", "Owner.N", "ExecutableBy.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults",
        "NextToken", "IncludeDeprecated", "IncludeDisabled"},
       bind(&DescribeImages)},
  };
}

}  // namespace kiln
