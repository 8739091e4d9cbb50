#include "cloud/instance_ops.h"

#include <spdlog/spdlog.h>

#include "api/instance_types.h"
#include "cloud/cloud.h"

namespace kiln {
namespace {

constexpr uint64_t kGb = 1000ull * 1000 * 1000;  // instance-store sizes are decimal GB

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Deletes the instance's volumes whose attachment says DeleteOnTermination, and lets the others
// go (available again).
Status ReleaseVolumes(Cloud& cloud, const std::string& instance_id) {
  Catalog& catalog = cloud.catalog();
  ASSIGN_OR_RETURN(std::vector<Attachment> attachments,
                   catalog.volumes().ListAttachments(instance_id));
  Status first;
  for (const Attachment& a : attachments) {
    Status s = catalog.volumes().Detach(a.volume_id, a.state);
    if (s.ok()) {
      s = catalog.volumes().UpdateState(
          a.volume_id, VolumeState::kInUse,
          a.delete_on_termination ? VolumeState::kDeleting : VolumeState::kAvailable);
    }
    if (s.ok() && a.delete_on_termination) {
      s = cloud.storage().DeleteVolume(a.volume_id);
      if (s.ok()) {
        s = catalog.volumes().UpdateState(a.volume_id, VolumeState::kDeleting,
                                          VolumeState::kDeleted);
      }
    }
    if (!s.ok()) {
      spdlog::error("releasing volume {} of {}: {}", a.volume_id, instance_id, s.ToString());
      if (first.ok()) first = s;
    }
  }
  return first;
}

void MarkTerminated(Cloud& cloud, const std::string& id, InstanceState from,
                    const StateReason& reason, const std::string& why) {
  Status s =
      cloud.catalog().instances().UpdateState(id, from, InstanceState::kTerminated, why, reason);
  if (!s.ok()) spdlog::error("instance {}: to terminated: {}", id, s.ToString());
}

}  // namespace

Result<InstanceConfig> RuntimeConfig(Cloud& cloud, const Instance& instance) {
  InstanceConfig config;
  config.instance_id = instance.instance_id;
  config.root_device = instance.root_device_name;
  config.user_data = Str(instance.user_data);
  ASSIGN_OR_RETURN(std::vector<Attachment> attachments,
                   cloud.catalog().volumes().ListAttachments(instance.instance_id));
  for (const Attachment& a : attachments) {
    if (a.state == AttachmentState::kDetached) continue;
    ASSIGN_OR_RETURN(Volume * volume, cloud.storage().GetVolume(a.volume_id));
    config.volumes.push_back(EbsAttachment{a.device, a.volume_id, volume});
  }
  for (const InstanceStoreVolume& d : instance.instance_store) {
    config.instance_store.push_back(
        InstanceStoreDisk{d.device, static_cast<uint64_t>(d.size_gb) * kGb});
  }
  if (const InstanceTypeInfo* type = FindInstanceType(instance.instance_type)) {
    config.limits.vcpus = type->vcpus;
    config.limits.memory_bytes = static_cast<uint64_t>(type->memory_mib) << 20;
  }
  return config;
}

Status BootNewInstance(Cloud& cloud, const std::string& instance_id) {
  Catalog& catalog = cloud.catalog();
  ASSIGN_OR_RETURN(Instance instance, catalog.instances().Get(instance_id));
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(InstanceConfig config, RuntimeConfig(cloud, instance));
    RETURN_IF_ERROR(cloud.runtime().Register(config));
    return cloud.runtime().Start(instance_id);
  }();
  if (s.ok()) {
    return catalog.instances().UpdateState(instance_id, InstanceState::kPending,
                                           InstanceState::kRunning);
  }
  spdlog::error("instance {} could not boot: {}", instance_id, s.ToString());
  cloud.runtime().Terminate(instance_id).IgnoreError();
  ReleaseVolumes(cloud, instance_id).IgnoreError();
  MarkTerminated(cloud, instance_id, InstanceState::kPending,
                 {"Server.InternalError", "Server.InternalError: " + s.message()},
                 "Server.InternalError");
  return s;
}

void FinishStop(Cloud& cloud, const std::string& id) {
  Status s = cloud.runtime().Stop(id);
  if (!s.ok()) spdlog::error("instance {}: stop: {}", id, s.ToString());
  // Stopped even after a failed stop: the runtime has let the guest go either way.
  Status c = cloud.catalog().instances().UpdateState(
      id, InstanceState::kStopping, InstanceState::kStopped, "User initiated",
      {"Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"});
  if (!c.ok()) spdlog::error("instance {}: to stopped: {}", id, c.ToString());
}

void FinishStart(Cloud& cloud, const std::string& id) {
  Status s = cloud.runtime().Start(id);
  if (s.ok()) {
    s = cloud.catalog().instances().UpdateState(id, InstanceState::kPending,
                                                InstanceState::kRunning);
    if (!s.ok()) spdlog::error("instance {}: to running: {}", id, s.ToString());
    return;
  }
  spdlog::error("instance {}: start: {}", id, s.ToString());
  Status c = cloud.catalog().instances().UpdateState(
      id, InstanceState::kPending, InstanceState::kStopped, "Server.InternalError",
      {"Server.InternalError", "Server.InternalError: " + s.message()});
  if (!c.ok()) spdlog::error("instance {}: back to stopped: {}", id, c.ToString());
}

void FinishTerminate(Cloud& cloud, const std::string& id) {
  Status s = cloud.runtime().Terminate(id);
  if (!s.ok() && s.code() != Code::kNotFound) {
    spdlog::error("instance {}: terminate: {}", id, s.ToString());
  }
  ReleaseVolumes(cloud, id).IgnoreError();  // logged inside
  MarkTerminated(
      cloud, id, InstanceState::kShuttingDown,
      {"Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"},
      "User initiated");
}

void SettleEndedGuests(Cloud& cloud) {
  Result<std::vector<Instance>> all = cloud.catalog().instances().List(ListQuery{});
  if (!all.ok()) {
    spdlog::error("guest watcher: {}", all.status().ToString());
    return;
  }
  const StateReason reason{"Client.InstanceInitiatedShutdown",
                           "Client.InstanceInitiatedShutdown: Instance initiated shutdown"};
  for (const Instance& inst : *all) {
    if (inst.state != InstanceState::kRunning) continue;
    const std::string& id = inst.instance_id;
    // Serialized with the runtime's operations on the instance: a reboot in progress is seen
    // only once it has booted again (or failed to).
    Result<InstanceStatus> st = cloud.runtime().Describe(id);
    if (!st.ok() || st->running) continue;
    const bool terminate = inst.shutdown_behavior == "terminate";
    Status s = cloud.catalog().instances().UpdateState(
        id, InstanceState::kRunning,
        terminate ? InstanceState::kShuttingDown : InstanceState::kStopped, reason.code, reason);
    if (!s.ok()) {
      if (s.code() != Code::kFailedPrecondition) {
        spdlog::error("instance {}: settling its shutdown: {}", id, s.ToString());
      }
      continue;  // an API transition got there first
    }
    spdlog::info("instance {}: the guest shut down; {}", id,
                 terminate ? "terminating (InstanceInitiatedShutdownBehavior)" : "stopped");
    if (terminate) {
      Status t = cloud.runtime().Terminate(id);
      if (!t.ok()) spdlog::error("instance {}: terminate: {}", id, t.ToString());
      ReleaseVolumes(cloud, id).IgnoreError();  // logged inside
      MarkTerminated(cloud, id, InstanceState::kShuttingDown, reason, reason.code);
    }
  }
}

Status FailImage(Cloud& cloud, const std::string& image_id, const std::string& code,
                 const std::string& message) {
  Catalog& catalog = cloud.catalog();
  ASSIGN_OR_RETURN(Image image, catalog.images().Get(image_id));
  for (const BlockDeviceMapping& m : image.block_device_mappings) {
    if (m.snapshot_id.empty()) continue;
    Status s = catalog.snapshots().UpdateState(m.snapshot_id, SnapshotState::kPending,
                                               SnapshotState::kError, message);
    if (!s.ok() && s.code() != Code::kFailedPrecondition) return s;
  }
  Status s = catalog.images().UpdateState(image_id, ImageState::kPending, ImageState::kFailed,
                                          {code, message});
  if (s.code() == Code::kFailedPrecondition) return Status::Ok();  // settled meanwhile
  return s;
}

Status RecoverInstances(Cloud& cloud) {
  Catalog& catalog = cloud.catalog();
  ASSIGN_OR_RETURN(std::vector<Instance> all, catalog.instances().List({}));
  for (const Instance& inst : all) {
    const std::string& id = inst.instance_id;
    if (inst.state == InstanceState::kTerminated) continue;
    if (inst.state == InstanceState::kShuttingDown) {
      FinishTerminate(cloud, id);
      continue;
    }
    ASSIGN_OR_RETURN(InstanceConfig config, RuntimeConfig(cloud, inst));
    RETURN_IF_ERROR(cloud.runtime().Register(config));
    if (inst.state == InstanceState::kStopping) {
      RETURN_IF_ERROR(catalog.instances().UpdateState(id, InstanceState::kStopping,
                                                      InstanceState::kStopped, "User initiated"));
    } else if (inst.state == InstanceState::kRunning || inst.state == InstanceState::kPending) {
      // Its processes died with the last kilnd; the instance comes back as after a host reboot.
      spdlog::info("instance {} was {}: booting it again", id, ToString(inst.state));
      if (inst.state == InstanceState::kRunning) {
        RETURN_IF_ERROR(
            catalog.instances().UpdateState(id, InstanceState::kRunning, InstanceState::kPending));
      }
      cloud.Background([&cloud, id] { FinishStart(cloud, id); });
    }
  }
  return Status::Ok();
}

}  // namespace kiln
