#include "cloud/encryption.h"

#include "cloud/action_util.h"
#include "cloud/cloud.h"

namespace kiln {

Result<std::string> ResolveKmsKey(Cloud& cloud, const std::string& account,
                                  const std::string& key_ref) {
  Result<KeyMetadata> key = cloud.storage().kms().DescribeKey(account, key_ref);
  if (key.ok()) return key->arn;
  const std::optional<std::string>& code = key.status().ec2_code();
  if (code == "NotFoundException" || code == "ValidationException") {
    // EC2 checks a named key against KMS; kiln answers at once rather than failing the volume
    // later, as EC2 does for a key it can only check asynchronously.
    return Ec2Error("InvalidParameterValue",
                    "Invalid KmsKeyId: the KMS key '" + key_ref + "' does not exist");
  }
  return key.status();
}

Result<std::string> DefaultKmsKey(Cloud& cloud, const std::string& account) {
  ASSIGN_OR_RETURN(EbsEncryptionDefaults d,
                   cloud.catalog().accounts().GetEbsEncryptionDefaults(account));
  if (!d.kms_key_id.empty()) return d.kms_key_id;
  ASSIGN_OR_RETURN(KeyMetadata key, cloud.storage().kms().DefaultEbsKey(account));
  return key.arn;
}

Result<VolumeSealing> DecideSealing(Cloud& cloud, const std::string& account, bool encrypted,
                                    const std::string& kms_key_id, const Snapshot* snapshot) {
  if (!kms_key_id.empty() && !encrypted) {
    return Ec2Error("InvalidParameterDependency",
                    "The parameter KmsKeyId requires the parameter Encrypted to be set.");
  }
  const bool from_encrypted = snapshot != nullptr && snapshot->encrypted;
  ASSIGN_OR_RETURN(EbsEncryptionDefaults d,
                   cloud.catalog().accounts().GetEbsEncryptionDefaults(account));
  VolumeSealing s;
  s.encrypted = encrypted || from_encrypted || d.encrypted_by_default;
  if (!s.encrypted) return s;
  if (!kms_key_id.empty()) {
    ASSIGN_OR_RETURN(s.kms_key_arn, ResolveKmsKey(cloud, account, kms_key_id));
  } else if (from_encrypted && snapshot->owner_id == account && !snapshot->kms_key_id.empty()) {
    s.kms_key_arn = snapshot->kms_key_id;
  } else {
    ASSIGN_OR_RETURN(s.kms_key_arn, DefaultKmsKey(cloud, account));
  }
  return s;
}

Result<Volume*> CreateVolumeData(Cloud& cloud, const std::string& account,
                                 const std::string& volume_id, const std::string& snapshot_id,
                                 int64_t size_gib, const VolumeSealing& sealing) {
  if (!sealing.encrypted) return cloud.storage().CreateVolume(volume_id, snapshot_id, size_gib);
  return cloud.storage().CreateEncryptedVolume(volume_id, snapshot_id, size_gib, account,
                                               sealing.kms_key_arn);
}

}  // namespace kiln
