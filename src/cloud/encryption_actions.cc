// GetEbsEncryptionByDefault, EnableEbsEncryptionByDefault, DisableEbsEncryptionByDefault,
// GetEbsDefaultKmsKeyId, ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId: the caller's
// account's EBS encryption defaults, kept in the catalog (AccountTable), which CreateVolume and
// RunInstances follow (encryption.h).
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/encryption.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

// What GetEbsDefaultKmsKeyId says while no key was chosen, as EC2.
constexpr char kAwsEbsAlias[] = "alias/aws/ebs";

Result<std::string> ByDefaultXml(std::string_view action, const ActionRequest& req, bool on) {
  XmlWriter w(std::string(action) + "Response", req.request_id);
  w.Field("ebsEncryptionByDefault", on);
  return std::move(w).Finish();
}

Result<std::string> GetByDefault(Cloud& cloud, const ActionRequest& req) {
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(EbsEncryptionDefaults d,
                   cloud.catalog().accounts().GetEbsEncryptionDefaults(req.caller.account_id));
  XmlWriter w("GetEbsEncryptionByDefaultResponse", req.request_id);
  w.Field("ebsEncryptionByDefault", d.encrypted_by_default).Field("sseType", "sse-ebs");
  return std::move(w).Finish();
}

Result<std::string> SetByDefault(Cloud& cloud, const ActionRequest& req, bool on) {
  if (req.dry_run) return DryRunSucceeded();
  RETURN_IF_ERROR(cloud.catalog().accounts().SetEbsEncryptionByDefault(req.caller.account_id, on));
  return ByDefaultXml(on ? "EnableEbsEncryptionByDefault" : "DisableEbsEncryptionByDefault", req,
                      on);
}

Result<std::string> KeyIdXml(std::string_view action, const ActionRequest& req,
                             const std::string& key) {
  XmlWriter w(std::string(action) + "Response", req.request_id);
  w.Field("kmsKeyId", key.empty() ? std::string(kAwsEbsAlias) : key);
  return std::move(w).Finish();
}

Result<std::string> GetDefaultKey(Cloud& cloud, const ActionRequest& req) {
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(EbsEncryptionDefaults d,
                   cloud.catalog().accounts().GetEbsEncryptionDefaults(req.caller.account_id));
  return KeyIdXml("GetEbsDefaultKmsKeyId", req, d.kms_key_id);
}

Result<std::string> ModifyDefaultKey(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string ref, Required(req.params, "KmsKeyId"));
  // Any form of key name is kept as the key's ARN, so it still names that key if an alias
  // moves later (EC2 answers the ARN too).
  ASSIGN_OR_RETURN(std::string arn, ResolveKmsKey(cloud, req.caller.account_id, ref));
  if (req.dry_run) return DryRunSucceeded();
  RETURN_IF_ERROR(cloud.catalog().accounts().SetEbsDefaultKmsKeyId(req.caller.account_id, arn));
  return KeyIdXml("ModifyEbsDefaultKmsKeyId", req, arn);
}

Result<std::string> ResetDefaultKey(Cloud& cloud, const ActionRequest& req) {
  if (req.dry_run) return DryRunSucceeded();
  RETURN_IF_ERROR(cloud.catalog().accounts().SetEbsDefaultKmsKeyId(req.caller.account_id, ""));
  // EC2 answers the ARN of the account's aws/ebs key.
  ASSIGN_OR_RETURN(std::string arn, DefaultKmsKey(cloud, req.caller.account_id));
  return KeyIdXml("ResetEbsDefaultKmsKeyId", req, arn);
}

}  // namespace

std::vector<Action> EncryptionActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  return {
      {"GetEbsEncryptionByDefault", {}, bind(&GetByDefault), true},
      {"EnableEbsEncryptionByDefault",
       {},
       [&cloud](const ActionRequest& r) { return SetByDefault(cloud, r, true); },
       true},
      {"DisableEbsEncryptionByDefault",
       {},
       [&cloud](const ActionRequest& r) { return SetByDefault(cloud, r, false); },
       true},
      {"GetEbsDefaultKmsKeyId", {}, bind(&GetDefaultKey), true},
      {"ModifyEbsDefaultKmsKeyId", {"KmsKeyId"}, bind(&ModifyDefaultKey), true},
      {"ResetEbsDefaultKmsKeyId", {}, bind(&ResetDefaultKey), true},
  };
}

}  // namespace kiln
