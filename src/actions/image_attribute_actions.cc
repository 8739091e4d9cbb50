#include "actions/image_attribute_actions.h"

#include <algorithm>

#include "actions/action_common.h"
#include "catalog/ids.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;

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

Result<LaunchPermission> Permission(const std::string& image_id, const std::string& group,
                                    const std::string& user_id) {
  if (!group.empty() && group != "all") {
    return Ec2Error("InvalidParameterValue", "Invalid group '" + group + "': only 'all'");
  }
  if (group.empty() && !IsAccountId(user_id)) {
    return Ec2Error("InvalidParameterValue", "Invalid user id '" + user_id +
                                                 "': a launch permission names a 12-digit "
                                                 "account id or the group 'all'");
  }
  return LaunchPermission{image_id, group, group.empty() ? user_id : ""};
}

struct Changes {
  std::optional<std::string> description;
  std::vector<LaunchPermission> add, remove;
};

Status ReadPermissionList(const QueryParams& p, const std::string& image_id,
                          std::string_view prefix, std::vector<LaunchPermission>& out) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> items, p.Structs(prefix));
  for (const QueryParams& item : items) {
    ASSIGN_OR_RETURN(LaunchPermission perm, Permission(image_id, item.Get("Group").value_or(""),
                                                       item.Get("UserId").value_or("")));
    out.push_back(std::move(perm));
  }
  return Status::Ok();
}

// The older form: Attribute=launchPermission, OperationType, UserId.N, UserGroup.N.
Status ReadLegacyPermissions(const QueryParams& p, const std::string& image_id, Changes& c) {
  ASSIGN_OR_RETURN(std::vector<std::string> users, p.List("UserId"));
  ASSIGN_OR_RETURN(std::vector<std::string> groups, p.List("UserGroup"));
  if (users.empty() && groups.empty()) return Status::Ok();
  const std::string op = p.Get("OperationType").value_or("");
  if (op != "add" && op != "remove") {
    return Ec2Error("InvalidParameterValue", "OperationType must be 'add' or 'remove'");
  }
  std::vector<LaunchPermission>& into = op == "add" ? c.add : c.remove;
  for (const std::string& u : users) {
    ASSIGN_OR_RETURN(LaunchPermission perm, Permission(image_id, "", u));
    into.push_back(std::move(perm));
  }
  for (const std::string& g : groups) {
    ASSIGN_OR_RETURN(LaunchPermission perm, Permission(image_id, g, ""));
    into.push_back(std::move(perm));
  }
  return Status::Ok();
}

Result<Changes> ReadChanges(const QueryParams& p, const std::string& image_id) {
  Changes c;
  c.description = p.Get("Description.Value");
  const std::string attribute = p.Get("Attribute").value_or("");
  if (!c.description && attribute == "description") c.description = p.Get("Value").value_or("");
  if (c.description && c.description->size() > 255) {
    return Ec2Error("InvalidParameterValue", "A description is at most 255 characters");
  }
  RETURN_IF_ERROR(ReadPermissionList(p, image_id, "LaunchPermission.Add", c.add));
  RETURN_IF_ERROR(ReadPermissionList(p, image_id, "LaunchPermission.Remove", c.remove));
  RETURN_IF_ERROR(ReadLegacyPermissions(p, image_id, c));
  if (!c.description && c.add.empty() && c.remove.empty()) {
    return Ec2Error("InvalidParameterCombination", "No attributes specified.");
  }
  return c;
}

Result<std::string> ModifyImageAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "ImageId"));
  ASSIGN_OR_RETURN(Image image, OwnImage(catalog, req.caller, id));
  ASSIGN_OR_RETURN(Changes c, ReadChanges(req.params, image.image_id));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  if (c.description) RETURN_IF_ERROR(tx.images().SetDescription(id, *c.description));
  for (const LaunchPermission& perm : c.add) RETURN_IF_ERROR(tx.images().AddLaunchPermission(perm));
  for (const LaunchPermission& perm : c.remove) {
    RETURN_IF_ERROR(tx.images().RemoveLaunchPermission(perm));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("ModifyImageAttributeResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

Result<std::string> DescribeImageAttribute(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, actions::Required(req.params, "ImageId"));
  ASSIGN_OR_RETURN(std::string attribute, actions::Required(req.params, "Attribute"));
  if (attribute != "description" && attribute != "launchPermission") {
    return Ec2Error("InvalidParameterValue", "Value (" + attribute +
                                                 ") for parameter attribute is invalid. kiln knows "
                                                 "description and launchPermission.");
  }
  ASSIGN_OR_RETURN(Image image, OwnImage(catalog, req.caller, id));
  XmlWriter w("DescribeImageAttributeResponse", req.request_id);
  w.Field("imageId", id);
  if (attribute == "description") {
    w.Open("description");
    w.FieldIfSet("value", image.description);
    w.Close();
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

}  // namespace

std::vector<Action> ImageAttributeActions(Catalog& catalog) {
  Catalog* c = &catalog;
  return {
      {"ModifyImageAttribute",
       {"ImageId", "Attribute", "Value", "Description.Value", "OperationType", "UserId.N",
        "UserGroup.N", "LaunchPermission.Add.N.Group", "LaunchPermission.Add.N.UserId",
        "LaunchPermission.Remove.N.Group", "LaunchPermission.Remove.N.UserId"},
       [c](const ActionRequest& r) { return ModifyImageAttribute(*c, r); },
       true},
      {"DescribeImageAttribute",
       {"ImageId", "Attribute"},
       [c](const ActionRequest& r) { return DescribeImageAttribute(*c, r); }},
  };
}

}  // namespace kiln
