#include "cloud/action_util.h"

#include <cctype>
#include <string_view>

#include "catalog/ids.h"
#include "cloud/cloud.h"

namespace kiln {

Status CheckIdFormat(std::string_view prefix, const std::string& id, std::string_view code) {
  const std::string p = std::string(prefix) + "-";
  bool ok = id.starts_with(p) && (id.size() == p.size() + 8 || id.size() == p.size() + 17);
  for (size_t i = p.size(); ok && i < id.size(); ++i) {
    const char c = id[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (ok) return Status::Ok();
  return Ec2Error(code, "Invalid id: \"" + id + "\"");
}

Result<Instance> OwnedInstance(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("i", id, "InvalidInstanceID.Malformed"));
  Result<Instance> r = cloud.catalog().instances().Get(id);
  if (!r.ok() || r->owner_id != caller.account_id) {
    if (r.ok() || r.status().code() == Code::kNotFound) {
      return Ec2Error("InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
    }
  }
  return r;
}

Result<EbsVolume> OwnedVolume(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("vol", id, "InvalidVolumeID.Malformed"));
  Result<EbsVolume> r = cloud.catalog().volumes().Get(id);
  if ((r.ok() && (r->owner_id != caller.account_id || r->state == VolumeState::kDeleted)) ||
      (!r.ok() && r.status().code() == Code::kNotFound)) {
    return Ec2Error("InvalidVolume.NotFound", "The volume '" + id + "' does not exist.");
  }
  return r;
}

Result<Snapshot> OwnedSnapshot(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("snap", id, "InvalidSnapshotID.Malformed"));
  Result<Snapshot> r = cloud.catalog().snapshots().Get(id);
  if ((r.ok() && r->owner_id != caller.account_id) ||
      (!r.ok() && r.status().code() == Code::kNotFound)) {
    return Ec2Error("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
  }
  return r;
}

Result<Image> OwnedImage(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("ami", id, "InvalidAMIID.Malformed"));
  Result<Image> r = cloud.catalog().images().Get(id);
  if ((r.ok() && (r->owner_id != caller.account_id || r->state == ImageState::kDeregistered)) ||
      (!r.ok() && r.status().code() == Code::kNotFound)) {
    return Ec2Error("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
  }
  return r;
}

Result<Image> LaunchableImage(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("ami", id, "InvalidAMIID.Malformed"));
  ListQuery q;
  q.visible_to = caller.account_id;
  q.ids = {id};
  ASSIGN_OR_RETURN(std::vector<Image> found, cloud.catalog().images().List(q));
  if (found.empty() || found[0].state == ImageState::kDeregistered) {
    return Ec2Error("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
  }
  return found[0];
}

Result<Snapshot> UsableSnapshot(Cloud& cloud, const Caller& caller, const std::string& id) {
  RETURN_IF_ERROR(CheckIdFormat("snap", id, "InvalidSnapshotID.Malformed"));
  ListQuery q;
  q.visible_to = caller.account_id;
  q.ids = {id};
  ASSIGN_OR_RETURN(std::vector<Snapshot> found, cloud.catalog().snapshots().List(q));
  if (found.empty()) {
    return Ec2Error("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
  }
  return found[0];
}

Status CheckImageName(const std::string& name) {
  bool ok = name.size() >= 3 && name.size() <= 128;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("()[] ./-'@_").find(c) != std::string_view::npos);
  }
  if (ok) return Status::Ok();
  return Ec2Error("InvalidAMIName.Malformed",
                  "AMI names must be between 3 and 128 characters long, and may contain letters, "
                  "numbers, '(', ')', '.', '-', '/', '_', '[', ']', ' ', ''' and '@'");
}

}  // namespace kiln
