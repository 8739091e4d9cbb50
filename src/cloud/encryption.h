// EBS encryption as the EC2 actions decide it (CreateVolume, RunInstances and CreateImage
// mappings): which KMS key seals a new volume, by EC2's encryption rules and the account's
// defaults (EnableEbsEncryptionByDefault, ModifyEbsDefaultKmsKeyId), and making its storage.
//
// Thread-safety: free functions over a Cloud; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "catalog/records.h"

namespace kiln {

class Cloud;
class Volume;

// How a new volume is sealed.
struct VolumeSealing {
  bool encrypted = false;
  std::string kms_key_arn;  // the KMS key wrapping its data key (its ARN); "" if unencrypted
};

// The ARN of the KMS key `key_ref` names in `account`: a key id, key ARN, alias name or alias
// ARN, as EC2's KmsKeyId. alias/aws/ebs creates the account's default EBS key on first use, as
// KMS does. InvalidParameterValue if the account has no such key or `key_ref` is malformed.
Result<std::string> ResolveKmsKey(Cloud& cloud, const std::string& account,
                                  const std::string& key_ref);

// The key new encrypted volumes of `account` get when none is named: the one
// ModifyEbsDefaultKmsKeyId set, else the account's aws/ebs key. Its ARN.
Result<std::string> DefaultKmsKey(Cloud& cloud, const std::string& account);

// How a new volume of `account` is sealed. It is encrypted when `encrypted` asks it, when
// `snapshot` (may be null) is encrypted (an Encrypted=false is then ignored, as EC2 does), or
// when the account encrypts new volumes by default. Its key: `kms_key_id` when given (which
// needs `encrypted`: InvalidParameterDependency otherwise), else the snapshot's when the account
// owns the encrypted snapshot, else the account's default key.
Result<VolumeSealing> DecideSealing(Cloud& cloud, const std::string& account, bool encrypted,
                                    const std::string& kms_key_id, const Snapshot* snapshot);

// Makes the storage of new volume `volume_id` (empty, or holding `snapshot_id`), sealed as
// `sealing` says (an encrypted snapshot under another key is re-sealed to the volume's key).
Result<Volume*> CreateVolumeData(Cloud& cloud, const std::string& account,
                                 const std::string& volume_id, const std::string& snapshot_id,
                                 int64_t size_gib, const VolumeSealing& sealing);

}  // namespace kiln
