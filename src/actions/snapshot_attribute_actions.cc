#include "actions/snapshot_attribute_actions.h"

#include <algorithm>

#include "actions/action_common.h"
#include "actions/permission_params.h"
#include "catalog/ids.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using actions::Grant;
using actions::GrantChanges;

constexpr char kCreateVolumePermission[] = "createVolumePermission";

// The caller's own snapshot; see the header for the errors.
Result<Snapshot> OwnSnapshot(Catalog& catalog, const Caller& caller, const std::string& id) {
  if (!IsResourceId("snap", id)) {
    return Ec2Error("InvalidSnapshotID.Malformed",
                    "Invalid id: \"" + id + "\" (expecting \"snap-...\")");
  }
  Result<Snapshot> snap = catalog.snapshots().Get(id);
  if (!snap.ok() && snap.status().code() != Code::kNotFound) return snap.status();
  if (snap.ok()) {
    if (snap->owner_id == caller.account_id) return snap;
    ASSIGN_OR_RETURN(std::vector<CreateVolumePermission> perms,
                     catalog.snapshots().ListCreateVolumePermissions(id));
    const bool visible =
        std::any_of(perms.begin(), perms.end(), [&](const CreateVolumePermission& p) {
          return p.group == "all" || p.user_id == caller.account_id;
        });
    if (visible) return Ec2Error("AuthFailure", "Not authorized for snapshot:" + id);
  }
  return Ec2Error("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
}

Status CheckAttribute(const std::string& attribute, bool product_codes_too) {
  if (attribute == kCreateVolumePermission) return Status::Ok();
  if (product_codes_too && attribute == "productCodes") return Status::Ok();
  return Ec2Error("InvalidParameterValue", "Value (" + attribute +
                                               ") for parameter attribute is invalid. Expecting "
                                               "createVolumePermission.");
}

CreateVolumePermission ToPermission(const std::string& snapshot_id, const Grant& g) {
  return CreateVolumePermission{snapshot_id, g.group, g.user_id};
}

Result<std::string> ModifySnapshotAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "SnapshotId"));
  const std::optional<std::string> attribute = req.params.Get("Attribute");
  if (attribute && !attribute->empty()) RETURN_IF_ERROR(CheckAttribute(*attribute, false));
  RETURN_IF_ERROR(OwnSnapshot(catalog, req.caller, id).status());
  GrantChanges c;
  RETURN_IF_ERROR(
      ReadGrantChanges(req.params, "CreateVolumePermission", "InvalidParameterValue", c));
  if (c.empty()) return Ec2Error("InvalidParameterCombination", "No attributes specified.");
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  for (const Grant& g : c.add) {
    RETURN_IF_ERROR(tx.snapshots().AddCreateVolumePermission(ToPermission(id, g)));
  }
  for (const Grant& g : c.remove) {
    RETURN_IF_ERROR(tx.snapshots().RemoveCreateVolumePermission(ToPermission(id, g)));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("ModifySnapshotAttributeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

Result<std::string> DescribeSnapshotAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "SnapshotId"));
  ASSIGN_OR_RETURN(std::string attribute, actions::Required(req.params, "Attribute"));
  RETURN_IF_ERROR(CheckAttribute(attribute, true));
  RETURN_IF_ERROR(OwnSnapshot(catalog, req.caller, id).status());
  XmlWriter w("DescribeSnapshotAttributeResponse", req.request_id);
  w.Field("snapshotId", id);
  if (attribute == "productCodes") {
    w.Open("productCodes").Close();
  } else {
    ASSIGN_OR_RETURN(std::vector<CreateVolumePermission> perms,
                     catalog.snapshots().ListCreateVolumePermissions(id));
    w.Open(kCreateVolumePermission);
    for (const CreateVolumePermission& p : perms) {
      w.Open("item").FieldIfSet("group", p.group).FieldIfSet("userId", p.user_id).Close();
    }
    w.Close();
  }
  return std::move(w).Finish();
}

Result<std::string> ResetSnapshotAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "SnapshotId"));
  ASSIGN_OR_RETURN(std::string attribute, actions::Required(req.params, "Attribute"));
  RETURN_IF_ERROR(CheckAttribute(attribute, false));
  RETURN_IF_ERROR(OwnSnapshot(catalog, req.caller, id).status());
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  ASSIGN_OR_RETURN(std::vector<CreateVolumePermission> perms,
                   tx.snapshots().ListCreateVolumePermissions(id));
  for (const CreateVolumePermission& p : perms) {
    RETURN_IF_ERROR(tx.snapshots().RemoveCreateVolumePermission(p));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("ResetSnapshotAttributeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> SnapshotAttributeActions(Catalog& catalog) {
  Catalog* c = &catalog;
  std::vector<std::string> modify = {"SnapshotId", "Attribute"};
  for (std::string& name : actions::GrantParameterNames("CreateVolumePermission")) {
    modify.push_back(std::move(name));
  }
  return {
      {"ModifySnapshotAttribute", modify,
       [c](const ActionRequest& r) { return ModifySnapshotAttribute(*c, r); }, true},
      {"DescribeSnapshotAttribute",
       {"SnapshotId", "Attribute"},
       [c](const ActionRequest& r) { return DescribeSnapshotAttribute(*c, r); }},
      {"ResetSnapshotAttribute",
       {"SnapshotId", "Attribute"},
       [c](const ActionRequest& r) { return ResetSnapshotAttribute(*c, r); },
       true},
  };
}

}  // namespace kiln
