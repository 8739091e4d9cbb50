// CreateSnapshot, DeleteSnapshot, DescribeSnapshots.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "catalog/ids.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/capture.h"
#include "cloud/cloud.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

Result<std::string> CreateSnapshot(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string volume_id, Required(req.params, "VolumeId"));
  std::string description = req.params.Get("Description").value_or("");
  if (description.size() > 255) {
    return Ec2Error("InvalidParameterValue", "Description must be at most 255 characters");
  }
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFor(req.params, "snapshot", {"snapshot"}));
  ASSIGN_OR_RETURN(EbsVolume vol, OwnedVolume(cloud, req.caller, volume_id));
  if (vol.state != VolumeState::kAvailable && vol.state != VolumeState::kInUse) {
    return Ec2Error("IncorrectState",
                    "Volume " + volume_id + " is " + std::string(ToString(vol.state)));
  }
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(std::string snap_id, NewId("snap"));
  Snapshot snap{.snapshot_id = snap_id,
                .owner_id = req.caller.account_id,
                .volume_id = volume_id,
                .volume_size = vol.size,
                .state = SnapshotState::kPending,
                .description = description,
                .start_time = cloud.Now(),
                .encrypted = vol.encrypted,  // sealed as its volume is (SnapshotStore::Start)
                .kms_key_id = vol.kms_key_id,
                .storage_key = snap_id};
  std::string job_id;
  {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(tx.snapshots().Insert(snap));
    if (!tags.empty()) RETURN_IF_ERROR(tx.tags().Set(snap_id, TagsOn(tags, snap_id)));
    nlohmann::json payload = {{"volume_id", volume_id}};
    ASSIGN_OR_RETURN(Job job, tx.jobs().Enqueue("snapshot", snap_id, payload.dump()));
    job_id = job.job_id;
    RETURN_IF_ERROR(tx.Commit());
  }
  // The point in time is now, in the call (DESIGN.md); the blocks follow in the background.
  auto captures = std::make_shared<std::vector<Capture>>();
  captures->push_back(Capture{volume_id, snap_id, nullptr});
  Status started = StartCaptures(cloud, *captures);
  if (started.ok()) started = cloud.catalog().jobs().Claim(job_id);
  if (!started.ok()) {
    cloud.catalog().jobs().Abandon(job_id, started.message()).IgnoreError();
    cloud.catalog()
        .snapshots()
        .UpdateState(snap_id, SnapshotState::kPending, SnapshotState::kError, started.message())
        .IgnoreError();
    if (started.code() == Code::kFailedPrecondition) {
      return Ec2Error("SnapshotCreationPerVolumeRateExceeded",
                      "Volume " + volume_id + " has a snapshot in progress; try again later");
    }
    return started;
  }
  cloud.Background([&cloud, job_id, captures] {
    Status s = RunCaptures(cloud, *captures);
    if (s.ok()) {
      cloud.catalog().jobs().Finish(job_id).IgnoreError();
    } else {
      cloud.catalog().jobs().Fail(job_id, s.message()).IgnoreError();
    }
  });
  XmlWriter w("CreateSnapshotResponse", req.request_id);
  w.Field("snapshotId", snap_id).Field("volumeId", volume_id).Field("status", "pending");
  w.Field("startTime", snap.start_time).Field("progress", "");
  w.Field("ownerId", snap.owner_id).Field("volumeSize", snap.volume_size);
  w.Field("description", description).Field("encrypted", snap.encrypted);
  w.FieldIfSet("kmsKeyId", snap.kms_key_id);
  actions::WriteTagSet(w, TagsOn(tags, snap_id));
  return std::move(w).Finish();
}

Result<std::string> DeleteSnapshot(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "SnapshotId"));
  ASSIGN_OR_RETURN(Snapshot snap, OwnedSnapshot(cloud, req.caller, id));
  ASSIGN_OR_RETURN(std::vector<std::string> users, cloud.catalog().images().ListUsingSnapshot(id));
  if (!users.empty()) {
    return Ec2Error("InvalidSnapshot.InUse",
                    "The snapshot " + id + " is currently in use by " + users[0]);
  }
  if (snap.state == SnapshotState::kPending) {
    return Ec2Error("IncorrectState", "The snapshot " + id + " is still being created");
  }
  if (req.dry_run) return DryRunSucceeded();
  RETURN_IF_ERROR(cloud.catalog().snapshots().Delete(id));
  Status s = cloud.storage().DeleteSnapshot(id);
  if (!s.ok()) spdlog::error("freeing the data of snapshot {}: {}", id, s.ToString());
  XmlWriter w("DeleteSnapshotResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

// Whether one of `accounts` ("self" is the caller) may create volumes from the snapshot: its
// owner, or granted by a createVolumePermission (the group "all" or the account).
Result<bool> RestorableBy(Cloud& cloud, const Caller& caller, const Snapshot& s,
                          const std::vector<std::string>& accounts) {
  ASSIGN_OR_RETURN(std::vector<CreateVolumePermission> perms,
                   cloud.catalog().snapshots().ListCreateVolumePermissions(s.snapshot_id));
  for (const std::string& a : accounts) {
    const std::string who = a == "self" ? caller.account_id : a;
    if (s.owner_id == who) return true;
    for (const CreateVolumePermission& p : perms) {
      if (p.group == "all" || p.user_id == who) return true;
    }
  }
  return false;
}

Result<std::string> DescribeSnapshots(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, ParseFilters(req.params));
  RETURN_IF_ERROR(CheckSnapshotFilters(filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ASSIGN_OR_RETURN(std::vector<std::string> owners, req.params.List("Owner"));
  ASSIGN_OR_RETURN(std::vector<std::string> restorable, req.params.List("RestorableBy"));
  std::vector<std::string> owner_ids;
  for (const std::string& o : owners) {
    if (o == "self") {
      owner_ids.push_back(req.caller.account_id);
    } else if (IsAccountId(o)) {
      owner_ids.push_back(o);
    } else if (Result<Account> a = cloud.catalog().accounts().FindByAlias(o); a.ok()) {
      owner_ids.push_back(a->account_id);
    } else if (o != "amazon") {
      return Ec2Error("InvalidUserID.Malformed", "Invalid user id: \"" + o + "\"");
    }
  }
  ListQuery q;
  q.visible_to = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("SnapshotId"));
  for (const std::string& id : q.ids) {
    RETURN_IF_ERROR(CheckIdFormat("snap", id, "InvalidSnapshotID.Malformed"));
  }
  q.after_id = page.after_id;
  ASSIGN_OR_RETURN(std::vector<Snapshot> all, cloud.catalog().snapshots().List(q));
  if (page.after_id.empty()) {
    for (const std::string& id : q.ids) {
      if (std::none_of(all.begin(), all.end(),
                       [&](const Snapshot& s) { return s.snapshot_id == id; })) {
        return Ec2Error("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
      }
    }
  }
  XmlWriter w("DescribeSnapshotsResponse", req.request_id);
  w.Open("snapshotSet");
  for (const Snapshot& s : all) {
    if (!owners.empty() &&
        std::find(owner_ids.begin(), owner_ids.end(), s.owner_id) == owner_ids.end()) {
      continue;
    }
    if (!restorable.empty()) {
      ASSIGN_OR_RETURN(bool ok, RestorableBy(cloud, req.caller, s, restorable));
      if (!ok) continue;
    }
    ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(s.snapshot_id));
    SnapshotView view{s, tags, cloud.OwnerAlias(s.owner_id)};
    if (!MatchSnapshot(view, filters)) continue;
    if (!page.Admit(s.snapshot_id)) break;
    WriteSnapshot(w, view);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> SnapshotActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  return {
      {"CreateSnapshot",
       {"VolumeId", "Description", "OutpostArn", "TagSpecification.N.ResourceType",
        "TagSpecification.N.Tag.N.Key", "TagSpecification.N.Tag.N.Value"},
       bind(&CreateSnapshot),
       true},
      {"DeleteSnapshot", {"SnapshotId"}, bind(&DeleteSnapshot), true},
      {"DescribeSnapshots",
       {"SnapshotId.N", "Owner.N", "RestorableBy.N", "Filter.N.Name", "Filter.N.Value.N",
        "MaxResults", "NextToken"},
       bind(&DescribeSnapshots)},
  };
}

}  // namespace kiln
