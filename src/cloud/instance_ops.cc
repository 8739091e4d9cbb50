#include "cloud/instance_ops.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "api/instance_types.h"
#include "cloud/cloud.h"
#include "cloud/password.h"

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
      cloud.initializer().Cancel(a.volume_id);
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

// Writes every block snapshot `snapshot_id` maps into the file at `path`, which is already the
// snapshot's size and all zeros: blocks the snapshot does not map (zeros) and zero chunks are
// skipped, so the file stays sparse there. No fsync: an instance-store disk does not outlive a
// host failure anyway (host_recovery.h).
Status CopySnapshotToFile(Storage& storage, const std::string& snapshot_id,
                          const std::string& path) {
  ASSIGN_OR_RETURN(BlockMap map, storage.snapshots().Load(snapshot_id));
  ASSIGN_OR_RETURN(ChunkStore * chunks,
                   storage.snapshots().StoreFor(map.lineage(), map.encrypted()));
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("opening " + path, errno);
  Status s;
  for (const BlockMap::Entry& e : map.entries()) {
    Result<Bytes> data = chunks->Get(e.chunk);
    if (!data.ok()) {
      s = data.status().Annotate("block " + std::to_string(e.block) + " of " + snapshot_id);
      break;
    }
    if (std::all_of(data->begin(), data->end(), [](uint8_t b) { return b == 0; })) continue;
    size_t done = 0;
    while (done < data->size()) {
      const ssize_t n = pwrite(fd, data->data() + done, data->size() - done,
                               static_cast<off_t>(e.block * kBlockSize + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        s = ErrnoError("writing " + path, n < 0 ? errno : EIO);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (!s.ok()) break;
  }
  close(fd);
  return s;
}

// The root disk of an instance-store-backed instance: the image's root snapshot, copied into
// a local disk of the snapshot's size each time the disk is made.
Result<InstanceStoreDisk> InstanceStoreRoot(Cloud& cloud, const Instance& instance) {
  ASSIGN_OR_RETURN(Image image, cloud.catalog().images().Get(instance.image_id));
  auto m = std::find_if(
      image.block_device_mappings.begin(), image.block_device_mappings.end(),
      [&](const BlockDeviceMapping& b) { return b.device_name == image.root_device_name; });
  if (m == image.block_device_mappings.end() || m->snapshot_id.empty()) {
    return FailedPreconditionError("image " + image.image_id + " has no root snapshot");
  }
  const std::string snapshot_id = m->snapshot_id;
  ASSIGN_OR_RETURN(uint64_t size, cloud.storage().SnapshotSize(snapshot_id));
  Storage& storage = cloud.storage();
  return InstanceStoreDisk{instance.root_device_name, size,
                           [&storage, snapshot_id](const std::string& path) {
                             return CopySnapshotToFile(storage, snapshot_id, path);
                           }};
}

}  // namespace

bool InstanceStoreBacked(const Instance& instance) {
  return instance.root_device_type == "instance-store";
}

Result<InstanceConfig> RuntimeConfig(Cloud& cloud, const Instance& instance) {
  InstanceConfig config;
  config.instance_id = instance.instance_id;
  config.root_device = instance.root_device_name;
  config.user_data = Str(instance.user_data);
  config.admin_password = PasswordDataSink(cloud, instance);
  ASSIGN_OR_RETURN(std::vector<Attachment> attachments,
                   cloud.catalog().volumes().ListAttachments(instance.instance_id));
  for (const Attachment& a : attachments) {
    if (a.state == AttachmentState::kDetached) continue;
    ASSIGN_OR_RETURN(Volume * volume, cloud.storage().GetVolume(a.volume_id));
    config.volumes.push_back(EbsAttachment{a.device, a.volume_id, volume});
  }
  for (const InstanceStoreVolume& d : instance.instance_store) {
    if (InstanceStoreBacked(instance) && d.device == instance.root_device_name) continue;
    config.instance_store.push_back(
        InstanceStoreDisk{d.device, static_cast<uint64_t>(d.size_gb) * kGb});
  }
  if (InstanceStoreBacked(instance)) {
    ASSIGN_OR_RETURN(InstanceStoreDisk root, InstanceStoreRoot(cloud, instance));
    config.instance_store.insert(config.instance_store.begin(), std::move(root));
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
    // An instance-store-backed instance cannot be stopped: EC2 terminates it when it shuts down.
    const bool terminate = inst.shutdown_behavior == "terminate" || InstanceStoreBacked(inst);
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

void TerminateLostInstance(Cloud& cloud, const Instance& inst) {
  const std::string& id = inst.instance_id;
  spdlog::warn(
      "instance {} was {} with an instance-store root, which the restart lost: "
      "terminating it",
      id, ToString(inst.state));
  // Registered only to be forgotten: Terminate removes its host state (console log and so on).
  Result<InstanceConfig> config = RuntimeConfig(cloud, inst);
  if (config.ok() && cloud.runtime().Register(*config).ok()) {
    Status t = cloud.runtime().Terminate(id);
    if (!t.ok()) spdlog::error("instance {}: terminate: {}", id, t.ToString());
  } else if (!config.ok()) {
    spdlog::error("instance {}: {}", id, config.status().ToString());
  }
  ReleaseVolumes(cloud, id).IgnoreError();  // logged inside
  MarkTerminated(cloud, id, inst.state,
                 {"Server.InternalError",
                  "Server.InternalError: The instance's instance-store root device was lost "
                  "when kilnd restarted"},
                 "Server.InternalError");
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
    if (InstanceStoreBacked(inst)) {
      TerminateLostInstance(cloud, inst);
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
