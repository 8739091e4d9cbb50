// CopySnapshot and CopyImage within the region (issue 6, Copies).
//
// A copy gets new ids at once (snapshots `pending`, an image `pending`) and is made in the
// background by Storage::CopySnapshot: an unencrypted copy, or one under the source's own key,
// shares every chunk with its source (dedup: no block is read); encrypting or moving to another
// key re-seals every block. Each copied snapshot ends `completed` or `error`, a copied image
// `available` or `failed`. The work is a durable job (copy-snapshot / copy-image) in the
// same transaction as the records, so after a kill -9 recovery ends the unfinished snapshots
// `error` and the image `failed` (Cloud::Recover), as for CreateImage.
//
// What may be copied: a snapshot the caller may create volumes from (its own, public, or shared
// with a createVolumePermission) and an image it may launch (its own, public, or shared with a
// launchPermission): the image's snapshots come with it, as on EC2.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "catalog/ids.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/encryption.h"
#include "cloud/instance_ops.h"

namespace kiln {
namespace {

// A snapshot copied as part of one request: where from, where to, how sealed.
struct CopyTask {
  std::string source_key;  // the source's storage id
  std::string snapshot_id;
  VolumeSealing sealing;
};

// CopyImage's ClientToken: (account, token) -> the image that request made. In memory, so a
// retry is idempotent while kilnd runs (not across a restart).
struct CopyTokens {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, std::string> images;  // guarded by mu
};

Status CheckRegion(Cloud& cloud, const QueryParams& p, std::string_view name, bool required) {
  std::optional<std::string> region = p.Get(name);
  if (!region || region->empty()) {
    if (!required) return Status::Ok();
    return Ec2Error("MissingParameter",
                    "The request must contain the parameter " + std::string(name));
  }
  if (*region == cloud.options().region) return Status::Ok();
  return Ec2Error("InvalidParameterValue",
                  "Value (" + *region + ") for parameter " + std::string(name) +
                      " is invalid. This endpoint serves only " + cloud.options().region +
                      "; copies between regions are not possible here.");
}

Result<std::string> CopyDescription(const QueryParams& p, std::string fallback) {
  std::string d = p.Get("Description").value_or(std::move(fallback));
  if (d.size() > 255) {
    return Ec2Error("InvalidParameterValue", "Description must be at most 255 characters");
  }
  return d;
}

// Copies every task's snapshot in turn, keeping its Progress current; each ends completed or
// error. Returns the first error (the tasks after it end error too, without being tried).
Status RunCopies(Cloud& cloud, const std::string& account, const std::vector<CopyTask>& tasks) {
  Status first;
  for (const CopyTask& t : tasks) {
    Status s = first;
    if (s.ok()) {
      std::atomic<int> last{-1};
      auto progress = [&](uint64_t done, uint64_t total) {
        const int percent =
            total == 0 ? 99 : static_cast<int>(std::min<uint64_t>(99, done * 100 / total));
        if (last.exchange(percent) != percent) {
          cloud.catalog().snapshots().SetProgress(t.snapshot_id, percent).IgnoreError();
        }
      };
      s = cloud.storage().CopySnapshot(t.source_key, t.snapshot_id, t.sealing.encrypted,
                                       t.sealing.kms_key_arn, account, progress);
    }
    if (s.ok()) {
      s = cloud.catalog().snapshots().UpdateState(t.snapshot_id, SnapshotState::kPending,
                                                  SnapshotState::kCompleted);
    }
    if (!s.ok()) {
      spdlog::error("copy {} of {}: {}", t.snapshot_id, t.source_key, s.ToString());
      cloud.catalog()
          .snapshots()
          .UpdateState(t.snapshot_id, SnapshotState::kPending, SnapshotState::kError, s.message())
          .IgnoreError();
      if (first.ok()) first = s;
    }
  }
  return first;
}

// The background half of both actions. `image_id` is "" for CopySnapshot.
void RunCopyJob(Cloud& cloud, const std::string& job_id, const std::string& account,
                const std::string& image_id, const std::vector<CopyTask>& tasks) {
  Status s = cloud.catalog().jobs().Claim(job_id);
  if (s.ok()) s = RunCopies(cloud, account, tasks);
  if (s.ok() && !image_id.empty()) {
    s = cloud.catalog().images().UpdateState(image_id, ImageState::kPending,
                                             ImageState::kAvailable);
  }
  if (s.ok()) {
    cloud.catalog().jobs().Finish(job_id).IgnoreError();
    return;
  }
  cloud.catalog().jobs().Fail(job_id, s.message()).IgnoreError();
  if (!image_id.empty()) {
    spdlog::error("copy image {} failed: {}", image_id, s.ToString());
    FailImage(cloud, image_id, "Server.InternalError", "Server.InternalError: " + s.message())
        .IgnoreError();
  }
}

nlohmann::json TasksJson(const std::vector<CopyTask>& tasks) {
  nlohmann::json out = nlohmann::json::array();
  for (const CopyTask& t : tasks) {
    out.push_back({{"source", t.source_key},
                   {"snapshot_id", t.snapshot_id},
                   {"kms_key_arn", t.sealing.kms_key_arn}});
  }
  return out;
}

Result<std::string> CopySnapshot(Cloud& cloud, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string source_id, Required(p, "SourceSnapshotId"));
  RETURN_IF_ERROR(CheckRegion(cloud, p, "SourceRegion", true));
  RETURN_IF_ERROR(CheckRegion(cloud, p, "DestinationRegion", false));
  ASSIGN_OR_RETURN(std::string description, CopyDescription(p, "[Copied " + source_id + " from " +
                                                                   cloud.options().region + "]"));
  ASSIGN_OR_RETURN(bool encrypted, BoolParam(p, "Encrypted", false));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFor(p, "snapshot", {"snapshot"}));
  ASSIGN_OR_RETURN(Snapshot source, UsableSnapshot(cloud, req.caller, source_id));
  if (source.state != SnapshotState::kCompleted) {
    return Ec2Error("IncorrectState",
                    "Snapshot is in invalid state - " + std::string(ToString(source.state)));
  }
  ASSIGN_OR_RETURN(VolumeSealing sealing, DecideSealing(cloud, req.caller.account_id, encrypted,
                                                        p.Get("KmsKeyId").value_or(""), &source));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(std::string snap_id, NewId("snap"));
  const std::vector<CopyTask> tasks = {
      {source.storage_key.empty() ? source_id : source.storage_key, snap_id, sealing}};
  Snapshot snap{.snapshot_id = snap_id,
                .owner_id = req.caller.account_id,
                .volume_id = "vol-ffffffff",  // EC2's volume id of a copied snapshot
                .volume_size = source.volume_size,
                .state = SnapshotState::kPending,
                .description = description,
                .start_time = cloud.Now(),
                .encrypted = sealing.encrypted,
                .kms_key_id = sealing.kms_key_arn,
                .storage_key = snap_id};
  std::string job_id;
  {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(tx.snapshots().Insert(snap));
    if (!tags.empty()) RETURN_IF_ERROR(tx.tags().Set(snap_id, TagsOn(tags, snap_id)));
    ASSIGN_OR_RETURN(Job job, tx.jobs().Enqueue("copy-snapshot", snap_id, TasksJson(tasks).dump()));
    job_id = job.job_id;
    RETURN_IF_ERROR(tx.Commit());
  }
  const std::string account = req.caller.account_id;
  cloud.Background(
      [&cloud, job_id, account, tasks] { RunCopyJob(cloud, job_id, account, "", tasks); });
  XmlWriter w("CopySnapshotResponse", req.request_id);
  w.Field("snapshotId", snap_id);
  actions::WriteTagSet(w, TagsOn(tags, snap_id));
  return std::move(w).Finish();
}

// The copy's records: the image (pending) with new snapshots (pending) for each EBS mapping of
// the source that has one, and the tasks that fill them.
struct ImageCopyPlan {
  Image image;
  std::vector<Snapshot> snapshots;
  std::vector<CopyTask> tasks;
};

Result<ImageCopyPlan> PlanImageCopy(Cloud& cloud, const ActionRequest& req, const Image& source,
                                    bool encrypted) {
  const QueryParams& p = req.params;
  ImageCopyPlan plan;
  plan.image = source;
  ASSIGN_OR_RETURN(plan.image.image_id, NewId("ami"));
  ASSIGN_OR_RETURN(plan.image.name, Required(p, "Name"));
  RETURN_IF_ERROR(CheckImageName(plan.image.name));
  ASSIGN_OR_RETURN(plan.image.description, CopyDescription(p, source.description));
  plan.image.owner_id = req.caller.account_id;
  plan.image.state = ImageState::kPending;
  plan.image.state_reason = {};
  plan.image.is_public = false;
  plan.image.source_instance_id.clear();
  plan.image.creation_date = cloud.Now();
  const std::string key = p.Get("KmsKeyId").value_or("");
  for (BlockDeviceMapping& m : plan.image.block_device_mappings) {
    if (m.snapshot_id.empty() || m.no_device || !m.virtual_name.empty()) continue;
    // The image's own snapshots: a launch permission covers them.
    ASSIGN_OR_RETURN(Snapshot s, cloud.catalog().snapshots().Get(m.snapshot_id));
    ASSIGN_OR_RETURN(VolumeSealing sealing,
                     DecideSealing(cloud, req.caller.account_id, encrypted, key, &s));
    ASSIGN_OR_RETURN(std::string snap_id, NewId("snap"));
    plan.tasks.push_back({s.storage_key.empty() ? s.snapshot_id : s.storage_key, snap_id, sealing});
    plan.snapshots.push_back(Snapshot{
        .snapshot_id = snap_id,
        .owner_id = req.caller.account_id,
        .volume_id = "vol-ffffffff",
        .volume_size = s.volume_size,
        .state = SnapshotState::kPending,
        .description = "Copied for DestinationAmi " + plan.image.image_id + " from SourceAmi " +
                       source.image_id + " for SourceSnapshot " + s.snapshot_id + ".",
        .start_time = plan.image.creation_date,
        .encrypted = sealing.encrypted,
        .kms_key_id = sealing.kms_key_arn,
        .storage_key = snap_id});
    m.snapshot_id = snap_id;
    m.encrypted = sealing.encrypted;
    m.kms_key_id = sealing.kms_key_arn;
  }
  return plan;
}

// The copy's tags: the source's own (CopyImageTags, only for the source's owner: another
// account's tags are not visible to the caller) and the request's TagSpecification.
Result<std::vector<Tag>> CopyImageTags(Cloud& cloud, const ActionRequest& req, const Image& source,
                                       std::vector<Tag> requested) {
  ASSIGN_OR_RETURN(bool copy_tags, BoolParam(req.params, "CopyImageTags", false));
  if (!copy_tags || source.owner_id != req.caller.account_id) return requested;
  ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(source.image_id));
  for (Tag& t : requested) {
    auto same = [&](const Tag& o) { return o.key == t.key; };
    tags.erase(std::remove_if(tags.begin(), tags.end(), same), tags.end());
    tags.push_back(std::move(t));
  }
  return tags;
}

Status RecordImageCopy(Cloud& cloud, const ImageCopyPlan& plan, const std::vector<Tag>& image_tags,
                       const std::vector<Tag>& snapshot_tags, std::string& job_id) {
  ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
  for (const Snapshot& s : plan.snapshots) {
    RETURN_IF_ERROR(tx.snapshots().Insert(s));
    if (!snapshot_tags.empty()) {
      RETURN_IF_ERROR(tx.tags().Set(s.snapshot_id, TagsOn(snapshot_tags, s.snapshot_id)));
    }
  }
  const std::string& id = plan.image.image_id;
  Status inserted = tx.images().Insert(plan.image);
  if (inserted.code() == Code::kAlreadyExists) {
    return Ec2Error("InvalidAMIName.Duplicate", inserted.message());
  }
  RETURN_IF_ERROR(inserted);
  if (!image_tags.empty()) RETURN_IF_ERROR(tx.tags().Set(id, TagsOn(image_tags, id)));
  ASSIGN_OR_RETURN(Job job, tx.jobs().Enqueue("copy-image", id, TasksJson(plan.tasks).dump()));
  job_id = job.job_id;
  return tx.Commit();
}

Result<std::string> CopyImage(Cloud& cloud, CopyTokens& tokens, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string source_id, Required(p, "SourceImageId"));
  RETURN_IF_ERROR(CheckRegion(cloud, p, "SourceRegion", true));
  ASSIGN_OR_RETURN(bool encrypted, BoolParam(p, "Encrypted", false));
  const std::string token = p.Get("ClientToken").value_or("");
  const auto token_key = std::make_pair(req.caller.account_id, token);
  if (!token.empty()) {
    std::lock_guard lock(tokens.mu);
    auto it = tokens.images.find(token_key);
    if (it != tokens.images.end()) {
      XmlWriter w("CopyImageResponse", req.request_id);
      w.Field("imageId", it->second);
      return std::move(w).Finish();
    }
  }
  const std::vector<std::string_view> taggable = {"image", "snapshot"};
  ASSIGN_OR_RETURN(std::vector<Tag> requested, TagsFor(p, "image", taggable));
  ASSIGN_OR_RETURN(std::vector<Tag> snapshot_tags, TagsFor(p, "snapshot", taggable));
  ASSIGN_OR_RETURN(Image source, LaunchableImage(cloud, req.caller, source_id));
  if (source.state != ImageState::kAvailable) {
    return Ec2Error("InvalidAMIID.Unavailable", "Image " + source_id + " is not available");
  }
  ASSIGN_OR_RETURN(ImageCopyPlan plan, PlanImageCopy(cloud, req, source, encrypted));
  ASSIGN_OR_RETURN(std::vector<Tag> image_tags,
                   CopyImageTags(cloud, req, source, std::move(requested)));
  Result<Image> taken = cloud.catalog().images().FindByName(req.caller.account_id, plan.image.name);
  if (taken.ok()) {
    return Ec2Error("InvalidAMIName.Duplicate",
                    "AMI name " + plan.image.name + " is already in use by AMI " + taken->image_id);
  }
  if (req.dry_run) return DryRunSucceeded();
  std::string job_id;
  RETURN_IF_ERROR(RecordImageCopy(cloud, plan, image_tags, snapshot_tags, job_id));
  const std::string image_id = plan.image.image_id;
  if (!token.empty()) {
    std::lock_guard lock(tokens.mu);
    tokens.images[token_key] = image_id;
  }
  const std::string account = req.caller.account_id;
  cloud.Background([&cloud, job_id, account, image_id, tasks = plan.tasks] {
    RunCopyJob(cloud, job_id, account, image_id, tasks);
  });
  XmlWriter w("CopyImageResponse", req.request_id);
  w.Field("imageId", image_id);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> CopyActions(Cloud& cloud) {
  auto tokens = std::make_shared<CopyTokens>();
  const std::vector<std::string> tag_specs = {"TagSpecification.N.ResourceType",
                                              "TagSpecification.N.Tag.N.Key",
                                              "TagSpecification.N.Tag.N.Value"};
  std::vector<std::string> snapshot = {"SourceSnapshotId", "SourceRegion", "DestinationRegion",
                                       "Description",      "Encrypted",    "KmsKeyId",
                                       "PresignedUrl"};
  std::vector<std::string> image = {"SourceImageId", "SourceRegion", "Name",
                                    "Description",   "Encrypted",    "KmsKeyId",
                                    "ClientToken",   "CopyImageTags"};
  snapshot.insert(snapshot.end(), tag_specs.begin(), tag_specs.end());
  image.insert(image.end(), tag_specs.begin(), tag_specs.end());
  return {
      {"CopySnapshot", snapshot,
       [&cloud](const ActionRequest& r) { return CopySnapshot(cloud, r); }, true},
      {"CopyImage", image,
       [&cloud, tokens](const ActionRequest& r) { return CopyImage(cloud, *tokens, r); }, true},
  };
}

}  // namespace kiln
