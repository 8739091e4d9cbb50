// RunInstances, DescribeInstances, Start/Stop/Reboot/TerminateInstances, GetConsoleOutput.
#include <spdlog/spdlog.h>

#include <map>

#include "actions/network_launch.h"
#include "api/instance_types.h"
#include "catalog/ids.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/encryption.h"
#include "cloud/instance_ops.h"
#include "cloud/mappings.h"
#include "crypto/base64.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

constexpr size_t kMaxUserData = 16 << 10;  // EC2: 16 KB before base64
constexpr int64_t kMaxInstancesPerCall = 20;

struct Launch {
  Image image;
  const InstanceTypeInfo* type = nullptr;
  std::vector<BlockDeviceMapping> mappings;
  std::map<std::string, VolumeSealing> sealing;  // of each EBS mapping, by device name
  Bytes user_data;
  std::string key_name;
  std::string client_token;
  int64_t count = 1;
  std::vector<Tag> instance_tags, volume_tags;
  actions::LaunchNetwork network;  // subnet, VPC, zone and security groups
  std::string shutdown_behavior;   // InstanceInitiatedShutdownBehavior
  int64_t store_root_gib = 0;      // instance-store-backed: the root snapshot's size
};

bool InstanceStoreImage(const Image& image) { return image.root_device_type == "instance-store"; }

// EC2's rules for launching an instance-store-backed image: only previous-generation (Xen)
// types with instance storage take an instance-store root (the user guide lists C1, C3, D2,
// I2, M1, M2, M3, R3, X1; of kiln's types, m1.small; DescribeInstanceTypes says the same in
// supportedRootDeviceTypes); the launch cannot add EBS volumes (they may be attached after
// launch) or change the root; and the instance terminates when it shuts down, so the shutdown
// behaviour cannot be set.
Status CheckInstanceStoreLaunch(const Launch& l, const QueryParams& p,
                                const std::vector<BlockDeviceMapping>& request) {
  if (l.type->current_generation || l.type->instance_store_gb == 0) {
    return Ec2Error("UnsupportedOperation", "AMI '" + l.image.image_id +
                                                "' with an instance-store root device is not "
                                                "supported for the instance type '" +
                                                l.type->name + "'.");
  }
  for (const BlockDeviceMapping& m : request) {
    if (m.virtual_name.empty() && !m.no_device) {
      return Ec2Error("UnsupportedOperation",
                      "EBS block device mappings not supported for instance-store AMIs.");
    }
    if (SameDevice(m.device_name, l.image.root_device_name)) {
      return Ec2Error("InvalidBlockDeviceMapping", "The root device " + m.device_name +
                                                       " of an instance-store AMI cannot be "
                                                       "changed at launch.");
    }
  }
  if (p.Get("InstanceInitiatedShutdownBehavior")) {
    return Ec2Error("InvalidParameterCombination",
                    "The attribute instanceInitiatedShutdownBehavior can only be used for "
                    "elastic images.");
  }
  return Status::Ok();
}

// A snapshot a launch of `image` may restore: one the image maps (a launch permission covers
// the image's own snapshots, as on EC2, without a createVolumePermission), or one the caller
// may create volumes from.
Result<Snapshot> LaunchSnapshot(Cloud& cloud, const Caller& caller, const Image& image,
                                const std::string& snapshot_id) {
  for (const BlockDeviceMapping& m : image.block_device_mappings) {
    if (m.snapshot_id != snapshot_id) continue;
    Result<Snapshot> snap = cloud.catalog().snapshots().Get(snapshot_id);
    if (snap.ok() || snap.status().code() != Code::kNotFound) return snap;
  }
  return UsableSnapshot(cloud, caller, snapshot_id);
}

// How each EBS volume of the launch is sealed (EC2's encryption rules, encryption.h), and
// EC2's refusal of encrypted volumes on a type without EBS encryption support. A mapping the
// request does not name is the image's: its snapshot decides, and the image's key is used only
// when the caller owns the image (another account's key is not the caller's to use).
Status PlanLaunchSealing(Cloud& cloud, const Caller& caller,
                         const std::vector<BlockDeviceMapping>& request, Launch& l) {
  const bool own_image = l.image.owner_id == caller.account_id;
  for (const BlockDeviceMapping& m : l.mappings) {
    if (!m.virtual_name.empty()) continue;
    if (InstanceStoreImage(l.image) && m.device_name == l.image.root_device_name) continue;
    std::optional<Snapshot> snap;
    if (!m.snapshot_id.empty()) {
      ASSIGN_OR_RETURN(snap, LaunchSnapshot(cloud, caller, l.image, m.snapshot_id));
    }
    bool encrypted = m.encrypted;
    std::string key = m.kms_key_id;
    if (!MapsDevice(request, m.device_name)) {
      if (snap) encrypted = false;  // its snapshot decides
      if (!encrypted || !own_image) key.clear();
    }
    ASSIGN_OR_RETURN(VolumeSealing sealing, DecideSealing(cloud, caller.account_id, encrypted, key,
                                                          snap ? &*snap : nullptr));
    if (sealing.encrypted && !l.type->ebs_encryption_supported) {
      return Ec2Error("InvalidParameterCombination",
                      "Instance type " + l.type->name + " does not support EBS encryption.");
    }
    l.sealing[m.device_name] = sealing;
  }
  return Status::Ok();
}

Result<Launch> ParseLaunch(Cloud& cloud, const ActionRequest& req) {
  const QueryParams& p = req.params;
  Launch l;
  ASSIGN_OR_RETURN(std::string image_id, Required(p, "ImageId"));
  ASSIGN_OR_RETURN(l.image, LaunchableImage(cloud, req.caller, image_id));
  if (l.image.state != ImageState::kAvailable) {
    return Ec2Error("InvalidAMIID.Unavailable", "Image " + image_id + " is not available");
  }
  const std::string type = p.Get("InstanceType").value_or("m1.small");
  l.type = FindInstanceType(type);
  if (l.type == nullptr) {
    return Ec2Error("InvalidParameterValue", "Invalid value '" + type + "' for InstanceType.");
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> min, IntParam(p, "MinCount", 1, 1 << 30));
  ASSIGN_OR_RETURN(std::optional<int64_t> max, IntParam(p, "MaxCount", 1, 1 << 30));
  if (!min || !max) {
    return Ec2Error("MissingParameter", "The request must contain MinCount and MaxCount");
  }
  if (*min > *max) {
    return Ec2Error("InvalidParameterValue", "MinCount must be less than or equal to MaxCount");
  }
  if (*min > kMaxInstancesPerCall) {
    return Ec2Error("InstanceLimitExceeded", "You have requested more instances (" +
                                                 std::to_string(*min) + ") than your limit of " +
                                                 std::to_string(kMaxInstancesPerCall) + ".");
  }
  l.count = std::min(*max, kMaxInstancesPerCall);
  if (std::optional<std::string> ud = p.Get("UserData")) {
    Result<Bytes> decoded = Base64Decode(*ud);
    if (!decoded.ok())
      return Ec2Error("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
    if (decoded->size() > kMaxUserData) {
      return Ec2Error("InvalidParameterValue", "User data is limited to 16384 bytes");
    }
    l.user_data = std::move(*decoded);
  }
  l.key_name = p.Get("KeyName").value_or("");
  if (!l.key_name.empty() &&
      !cloud.catalog().key_pairs().FindByName(req.caller.account_id, l.key_name).ok()) {
    return Ec2Error("InvalidKeyPair.NotFound", "The key pair '" + l.key_name + "' does not exist");
  }
  l.client_token = p.Get("ClientToken").value_or("");
  ASSIGN_OR_RETURN(l.network, actions::ResolveLaunchNetwork(cloud.catalog(), req.caller,
                                                            cloud.options().region, p));
  ASSIGN_OR_RETURN(l.shutdown_behavior, actions::ShutdownBehaviorParam(p));
  RETURN_IF_ERROR(BoolParam(p, "EbsOptimized", false).status());  // accepted; no effect here
  ASSIGN_OR_RETURN(std::vector<BlockDeviceMapping> req_maps, ParseMappings(p));
  if (InstanceStoreImage(l.image)) {
    RETURN_IF_ERROR(CheckInstanceStoreLaunch(l, p, req_maps));
    l.shutdown_behavior = "terminate";
  }
  l.mappings = MergeMappings(l.image.block_device_mappings, req_maps);
  for (const BlockDeviceMapping& m : l.mappings) {
    if (m.initialization_rate_mib > 0 && m.snapshot_id.empty()) {
      return Ec2Error("InvalidParameterCombination",
                      "The parameter volumeInitializationRate is supported only for volumes "
                      "created from snapshots.");
    }
  }
  const std::vector<std::string_view> taggable = {"instance", "volume"};
  ASSIGN_OR_RETURN(l.instance_tags, TagsFor(p, "instance", taggable));
  ASSIGN_OR_RETURN(l.volume_tags, TagsFor(p, "volume", taggable));
  // Every EBS mapping must be creatable: its snapshot usable, its size at least the snapshot's.
  for (BlockDeviceMapping& m : l.mappings) {
    if (InstanceStoreImage(l.image) && m.device_name == l.image.root_device_name) {
      // The instance-store root: a copy of this snapshot, made at launch.
      ASSIGN_OR_RETURN(Snapshot snap, LaunchSnapshot(cloud, req.caller, l.image, m.snapshot_id));
      l.store_root_gib = snap.volume_size;
      continue;
    }
    if (!m.virtual_name.empty()) continue;
    if (m.snapshot_id.empty()) {
      if (m.volume_size == 0) {
        return Ec2Error("InvalidBlockDeviceMapping",
                        "The mapping for " + m.device_name + " needs a VolumeSize or a SnapshotId");
      }
      continue;
    }
    ASSIGN_OR_RETURN(Snapshot snap, LaunchSnapshot(cloud, req.caller, l.image, m.snapshot_id));
    if (m.volume_size == 0) m.volume_size = snap.volume_size;
    if (m.volume_size < snap.volume_size) {
      return Ec2Error("InvalidBlockDeviceMapping",
                      "Volume of size " + std::to_string(m.volume_size) +
                          "GB is smaller than snapshot '" + snap.snapshot_id +
                          "', expect size >= " + std::to_string(snap.volume_size) + "GB");
    }
  }
  RETURN_IF_ERROR(PlanLaunchSealing(cloud, req.caller, req_maps, l));
  return l;
}

// Creates one instance's volumes and records it (pending) with its attachments, volumes and
// tags in one transaction. Volumes made before a failure are removed again.
Result<Instance> CreateInstance(Cloud& cloud, const ActionRequest& req, const Launch& l,
                                const std::string& reservation_id, int index) {
  Instance inst;
  ASSIGN_OR_RETURN(inst.instance_id, NewId("i"));
  inst.owner_id = req.caller.account_id;
  inst.reservation_id = reservation_id;
  inst.image_id = l.image.image_id;
  inst.instance_type = l.type->name;
  inst.launch_time = cloud.Now();
  inst.user_data = l.user_data;
  inst.key_name = l.key_name;
  inst.availability_zone = l.network.availability_zone;
  inst.vpc_id = l.network.vpc_id;
  inst.subnet_id = l.network.subnet_id;
  inst.security_groups = l.network.security_groups;
  inst.shutdown_behavior = l.shutdown_behavior;
  inst.root_device_name = l.image.root_device_name;
  inst.root_device_type = InstanceStoreImage(l.image) ? "instance-store" : "ebs";
  inst.client_token = l.client_token;
  inst.ami_launch_index = index;
  std::vector<EbsVolume> volumes;
  std::vector<int> rates;  // each volume's VolumeInitializationRate; 0: kiln's default
  std::vector<Attachment> attachments;
  auto cleanup = [&] {
    for (const EbsVolume& v : volumes) cloud.storage().DeleteVolume(v.volume_id).IgnoreError();
  };
  for (const BlockDeviceMapping& m : l.mappings) {
    if (InstanceStoreImage(l.image) && m.device_name == inst.root_device_name) {
      inst.instance_store.push_back(InstanceStoreVolume{
          .device = m.device_name, .size_gb = l.store_root_gib, .virtual_name = m.virtual_name});
      continue;
    }
    if (!m.virtual_name.empty()) {
      const int n = std::stoi(m.virtual_name.substr(9));
      if (n < l.type->instance_store_disks) {  // beyond what the type offers: ignored (EC2)
        inst.instance_store.push_back(
            InstanceStoreVolume{.device = m.device_name,
                                .size_gb = l.type->instance_store_gb / l.type->instance_store_disks,
                                .virtual_name = m.virtual_name});
      }
      continue;
    }
    EbsVolume v{.owner_id = inst.owner_id,
                .size = m.volume_size,
                .snapshot_id = m.snapshot_id,
                .availability_zone = inst.availability_zone,
                .state = VolumeState::kInUse,
                .volume_type = m.volume_type.empty() ? "gp2" : m.volume_type,
                .iops = m.iops,
                .create_time = inst.launch_time};
    auto planned = l.sealing.find(m.device_name);
    const VolumeSealing sealing = planned == l.sealing.end() ? VolumeSealing{} : planned->second;
    v.encrypted = sealing.encrypted;
    v.kms_key_id = sealing.kms_key_arn;
    Result<std::string> id = NewId("vol");
    Result<Volume*> made =
        id.ok() ? CreateVolumeData(cloud, inst.owner_id, *id, m.snapshot_id, m.volume_size, sealing)
                : Result<Volume*>(id.status());
    if (!made.ok()) {
      cleanup();
      return made.status();
    }
    v.volume_id = *id;
    v.storage_dir = *id;
    volumes.push_back(v);
    rates.push_back(m.initialization_rate_mib);
    attachments.push_back(Attachment{.volume_id = v.volume_id,
                                     .instance_id = inst.instance_id,
                                     .device = m.device_name,
                                     .state = AttachmentState::kAttached,
                                     .attach_time = inst.launch_time,
                                     .delete_on_termination = m.delete_on_termination});
  }
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, cloud.catalog().Begin());
    RETURN_IF_ERROR(tx.instances().Insert(inst));
    for (size_t i = 0; i < volumes.size(); ++i) {
      const EbsVolume& v = volumes[i];
      RETURN_IF_ERROR(tx.volumes().Insert(v));
      if (!v.snapshot_id.empty()) {
        RETURN_IF_ERROR(RecordVolumeInitialization(
            tx, v.volume_id, rates[i] > 0 ? std::optional<int>(rates[i]) : std::nullopt));
      }
      if (!l.volume_tags.empty())
        RETURN_IF_ERROR(tx.tags().Set(v.volume_id, TagsOn(l.volume_tags, v.volume_id)));
    }
    for (const Attachment& a : attachments) RETURN_IF_ERROR(tx.volumes().Attach(a));
    if (!l.instance_tags.empty()) {
      RETURN_IF_ERROR(tx.tags().Set(inst.instance_id, TagsOn(l.instance_tags, inst.instance_id)));
    }
    return tx.Commit();
  }();
  if (!s.ok()) {
    cleanup();
    return s;
  }
  for (const EbsVolume& v : volumes) {
    if (!v.snapshot_id.empty()) cloud.initializer().Start(v.volume_id);
  }
  return inst;
}

Status WriteInstanceItem(Cloud& cloud, XmlWriter& w, const Instance& inst) {
  ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(inst.instance_id));
  ASSIGN_OR_RETURN(std::vector<Attachment> atts,
                   cloud.catalog().volumes().ListAttachments(inst.instance_id));
  WriteInstance(w, InstanceView{inst, tags, atts});
  return Status::Ok();
}

Result<std::string> ReservationXml(Cloud& cloud, std::string_view root, std::string_view request_id,
                                   const std::vector<Instance>& instances) {
  XmlWriter w(root, request_id);
  w.Field("reservationId", instances.empty() ? "" : instances[0].reservation_id);
  w.Field("ownerId", instances.empty() ? "" : instances[0].owner_id);
  w.Open("groupSet").Close();
  w.Open("instancesSet");
  for (const Instance& inst : instances) RETURN_IF_ERROR(WriteInstanceItem(cloud, w, inst));
  w.Close();
  return std::move(w).Finish();
}

Result<std::string> RunInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(Launch l, ParseLaunch(cloud, req));
  if (req.dry_run) return DryRunSucceeded();
  if (!l.client_token.empty()) {
    ASSIGN_OR_RETURN(std::vector<Instance> earlier, cloud.catalog().instances().FindByClientToken(
                                                        req.caller.account_id, l.client_token));
    if (!earlier.empty())
      return ReservationXml(cloud, "RunInstancesResponse", req.request_id, earlier);
  }
  ASSIGN_OR_RETURN(std::string reservation_id, NewId("r"));
  std::vector<Instance> made;
  for (int i = 0; i < l.count; ++i) {
    Result<Instance> inst = CreateInstance(cloud, req, l, reservation_id, i);
    if (!inst.ok()) {
      if (made.empty()) return inst.status();
      break;  // MinCount is 1..count; what was made is launched
    }
    made.push_back(*inst);
  }
  for (const Instance& inst : made) {
    const std::string id = inst.instance_id;
    cloud.Background([&cloud, id] { BootNewInstance(cloud, id).IgnoreError(); });
  }
  return ReservationXml(cloud, "RunInstancesResponse", req.request_id, made);
}

Result<std::vector<Instance>> RequestedInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, req.params.List("InstanceId"));
  if (ids.empty())
    return Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
  std::vector<Instance> out;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, id));
    out.push_back(inst);
  }
  return out;
}

std::string StateChangesXml(
    std::string_view root, std::string_view request_id,
    const std::vector<std::tuple<std::string, InstanceState, InstanceState>>& changes) {
  XmlWriter w(root, request_id);
  w.Open("instancesSet");
  for (const auto& [id, prev, cur] : changes) WriteStateChange(w, id, prev, cur);
  w.Close();
  return std::move(w).Finish();
}

Status IncorrectState(const Instance& inst, std::string_view action) {
  return Ec2Error("IncorrectInstanceState", "The instance '" + inst.instance_id +
                                                "' is not in a state from which it can be " +
                                                std::string(action) + ".");
}

Result<std::string> StopInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Instance> insts, RequestedInstances(cloud, req));
  for (const Instance& inst : insts) {
    if (InstanceStoreBacked(inst)) {
      return Ec2Error("UnsupportedOperation", "The instance '" + inst.instance_id +
                                                  "' does not have an 'ebs' root device type "
                                                  "and cannot be stopped.");
    }
  }
  if (req.dry_run) return DryRunSucceeded();
  std::vector<std::tuple<std::string, InstanceState, InstanceState>> changes;
  for (const Instance& inst : insts) {
    if (inst.state == InstanceState::kStopped || inst.state == InstanceState::kStopping) {
      changes.emplace_back(inst.instance_id, inst.state, inst.state);
      continue;
    }
    if (inst.state != InstanceState::kRunning) return IncorrectState(inst, "stopped");
    RETURN_IF_ERROR(cloud.catalog().instances().UpdateState(
        inst.instance_id, InstanceState::kRunning, InstanceState::kStopping, "User initiated"));
    changes.emplace_back(inst.instance_id, InstanceState::kRunning, InstanceState::kStopping);
    const std::string id = inst.instance_id;
    cloud.Background([&cloud, id] { FinishStop(cloud, id); });
  }
  return StateChangesXml("StopInstancesResponse", req.request_id, changes);
}

Result<std::string> StartInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Instance> insts, RequestedInstances(cloud, req));
  if (req.dry_run) return DryRunSucceeded();
  std::vector<std::tuple<std::string, InstanceState, InstanceState>> changes;
  for (const Instance& inst : insts) {
    if (inst.state == InstanceState::kRunning || inst.state == InstanceState::kPending) {
      changes.emplace_back(inst.instance_id, inst.state, inst.state);
      continue;
    }
    if (inst.state != InstanceState::kStopped) return IncorrectState(inst, "started");
    RETURN_IF_ERROR(cloud.catalog().instances().UpdateState(
        inst.instance_id, InstanceState::kStopped, InstanceState::kPending));
    changes.emplace_back(inst.instance_id, InstanceState::kStopped, InstanceState::kPending);
    const std::string id = inst.instance_id;
    cloud.Background([&cloud, id] { FinishStart(cloud, id); });
  }
  return StateChangesXml("StartInstancesResponse", req.request_id, changes);
}

Result<std::string> TerminateInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Instance> insts, RequestedInstances(cloud, req));
  if (req.dry_run) return DryRunSucceeded();
  std::vector<std::tuple<std::string, InstanceState, InstanceState>> changes;
  for (const Instance& inst : insts) {
    if (inst.state == InstanceState::kTerminated || inst.state == InstanceState::kShuttingDown) {
      changes.emplace_back(inst.instance_id, inst.state, inst.state);
      continue;
    }
    if (inst.state == InstanceState::kPending || inst.state == InstanceState::kStopping) {
      return IncorrectState(inst, "terminated");  // a transition is under way; retry
    }
    RETURN_IF_ERROR(cloud.catalog().instances().UpdateState(
        inst.instance_id, inst.state, InstanceState::kShuttingDown, "User initiated"));
    changes.emplace_back(inst.instance_id, inst.state, InstanceState::kShuttingDown);
    const std::string id = inst.instance_id;
    cloud.Background([&cloud, id] { FinishTerminate(cloud, id); });
  }
  return StateChangesXml("TerminateInstancesResponse", req.request_id, changes);
}

Result<std::string> RebootInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Instance> insts, RequestedInstances(cloud, req));
  if (req.dry_run) return DryRunSucceeded();
  for (const Instance& inst : insts) {
    if (inst.state != InstanceState::kRunning) return IncorrectState(inst, "rebooted");
  }
  for (const Instance& inst : insts) {
    const std::string id = inst.instance_id;
    cloud.Background([&cloud, id] {
      Status s = cloud.runtime().Reboot(id);
      if (!s.ok()) spdlog::error("instance {}: reboot: {}", id, s.ToString());
    });
  }
  XmlWriter w("RebootInstancesResponse", req.request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

Result<std::string> DescribeInstances(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, ParseFilters(req.params));
  RETURN_IF_ERROR(CheckInstanceFilters(filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ListQuery q;
  q.owner_id = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("InstanceId"));
  for (const std::string& id : q.ids)
    RETURN_IF_ERROR(OwnedInstance(cloud, req.caller, id).status());
  q.after_id = page.after_id;
  ASSIGN_OR_RETURN(std::vector<Instance> all, cloud.catalog().instances().List(q));
  std::vector<Instance> shown;
  for (const Instance& inst : all) {
    ASSIGN_OR_RETURN(std::vector<Tag> tags, cloud.catalog().tags().List(inst.instance_id));
    ASSIGN_OR_RETURN(std::vector<Attachment> atts,
                     cloud.catalog().volumes().ListAttachments(inst.instance_id));
    if (!MatchInstance(InstanceView{inst, tags, atts}, filters)) continue;
    if (!page.Admit(inst.instance_id)) break;
    shown.push_back(inst);
  }
  XmlWriter w("DescribeInstancesResponse", req.request_id);
  w.Open("reservationSet");
  // One reservation per RunInstances call, in the order their first instance appears.
  std::vector<std::string> order;
  for (const Instance& inst : shown) {
    if (std::find(order.begin(), order.end(), inst.reservation_id) == order.end()) {
      order.push_back(inst.reservation_id);
    }
  }
  for (const std::string& r : order) {
    w.Open("item").Field("reservationId", r).Field("ownerId", req.caller.account_id);
    w.Open("groupSet").Close().Open("instancesSet");
    for (const Instance& inst : shown) {
      if (inst.reservation_id == r) RETURN_IF_ERROR(WriteInstanceItem(cloud, w, inst));
    }
    w.Close().Close();
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

Result<std::string> GetConsoleOutput(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "InstanceId"));
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, id));
  std::string output;
  if (inst.state != InstanceState::kTerminated) {
    Result<std::string> log = cloud.runtime().ConsoleOutput(id);
    if (log.ok()) output = *log;
  }
  XmlWriter w("GetConsoleOutputResponse", req.request_id);
  w.Field("instanceId", id);
  w.Field("timestamp", cloud.Now());
  w.Field("output",
          Base64Encode(ByteView(reinterpret_cast<const uint8_t*>(output.data()), output.size())));
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> InstanceActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  const std::vector<std::string> ids = {"InstanceId.N"};
  return {
      {"RunInstances",
       {"ImageId",
        "MinCount",
        "MaxCount",
        "InstanceType",
        "UserData",
        "KeyName",
        "ClientToken",
        "BlockDeviceMapping.N.DeviceName",
        "BlockDeviceMapping.N.VirtualName",
        "BlockDeviceMapping.N.NoDevice",
        "BlockDeviceMapping.N.Ebs.SnapshotId",
        "BlockDeviceMapping.N.Ebs.VolumeSize",
        "BlockDeviceMapping.N.Ebs.DeleteOnTermination",
        "BlockDeviceMapping.N.Ebs.VolumeType",
        "BlockDeviceMapping.N.Ebs.Iops",
        "BlockDeviceMapping.N.Ebs.Encrypted",
        "BlockDeviceMapping.N.Ebs.KmsKeyId",
        "BlockDeviceMapping.N.Ebs.VolumeInitializationRate",
        "BlockDeviceMapping.N.Ebs.Throughput",
        "TagSpecification.N.ResourceType",
        "TagSpecification.N.Tag.N.Key",
        "TagSpecification.N.Tag.N.Value",
        "Placement.AvailabilityZone",
        "Placement.Tenancy",
        "SecurityGroupId.N",
        "SecurityGroup.N",
        "SubnetId",
        "EbsOptimized",
        "Monitoring.Enabled",
        "InstanceInitiatedShutdownBehavior",
        "DisableApiTermination",
        "IamInstanceProfile.Name",
        "IamInstanceProfile.Arn",
        "MetadataOptions.HttpTokens",
        "MetadataOptions.HttpEndpoint",
        "MetadataOptions.HttpPutResponseHopLimit",
        "CreditSpecification.CpuCredits"},
       bind(&RunInstances),
       true},
      {"DescribeInstances",
       {"InstanceId.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken"},
       bind(&DescribeInstances)},
      {"StopInstances", {"InstanceId.N", "Force", "Hibernate"}, bind(&StopInstances), true},
      {"StartInstances", {"InstanceId.N", "AdditionalInfo"}, bind(&StartInstances), true},
      {"TerminateInstances", ids, bind(&TerminateInstances), true},
      {"RebootInstances", ids, bind(&RebootInstances), true},
      {"GetConsoleOutput", {"InstanceId", "Latest"}, bind(&GetConsoleOutput)},
  };
}

}  // namespace kiln
