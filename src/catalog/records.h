// The catalog's records: plain structs, one per kind of row, with the fields EC2 reports for
// the resource (botocore's member names in the comments) plus what kiln keeps beside them.
//
// Conventions:
//   - An empty string means "unset" (EC2 omits the field); 0 means unset for sizes and iops.
//   - Ids are EC2's: `ami-`, `snap-`, `vol-`, `i-`, `r-`, `key-`, `vpc-`, `subnet-`, `sg-`,
//     `sgr-` + 17 lowercase hex
//     (catalog/ids.h makes them); account ids are 12 digits.
//   - Times users see are strings in EC2's form, "2024-01-02T03:04:05.000Z" (Ec2Timestamp),
//     which sort as they compare. Job times are microseconds since the Unix epoch.
//   - States are enums; ToString gives EC2's spelling, which is also what the database holds.
//   - Every member has an initializer, so designated initializers may name only some
//     (`BlockDeviceMapping{.device_name = "/dev/sdf", .no_device = true}`).
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace kiln {

// "2024-01-02T03:04:05.000Z" (UTC, milliseconds) for `wall_micros` since the Unix epoch: the
// form EC2 uses for CreationDate, StartTime, CreateTime, LaunchTime and AttachTime.
std::string Ec2Timestamp(uint64_t wall_micros);

// --- States ---

enum class ImageState { kPending, kAvailable, kFailed, kDeregistered };
enum class SnapshotState { kPending, kCompleted, kError };
enum class VolumeState { kCreating, kAvailable, kInUse, kDeleting, kDeleted, kError };
enum class AttachmentState { kAttaching, kAttached, kDetaching, kDetached };
enum class InstanceState { kPending, kRunning, kShuttingDown, kTerminated, kStopping, kStopped };
enum class JobState { kQueued, kRunning, kDone, kFailed };

// EC2's spelling: "pending", "in-use", "shutting-down", ...
std::string_view ToString(ImageState s);
std::string_view ToString(SnapshotState s);
std::string_view ToString(VolumeState s);
std::string_view ToString(AttachmentState s);
std::string_view ToString(InstanceState s);
std::string_view ToString(JobState s);

// The inverse of ToString; InvalidArgument for any other text (case-sensitive, as EC2).
Result<ImageState> ParseImageState(std::string_view s);
Result<SnapshotState> ParseSnapshotState(std::string_view s);
Result<VolumeState> ParseVolumeState(std::string_view s);
Result<AttachmentState> ParseAttachmentState(std::string_view s);
Result<InstanceState> ParseInstanceState(std::string_view s);
Result<JobState> ParseJobState(std::string_view s);

// EC2's InstanceState.Code: pending 0, running 16, shutting-down 32, terminated 48,
// stopping 64, stopped 80.
int InstanceStateCode(InstanceState s);

// StateReason {Code, Message} of an image or an instance. Empty code: none.
struct StateReason {
  std::string code{};     // e.g. "Client.UserInitiatedShutdown"
  std::string message{};  // e.g. "Client.UserInitiatedShutdown: User initiated shutdown"
  bool operator==(const StateReason&) const = default;
};

// --- Accounts ---

struct Account {
  std::string account_id{};  // 12 digits; the OwnerId of everything it owns
  std::string name{};        // its profile name in DIR/credentials; unique
  std::string alias{};       // ImageOwnerAlias: "" or e.g. "kiln" (the system account); unique
  std::string created{};     // Ec2Timestamp
  bool operator==(const Account&) const = default;
};

// An access key pair of an account (AccessKeyId, SecretAccessKey).
struct Credential {
  std::string access_key_id{};      // "AKIA" + 16 of [A-Z0-9]
  std::string secret_access_key{};  // 40 characters
  std::string account_id{};
  bool operator==(const Credential&) const = default;
};

// KeyPairInfo.
struct KeyPair {
  std::string key_pair_id{};  // KeyPairId: "key-" + 17 hex
  std::string owner_id{};
  std::string key_name{};     // KeyName: unique per owner
  std::string key_type{};     // KeyType: "rsa" or "ed25519"
  std::string fingerprint{};  // KeyFingerprint
  std::string public_key{};   // PublicKey (OpenSSH form)
  std::string created{};      // CreateTime
  bool operator==(const KeyPair&) const = default;
};

// --- Images ---

// BlockDeviceMapping {DeviceName, VirtualName, NoDevice, Ebs{...}} of an image. A mapping is
// one of: EBS (snapshot_id and/or volume_size), instance store (virtual_name "ephemeralN"), or
// a suppression (no_device).
struct BlockDeviceMapping {
  std::string device_name{};          // DeviceName, e.g. "/dev/xvda", "/dev/sdf"
  std::string snapshot_id{};          // Ebs.SnapshotId; "" for an empty volume
  int64_t volume_size = 0;            // Ebs.VolumeSize in GiB; 0 = the snapshot's size
  std::string volume_type{};          // Ebs.VolumeType, e.g. "gp3"
  int64_t iops = 0;                   // Ebs.Iops
  bool delete_on_termination = true;  // Ebs.DeleteOnTermination
  bool encrypted = false;             // Ebs.Encrypted
  std::string kms_key_id{};           // Ebs.KmsKeyId
  bool no_device = false;             // NoDevice
  std::string virtual_name{};         // VirtualName: "ephemeralN" for instance store
  // Ebs.VolumeInitializationRate (MiB/s) of a RunInstances mapping; 0 = none. Only for the
  // launch: never stored with an image.
  int initialization_rate_mib = 0;
  bool operator==(const BlockDeviceMapping&) const = default;
};

// Image.
struct Image {
  std::string image_id{};                   // ImageId
  std::string owner_id{};                   // OwnerId
  std::string name{};                       // Name: unique per owner among images not deregistered
  std::string description{};                // Description
  ImageState state = ImageState::kPending;  // State
  StateReason state_reason{};               // StateReason
  std::string architecture{};               // Architecture: "x86_64"
  std::string root_device_name{};           // RootDeviceName: "/dev/xvda"
  std::string root_device_type{};           // RootDeviceType: "ebs" or "instance-store"
  std::string virtualization_type{};        // VirtualizationType: "hvm"
  std::string image_type{};                 // ImageType: "machine"
  std::string platform{};                   // Platform: "" or "windows"
  // Public: true while the image's launch permissions include group "all". Derived on read;
  // ImageTable::Insert adds that permission when this is true.
  bool is_public = false;
  std::string source_instance_id{};                         // SourceInstanceId (CreateImage)
  std::string creation_date{};                              // CreationDate
  std::vector<BlockDeviceMapping> block_device_mappings{};  // in the order given at insert
  bool operator==(const Image&) const = default;
};

// LaunchPermission {Group, UserId}: exactly one of the two is set.
struct LaunchPermission {
  std::string image_id{};
  std::string group{};    // "all" or ""
  std::string user_id{};  // a 12-digit account id or ""
  bool operator==(const LaunchPermission&) const = default;
};

// --- Snapshots and volumes ---

// Snapshot.
struct Snapshot {
  std::string snapshot_id{};  // SnapshotId
  std::string owner_id{};     // OwnerId
  std::string volume_id{};    // VolumeId: the source volume, kept after it is deleted
  int64_t volume_size = 0;    // VolumeSize, GiB
  SnapshotState state = SnapshotState::kPending;  // State (wire: status)
  int progress = 0;                               // Progress, 0..100 (wire: "42%")
  std::string description{};                      // Description
  std::string start_time{};                       // StartTime
  bool encrypted = false;                         // Encrypted
  std::string kms_key_id{};                       // KmsKeyId
  std::string state_message{};                    // StateMessage (on error)
  std::string storage_key{};  // the storage engine's id for the snapshot ("" until known)
  bool operator==(const Snapshot&) const = default;
};

// CreateVolumePermission {Group, UserId}: exactly one of the two is set.
struct CreateVolumePermission {
  std::string snapshot_id{};
  std::string group{};    // "all" or ""
  std::string user_id{};  // a 12-digit account id or ""
  bool operator==(const CreateVolumePermission&) const = default;
};

// Volume (its Attachments are Attachment rows).
struct EbsVolume {
  std::string volume_id{};                     // VolumeId
  std::string owner_id{};                      // (not on the wire: the account that created it)
  int64_t size = 0;                            // Size, GiB
  std::string snapshot_id{};                   // SnapshotId it was created from, or ""
  std::string availability_zone{};             // AvailabilityZone
  VolumeState state = VolumeState::kCreating;  // State (wire: status)
  std::string volume_type{};                   // VolumeType
  int64_t iops = 0;                            // Iops
  bool encrypted = false;                      // Encrypted
  std::string kms_key_id{};                    // KmsKeyId
  std::string create_time{};                   // CreateTime
  std::string storage_dir{};  // where the storage engine keeps the volume ("" until known)
  bool operator==(const EbsVolume&) const = default;
};

// VolumeAttachment. A volume has at most one; a device name is used by at most one
// non-detached attachment of an instance.
struct Attachment {
  std::string volume_id{};                              // VolumeId
  std::string instance_id{};                            // InstanceId
  std::string device{};                                 // Device, e.g. "/dev/sdf"
  AttachmentState state = AttachmentState::kAttaching;  // State (wire: status)
  std::string attach_time{};                            // AttachTime
  bool delete_on_termination = false;                   // DeleteOnTermination
  bool operator==(const Attachment&) const = default;
};

// --- Networking (VPCs, subnets, security groups) ---

// Vpc. Every account has a default VPC (created the first time it is needed).
struct Vpc {
  std::string vpc_id{};               // VpcId: "vpc-" + 17 hex
  std::string owner_id{};             // OwnerId
  std::string cidr_block{};           // CidrBlock, e.g. "172.31.0.0/16"
  std::string cidr_association_id{};  // CidrBlockAssociationSet[0].AssociationId
  std::string dhcp_options_id{};      // DhcpOptionsId: "dopt-" + 17 hex
  bool is_default = false;            // IsDefault: at most one per owner
  std::string state{};                // State: "available"
  bool operator==(const Vpc&) const = default;
};

// Subnet of a VPC, in one availability zone.
struct Subnet {
  std::string subnet_id{};               // SubnetId: "subnet-" + 17 hex
  std::string owner_id{};                // OwnerId
  std::string vpc_id{};                  // VpcId
  std::string cidr_block{};              // CidrBlock
  std::string availability_zone{};       // AvailabilityZone, e.g. "us-east-1a"
  std::string availability_zone_id{};    // AvailabilityZoneId, e.g. "use1-az1"
  bool default_for_az = false;           // DefaultForAz: at most one per VPC and zone
  bool map_public_ip_on_launch = false;  // MapPublicIpOnLaunch
  std::string state{};                   // State: "available"
  bool operator==(const Subnet&) const = default;
};

// One rule of a security group: EC2's SecurityGroupRule. An IpPermission of the API with
// several IpRanges / UserIdGroupPairs is several rules with the same protocol and ports.
// Exactly one of cidr_ipv4 and referenced_group_id is set.
struct SecurityGroupRule {
  std::string rule_id{};      // SecurityGroupRuleId: "sgr-" + 17 hex
  bool is_egress = false;     // IsEgress
  std::string ip_protocol{};  // IpProtocol: "tcp", "udp", "icmp", "icmpv6", "-1" or a number
  int from_port = -1;         // FromPort (ICMP type); -1 when the protocol has no ports
  int to_port = -1;           // ToPort (ICMP code); -1 when the protocol has no ports
  std::string cidr_ipv4{};    // CidrIpv4, e.g. "0.0.0.0/0"
  std::string referenced_group_id{};  // ReferencedGroupInfo.GroupId
  std::string referenced_user_id{};   // ReferencedGroupInfo.UserId (the group's owner)
  std::string description{};          // Description
  bool operator==(const SecurityGroupRule&) const = default;
};

// SecurityGroup with its rules. The name is unique per VPC; every VPC has one named "default".
struct SecurityGroup {
  std::string group_id{};                  // GroupId: "sg-" + 17 hex
  std::string owner_id{};                  // OwnerId
  std::string vpc_id{};                    // VpcId
  std::string group_name{};                // GroupName
  std::string description{};               // Description (wire: groupDescription)
  std::vector<SecurityGroupRule> rules{};  // ingress and egress, in the order added
  bool operator==(const SecurityGroup&) const = default;
};

// GroupIdentifier {GroupId, GroupName}: a security group as an instance lists it.
struct GroupIdentifier {
  std::string group_id{};
  std::string group_name{};  // filled on read; ignored on insert
  bool operator==(const GroupIdentifier&) const = default;
};

// --- Instances ---

// One instance-store disk of an instance (InstanceStorageInfo.Disks, mapped at a device).
struct InstanceStoreVolume {
  std::string device{};        // e.g. "/dev/sdb"
  int64_t size_gb = 0;         // DiskInfo.SizeInGB
  std::string virtual_name{};  // "ephemeral0", ...
  bool operator==(const InstanceStoreVolume&) const = default;
};

// Instance.
struct Instance {
  std::string instance_id{};                          // InstanceId
  std::string owner_id{};                             // Reservation.OwnerId
  std::string reservation_id{};                       // Reservation.ReservationId: "r-" + 17 hex
  std::string image_id{};                             // ImageId
  std::string instance_type{};                        // InstanceType
  InstanceState state = InstanceState::kPending;      // State.Name (State.Code: InstanceStateCode)
  StateReason state_reason{};                         // StateReason
  std::string state_transition_reason{};              // StateTransitionReason
  std::string launch_time{};                          // LaunchTime
  Bytes user_data{};                                  // UserData (decoded bytes)
  std::string key_name{};                             // KeyName
  std::string availability_zone{};                    // Placement.AvailabilityZone
  std::string root_device_name{};                     // RootDeviceName
  std::string root_device_type{};                     // RootDeviceType
  std::string client_token{};                         // ClientToken: "" or unique per owner
  int ami_launch_index = 0;                           // AmiLaunchIndex
  std::vector<InstanceStoreVolume> instance_store{};  // in the order given at insert
  // Networking (migration 2). Instances recorded before it have none ("" and empty).
  std::string vpc_id{};                            // VpcId
  std::string subnet_id{};                         // SubnetId
  std::vector<GroupIdentifier> security_groups{};  // SecurityGroups (groupSet), in launch order
  // InstanceInitiatedShutdownBehavior: "stop" or "terminate" ("" reads as "stop").
  std::string shutdown_behavior{};
  bool operator==(const Instance&) const = default;
};

// --- Tags and jobs ---

// Tag {Key, Value} of any resource (TagDescription adds ResourceId).
struct Tag {
  std::string resource_id{};
  std::string key{};
  std::string value{};
  bool operator==(const Tag&) const = default;
};

// A durable unit of long work (snapshot capture, image creation, hydration), run by workers
// and resumed or failed after a restart.
struct Job {
  std::string job_id{};       // "job-" + 17 hex
  std::string kind{};         // e.g. "create-image", "snapshot", "hydrate"
  std::string resource_id{};  // the resource it works for, e.g. an ami- id
  JobState state = JobState::kQueued;
  std::string payload{};        // JSON text: the job's parameters and checkpoints
  int attempts = 0;             // how many times it has been claimed
  std::string error{};          // why it failed
  uint64_t created_micros = 0;  // set by the catalog (its clock) at enqueue
  uint64_t updated_micros = 0;  // set by the catalog at every change
  bool operator==(const Job&) const = default;
};

}  // namespace kiln
