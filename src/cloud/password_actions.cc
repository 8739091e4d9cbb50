// GetPasswordData: the generated admin password, encrypted for the instance's key pair
// (cloud/password.h). Empty passwordData until the instance's first boot has set it, and for
// instances whose image does not ask for one, as EC2 answers.
#include "cloud/action_util.h"
#include "cloud/cloud.h"
#include "cloud/password.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

Result<std::string> GetPasswordData(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "InstanceId"));
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, id));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(std::optional<PasswordData> data,
                   cloud.catalog().password_data().Get(inst.instance_id));
  XmlWriter w("GetPasswordDataResponse", req.request_id);
  w.Field("instanceId", inst.instance_id);
  w.Field("timestamp", data ? data->timestamp : cloud.Now());
  w.Field("passwordData", data ? data->password_data : "");
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> PasswordActions(Cloud& cloud) {
  return {{"GetPasswordData",
           {"InstanceId"},
           [&cloud](const ActionRequest& r) { return GetPasswordData(cloud, r); },
           /*checks_dry_run=*/true}};
}

}  // namespace kiln
