#include "actions/image_attribute_actions.h"

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

// The caller's own image; see the header for the errors.
Result<Image> OwnImage(Catalog& catalog, const Caller& caller, const std::string& id) {
  if (!IsResourceId("ami", id)) {
    return Ec2Error("InvalidAMIID.Malformed", "Invalid id: \"" + id + "\" (expecting \"ami-...\")");
  }
  Result<Image> image = catalog.images().Get(id);
  if (!image.ok() && image.status().code() != Code::kNotFound) return image.status();
  if (image.ok() && image->state != ImageState::kDeregistered) {
    if (image->owner_id == caller.account_id) return image;
    ASSIGN_OR_RETURN(std::vector<LaunchPermission> perms,
                     catalog.images().ListLaunchPermissions(id));
    const bool visible = std::any_of(perms.begin(), perms.end(), [&](const LaunchPermission& p) {
      return p.group == "all" || p.user_id == caller.account_id;
    });
    if (visible) return Ec2Error("AuthFailure", "Not authorized for image:" + id);
  }
  return Ec2Error("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
}

struct Changes {
  std::optional<std::string> description;
  GrantChanges permissions;
};

Result<Changes> ReadChanges(const QueryParams& p) {
  Changes c;
  c.description = p.Get("Description.Value");
  const std::string attribute = p.Get("Attribute").value_or("");
  if (!attribute.empty() && attribute != "description" && attribute != "launchPermission") {
    return Ec2Error("InvalidParameterValue", "Value (" + attribute +
                                                 ") for parameter attribute is invalid. kiln "
                                                 "modifies description and launchPermission.");
  }
  if (!c.description && attribute == "description") c.description = p.Get("Value").value_or("");
  if (c.description && c.description->size() > 255) {
    return Ec2Error("InvalidParameterValue", "A description is at most 255 characters");
  }
  RETURN_IF_ERROR(
      ReadGrantChanges(p, "LaunchPermission", "InvalidAMIAttributeItemValue", c.permissions));
  if (!c.description && c.permissions.empty()) {
    return Ec2Error("InvalidParameterCombination", "No attributes specified.");
  }
  return c;
}

LaunchPermission ToPermission(const std::string& image_id, const Grant& g) {
  return LaunchPermission{image_id, g.group, g.user_id};
}

Result<std::string> ModifyImageAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "ImageId"));
  RETURN_IF_ERROR(OwnImage(catalog, req.caller, id).status());
  ASSIGN_OR_RETURN(Changes c, ReadChanges(req.params));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  if (c.description) RETURN_IF_ERROR(tx.images().SetDescription(id, *c.description));
  for (const Grant& g : c.permissions.add) {
    RETURN_IF_ERROR(tx.images().AddLaunchPermission(ToPermission(id, g)));
  }
  for (const Grant& g : c.permissions.remove) {
    RETURN_IF_ERROR(tx.images().RemoveLaunchPermission(ToPermission(id, g)));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("ModifyImageAttributeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

Status CheckDescribable(const std::string& attribute) {
  if (attribute == "description" || attribute == "launchPermission" ||
      attribute == "productCodes") {
    return Status::Ok();
  }
  if (attribute == "kernel" || attribute == "ramdisk" || attribute == "blockDeviceMapping") {
    return Ec2Error("AuthFailure", "Unauthorized attempt to access restricted resource");
  }
  return Ec2Error("InvalidParameterValue",
                  "Value (" + attribute +
                      ") for parameter attribute is invalid. kiln describes description, "
                      "launchPermission and productCodes.");
}

Result<std::string> DescribeImageAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "ImageId"));
  ASSIGN_OR_RETURN(std::string attribute, actions::Required(req.params, "Attribute"));
  RETURN_IF_ERROR(CheckDescribable(attribute));
  ASSIGN_OR_RETURN(Image image, OwnImage(catalog, req.caller, id));
  XmlWriter w("DescribeImageAttributeResponse", req.request_id);
  w.Field("imageId", id);
  if (attribute == "description") {
    w.Open("description");
    w.FieldIfSet("value", image.description);
    w.Close();
  } else if (attribute == "productCodes") {
    w.Open("productCodes").Close();
  } else {
    ASSIGN_OR_RETURN(std::vector<LaunchPermission> perms,
                     catalog.images().ListLaunchPermissions(id));
    w.Open("launchPermission");
    for (const LaunchPermission& p : perms) {
      w.Open("item").FieldIfSet("group", p.group).FieldIfSet("userId", p.user_id).Close();
    }
    w.Close();
  }
  return std::move(w).Finish();
}

Result<std::string> ResetImageAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "ImageId"));
  ASSIGN_OR_RETURN(std::string attribute, actions::Required(req.params, "Attribute"));
  if (attribute != "launchPermission") {
    return Ec2Error("InvalidParameterValue",
                    "Value (" + attribute +
                        ") for parameter attribute is invalid. Only launchPermission resets.");
  }
  RETURN_IF_ERROR(OwnImage(catalog, req.caller, id).status());
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  ASSIGN_OR_RETURN(std::vector<LaunchPermission> perms, tx.images().ListLaunchPermissions(id));
  for (const LaunchPermission& p : perms) RETURN_IF_ERROR(tx.images().RemoveLaunchPermission(p));
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("ResetImageAttributeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> ImageAttributeActions(Catalog& catalog) {
  Catalog* c = &catalog;
  std::vector<std::string> modify = {"ImageId", "Attribute", "Value", "Description.Value"};
  for (std::string& name : actions::GrantParameterNames("LaunchPermission")) {
    modify.push_back(std::move(name));
  }
  return {
      {"ModifyImageAttribute", modify,
       [c](const ActionRequest& r) { return ModifyImageAttribute(*c, r); }, true},
      {"DescribeImageAttribute",
       {"ImageId", "Attribute"},
       [c](const ActionRequest& r) { return DescribeImageAttribute(*c, r); }},
      {"ResetImageAttribute",
       {"ImageId", "Attribute"},
       [c](const ActionRequest& r) { return ResetImageAttribute(*c, r); },
       true},
  };
}

}  // namespace kiln
