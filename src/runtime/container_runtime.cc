#include "runtime/container_runtime.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "env/subprocess.h"
#include "fuse/loop_device.h"
#include "image/image_import.h"
#include "runtime/admin_password.h"
#include "runtime/container.h"
#include "runtime/host_recovery.h"

namespace kiln {

struct ContainerRuntime::Disk {
  std::string device;     // as configured ("/dev/xvda", "/dev/sdf")
  std::string volume_id;  // EBS; empty for an instance-store disk
  Volume* volume = nullptr;
  uint64_t store_bytes = 0;                          // instance store
  std::function<Status(const std::string&)> source;  // instance store: fills it when made
  bool in_fuse = false;                              // EBS: its file is in the VolumeFs
  std::unique_ptr<LoopDevice> loop;                  // while the instance runs
  bool instance_store() const { return volume_id.empty(); }
  uint64_t size() const { return instance_store() ? store_bytes : volume->size(); }
  // How errors name the disk: its volume id, or "the instance-store disk at /dev/xvda".
  std::string label() const {
    return instance_store() ? "the instance-store disk at " + device : volume_id;
  }

  static Disk Ebs(const std::string& device, const std::string& volume_id, Volume* volume) {
    Disk d;
    d.device = device;
    d.volume_id = volume_id;
    d.volume = volume;
    return d;
  }
  static Disk Store(const InstanceStoreDisk& disk) {
    Disk d;
    d.device = disk.device;
    d.store_bytes = disk.size_bytes;
    d.source = disk.source;
    return d;
  }
};

struct ContainerRuntime::Instance {
  std::mutex mu;  // serializes operations on the instance
  InstanceConfig config;
  std::string dir;
  std::vector<Disk> disks;  // the root first
  std::unique_ptr<Container> container;
};

namespace {

namespace fs = std::filesystem;

constexpr int kReleaseTimeoutMs = 10000;

// Extra volumes: /dev/sd[b-z] or /dev/xvd[b-z] (EC2's InvalidBlockDeviceMapping otherwise).
bool ValidExtraDevice(const std::string& name) {
  for (const char* prefix : {"/dev/sd", "/dev/xvd"}) {
    const std::string p = prefix;
    if (name.size() == p.size() + 1 && name.starts_with(p) && name.back() >= 'b' &&
        name.back() <= 'z') {
      return true;
    }
  }
  return false;
}

// The other spelling of an extra device ("/dev/sdf" <-> "/dev/xvdf").
std::string Twin(const std::string& name) {
  if (name.starts_with("/dev/sd")) return "/dev/xvd" + name.substr(7);
  if (name.starts_with("/dev/xvd")) return "/dev/sd" + name.substr(8);
  return name;
}

// Every name a disk shows inside: the root only at its own, others at both spellings.
std::vector<std::string> NamesOf(const std::string& device, bool root) {
  if (root) return {device};
  return {device, Twin(device)};
}

bool SameDevice(const std::string& a, const std::string& b) { return a == b || Twin(a) == b; }

// "i-" and 8 or 17 lowercase hex digits (EC2's old and new ids).
bool ValidInstanceId(const std::string& id) {
  if (!id.starts_with("i-") || (id.size() != 10 && id.size() != 19)) return false;
  return std::all_of(id.begin() + 2, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Waits until nothing holds block device `path` (an exclusive open succeeds), which is when
// the instance's mount namespace has gone and the kernel unmounted what it had mounted.
Status WaitReleased(const std::string& path, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int fd = open(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      return Status::Ok();
    }
    if (errno != EBUSY) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return FailedPreconditionError(path + " is still in use");
    }
    usleep(2 * 1000);
  }
}

bool Busy(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd < 0 && errno == EBUSY;
}

// Grows the ext4 file system on block device `device` to the device's size, before it is
// mounted. Offline, because online growth (EXT4_IOC_RESIZE_FS) needs CAP_SYS_RESOURCE, which
// hosts such as this project's CI drop; resize2fs wants a freshly checked file system first.
Status GrowFileSystem(const std::string& device, const std::string& volume_id) {
  ASSIGN_OR_RETURN(CommandResult check, RunCommand({"e2fsck", "-f", "-p", device}));
  if (check.exit_code > 1) {  // 1: errors fixed; more: not fixed
    return InvalidArgumentError("the root disk " + volume_id +
                                " has a damaged ext4 file system: " + check.output);
  }
  ASSIGN_OR_RETURN(CommandResult grow, RunCommand({"resize2fs", device}));
  if (grow.exit_code != 0) {
    return IoError("growing the root file system of " + volume_id + ": " + grow.output);
  }
  return Status::Ok();
}

// Writes `path` durably (the first-boot record must not be lost once user data may have run).
Status WriteDurably(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("writing " + path, errno);
  const bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  const int err = errno;
  close(fd);
  if (!ok) return ErrnoError("writing " + path, err);
  const int dir = open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return Status::Ok();
}

// The generated admin password (admin_password.h), at the first boot only: recorded in
// `dir`/admin-password.done once set and handed over (or once the image is found not to ask),
// so a crash before then sets a new one at the next start.
Status SetAdminPasswordOnce(
    const std::string& dir, const std::string& root_device,
    const std::function<Status(const std::string&, const std::string&)>& hand_over) {
  const std::string done = dir + "/admin-password.done";
  if (!hand_over || fs::exists(done)) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<AdminPassword> set,
                   SetGeneratedAdminPassword(root_device, dir + "/launch-settings-root"));
  if (set) RETURN_IF_ERROR(hand_over(set->user, set->password));
  return WriteDurably(done, set ? "set\n" : "not asked\n");
}

}  // namespace

Result<std::unique_ptr<ContainerRuntime>> ContainerRuntime::Open(
    const ContainerRuntimeOptions& options) {
  if (options.state_dir.empty()) return InvalidArgumentError("no runtime state directory");
  ContainerRuntimeOptions opts = options;
  std::error_code ec;
  fs::create_directories(opts.state_dir + "/instances", ec);
  if (ec) return IoError("making " + opts.state_dir + ": " + ec.message());
  // Recovery compares loop devices' backing paths against it: canonical, as the kernel shows.
  opts.state_dir = fs::canonical(opts.state_dir, ec).string();
  if (ec) return IoError("resolving " + options.state_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(RecoveryReport report, RecoverHost(opts.state_dir));
  fs::create_directories(opts.state_dir + "/volumes", ec);
  if (ec) return IoError("making " + opts.state_dir + "/volumes: " + ec.message());
  ASSIGN_OR_RETURN(auto vfs, VolumeFs::Mount(opts.state_dir + "/volumes", opts.fuse));
  return std::unique_ptr<ContainerRuntime>(
      new ContainerRuntime(std::move(opts), std::move(vfs), std::move(report)));
}

ContainerRuntime::ContainerRuntime(ContainerRuntimeOptions options, std::unique_ptr<VolumeFs> vfs,
                                   RecoveryReport recovery)
    : options_(std::move(options)), vfs_(std::move(vfs)), recovery_(std::move(recovery)) {}

ContainerRuntime::~ContainerRuntime() {
  std::vector<std::shared_ptr<Instance>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, inst] : instances_) all.push_back(inst);
  }
  for (auto& inst : all) {
    std::lock_guard lock(inst->mu);
    Shutdown(*inst, /*keep_disks=*/false).IgnoreError();
  }
  vfs_.reset();
}

Result<std::shared_ptr<ContainerRuntime::Instance>> ContainerRuntime::Find(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id);
  if (it == instances_.end()) return NotFoundError("no instance " + id + " in the runtime");
  return it->second;
}

Status ContainerRuntime::ClaimVolume(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  if (!attached_volumes_.insert(volume_id).second) {
    return AlreadyExistsError("volume " + volume_id + " is already attached");
  }
  return Status::Ok();
}

void ContainerRuntime::ReleaseVolume(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  attached_volumes_.erase(volume_id);
}

Status ContainerRuntime::Register(const InstanceConfig& config) {
  if (!ValidInstanceId(config.instance_id)) {
    return InvalidArgumentError("bad instance id '" + config.instance_id + "'");
  }
  if (config.root_device != "/dev/xvda" && config.root_device != "/dev/sda1") {
    return InvalidArgumentError("root device " + config.root_device +
                                " is not allowed (use /dev/xvda)");
  }
  auto inst = std::make_shared<Instance>();
  inst->config = config;
  inst->dir = options_.state_dir + "/instances/" + config.instance_id;
  // The root: one EBS volume or one instance-store disk at root_device.
  const EbsAttachment* root = nullptr;
  const InstanceStoreDisk* store_root = nullptr;
  int roots = 0;
  for (const EbsAttachment& v : config.volumes) {
    if (v.device == config.root_device) root = &v, ++roots;
  }
  for (const InstanceStoreDisk& d : config.instance_store) {
    if (d.device == config.root_device) store_root = &d, ++roots;
  }
  if (roots > 1) return InvalidArgumentError("two root disks at " + config.root_device);
  if (roots == 0) return InvalidArgumentError("no volume at " + config.root_device);
  auto check_new = [&](const std::string& device) -> Status {
    if (device != config.root_device && !ValidExtraDevice(device)) {
      return InvalidArgumentError("device name " + device +
                                  " is not allowed (use /dev/sd[b-z] or /dev/xvd[b-z])");
    }
    for (const Disk& d : inst->disks) {
      if (SameDevice(d.device, device)) {
        return AlreadyExistsError("device " + device + " is mapped twice");
      }
    }
    return Status::Ok();
  };
  std::set<std::string> volume_ids;
  if (root != nullptr) {
    inst->disks.push_back(Disk::Ebs(root->device, root->volume_id, root->volume));
    volume_ids.insert(root->volume_id);
  } else {
    inst->disks.push_back(Disk::Store(*store_root));
  }
  for (const EbsAttachment& v : config.volumes) {
    if (&v == root) continue;
    RETURN_IF_ERROR(check_new(v.device));
    if (!volume_ids.insert(v.volume_id).second) {
      return AlreadyExistsError("volume " + v.volume_id + " is mapped twice");
    }
    inst->disks.push_back(Disk::Ebs(v.device, v.volume_id, v.volume));
  }
  for (const InstanceStoreDisk& d : config.instance_store) {
    if (d.size_bytes == 0 || d.size_bytes % 512 != 0) {
      return InvalidArgumentError("instance-store disk " + d.device +
                                  " size must be a positive "
                                  "multiple of 512 bytes");
    }
    if (&d == store_root) continue;
    RETURN_IF_ERROR(check_new(d.device));
    inst->disks.push_back(Disk::Store(d));
  }
  for (const Disk& d : inst->disks) {
    if (!d.instance_store() && (d.volume == nullptr || d.volume_id.empty())) {
      return InvalidArgumentError("device " + d.device + " has no volume");
    }
  }
  {
    std::lock_guard lock(mu_);
    if (instances_.count(config.instance_id) != 0) {
      return AlreadyExistsError("instance " + config.instance_id + " is registered");
    }
    for (const Disk& d : inst->disks) {
      if (!d.instance_store() && attached_volumes_.count(d.volume_id) != 0) {
        return AlreadyExistsError("volume " + d.volume_id + " is already attached");
      }
    }
    std::error_code ec;
    fs::create_directories(inst->dir, ec);
    if (ec) return IoError("making " + inst->dir + ": " + ec.message());
    for (const Disk& d : inst->disks) {
      if (!d.instance_store()) attached_volumes_.insert(d.volume_id);
    }
    instances_[config.instance_id] = inst;
  }
  return Status::Ok();
}

Status ContainerRuntime::Plumb(Instance& inst, Disk& disk) {
  if (disk.loop) return Status::Ok();
  std::string file;
  if (disk.instance_store()) {
    // Thin and local: a sparse file, empty at each start, then filled from its source.
    const std::string dir = inst.dir + "/store";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("making " + dir + ": " + ec.message());
    file = dir + "/" + disk.device.substr(5);
    const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError("making instance-store disk " + file, errno);
    const int r = ftruncate(fd, static_cast<off_t>(disk.store_bytes));
    const int err = errno;
    close(fd);
    Status filled = r != 0 ? ErrnoError("sizing instance-store disk " + file, err) : Status::Ok();
    if (filled.ok() && disk.source) {
      filled = disk.source(file).Annotate("filling instance-store disk " + disk.device);
    }
    if (!filled.ok()) {
      fs::remove(file, ec);
      return filled;
    }
  } else {
    if (!disk.in_fuse) {
      RETURN_IF_ERROR(vfs_->Add(disk.volume_id, disk.volume));
      disk.in_fuse = true;
    }
    file = vfs_->PathOf(disk.volume_id);
  }
  auto loop = LoopDevice::Attach(file);
  if (!loop.ok()) {
    Unplumb(inst, disk).IgnoreError();
    return loop.status().Annotate("device " + disk.device);
  }
  disk.loop = std::move(loop).value();
  return Status::Ok();
}

Status ContainerRuntime::Unplumb(Instance& inst, Disk& disk) {
  Status first;
  if (disk.loop) {
    first = disk.loop->Detach();
    disk.loop.reset();
  }
  if (disk.in_fuse) {
    // The loop device lets go of the file as its last user closes it: poll, bounded.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Status removed;
    for (;;) {
      removed = vfs_->Remove(disk.volume_id);
      if (removed.code() != Code::kFailedPrecondition) break;
      if (std::chrono::steady_clock::now() >= deadline) break;
      usleep(5 * 1000);
    }
    if (removed.ok() || removed.code() == Code::kNotFound) {
      disk.in_fuse = false;
    } else if (first.ok()) {
      first = removed;
    }
    Status flushed = disk.volume->Flush();
    if (first.ok()) first = flushed;
  }
  if (disk.instance_store()) {
    std::error_code ec;
    fs::remove(inst.dir + "/store/" + disk.device.substr(5), ec);
  }
  return first;
}

Status ContainerRuntime::Boot(Instance& inst) {
  Status s;
  for (Disk& d : inst.disks) {
    s = Plumb(inst, d);
    if (!s.ok()) break;
  }
  ContainerSpec spec;
  Disk& root = inst.disks.front();
  if (s.ok()) {
    // The root file system is checked before anything runs on it, and grown (online, at boot)
    // when the volume is larger, as cloud images do.
    auto ext4 = ProbeExt4(root.loop->path());
    if (!ext4.ok()) {
      s = InvalidArgumentError("the root disk " + root.label() +
                               " holds no usable ext4 file system: " + ext4.status().message());
    } else if (root.size() / ext4->block_size > ext4->blocks) {
      s = GrowFileSystem(root.loop->path(), root.label());
    }
  }
  if (s.ok()) s = SetAdminPasswordOnce(inst.dir, root.loop->path(), inst.config.admin_password);
  const std::string ran = inst.dir + "/user-data.ran";
  const bool first_boot = !fs::exists(ran) && inst.config.user_data.starts_with("#!");
  if (s.ok() && first_boot) {
    // Recorded before it starts: a crash after this point must not run it a second time.
    s = WriteDurably(ran, "started\n");
  }
  if (s.ok()) {
    spec.instance_id = inst.config.instance_id;
    spec.state_dir = inst.dir;
    spec.root_device = root.loop->path();
    spec.user_data = inst.config.user_data;
    spec.run_user_data = first_boot;
    spec.limits = inst.config.limits;
    for (size_t i = 0; i < inst.disks.size(); ++i) {
      const Disk& d = inst.disks[i];
      for (const std::string& name : NamesOf(d.device, i == 0)) {
        spec.devices.push_back({name, d.loop->device_major(), d.loop->device_minor()});
      }
    }
    auto c = Container::Start(spec);
    if (c.ok()) {
      inst.container = std::move(c).value();
      s = WriteInitPid(inst.dir, inst.container->pid());
      if (s.ok()) return Status::Ok();
      inst.container.reset();
    } else {
      s = c.status();
    }
    if (first_boot) fs::remove(ran);  // it did not run
  }
  for (Disk& d : inst.disks) Unplumb(inst, d).IgnoreError();
  return s.Annotate("starting instance " + inst.config.instance_id);
}

Status ContainerRuntime::Shutdown(Instance& inst, bool keep_disks) {
  Status first;
  if (inst.container) {
    first = inst.container->Stop(options_.stop_grace_ms);
    inst.container.reset();
    std::error_code ec;
    fs::remove(inst.dir + "/init.pid", ec);
  }
  // Every file system the guest mounted goes with its mount namespace; wait for the kernel.
  for (Disk& d : inst.disks) {
    if (d.loop) {
      Status s = WaitReleased(d.loop->path(), kReleaseTimeoutMs);
      if (first.ok()) first = s;
    }
  }
  if (!keep_disks) {
    for (Disk& d : inst.disks) {
      Status s = Unplumb(inst, d);
      if (first.ok()) first = s;
    }
  }
  return first;
}

Status ContainerRuntime::Start(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (inst->container && inst->container->running()) {
    return FailedPreconditionError("instance " + id + " is running");
  }
  if (inst->container) RETURN_IF_ERROR(Shutdown(*inst, /*keep_disks=*/false));
  return Boot(*inst);
}

Status ContainerRuntime::Stop(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  return Shutdown(*inst, /*keep_disks=*/false);
}

Status ContainerRuntime::Reboot(const std::string& id) { return RebootWith(id, nullptr); }

Status ContainerRuntime::RebootWith(const std::string& id,
                                    const std::function<Status()>& while_down) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (!inst->container || !inst->container->running()) {
    return FailedPreconditionError("instance " + id + " is not running");
  }
  RETURN_IF_ERROR(Shutdown(*inst, /*keep_disks=*/true));
  // The guest is down and its disks flushed: what while_down sees is the volumes at rest.
  Status down = while_down ? while_down() : Status::Ok();
  RETURN_IF_ERROR(Boot(*inst));
  return down;
}

Status ContainerRuntime::Terminate(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  RETURN_IF_ERROR(Shutdown(*inst, /*keep_disks=*/false));
  std::error_code ec;
  fs::remove_all(inst->dir, ec);
  std::lock_guard runtime_lock(mu_);
  for (const Disk& d : inst->disks) {
    if (!d.instance_store()) attached_volumes_.erase(d.volume_id);
  }
  instances_.erase(id);
  if (ec) return IoError("removing " + inst->dir + ": " + ec.message());
  return Status::Ok();
}

Status ContainerRuntime::Attach(const std::string& id, const EbsAttachment& attachment) {
  if (!ValidExtraDevice(attachment.device)) {
    return InvalidArgumentError("device name " + attachment.device +
                                " is not allowed (use /dev/sd[b-z] or /dev/xvd[b-z])");
  }
  if (attachment.volume == nullptr || attachment.volume_id.empty()) {
    return InvalidArgumentError("no volume to attach");
  }
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  for (const Disk& d : inst->disks) {
    if (SameDevice(d.device, attachment.device)) {
      return AlreadyExistsError("device " + attachment.device + " is in use on instance " + id);
    }
  }
  RETURN_IF_ERROR(ClaimVolume(attachment.volume_id));
  Disk disk = Disk::Ebs(attachment.device, attachment.volume_id, attachment.volume);
  if (inst->container && inst->container->running()) {
    Status s = Plumb(*inst, disk);
    std::vector<std::string> made;
    for (const std::string& name : NamesOf(disk.device, false)) {
      if (!s.ok()) break;
      s = inst->container->AddDeviceNode(
          {name, disk.loop->device_major(), disk.loop->device_minor()});
      if (s.ok()) made.push_back(name);
    }
    if (!s.ok()) {
      for (const std::string& name : made) inst->container->RemoveDeviceNode(name).IgnoreError();
      Unplumb(*inst, disk).IgnoreError();
      ReleaseVolume(attachment.volume_id);
      return s.Annotate("attaching " + attachment.volume_id + " to " + id);
    }
  }
  inst->disks.push_back(std::move(disk));
  return Status::Ok();
}

namespace {

// Unmounts (lazily) inside the instance every mount of block device `dev` ("major:minor").
Status UnmountInside(Container& c, const std::string& dev) {
  std::ifstream in("/proc/" + std::to_string(c.pid()) + "/mountinfo");
  std::vector<std::string> targets;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, target;
    if (fields >> id >> parent >> devno >> root >> target && devno == dev) {
      targets.push_back(target);
    }
  }
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    ASSIGN_OR_RETURN(ExecOutput out, ExecCapture(c.exec_target(), {"umount", "-l", *it}));
    if (out.exit_code != 0) {
      return FailedPreconditionError("unmounting " + *it + " in the instance: " + out.err);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ContainerRuntime::Detach(const std::string& id, const std::string& device, bool force) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  auto it = std::find_if(inst->disks.begin(), inst->disks.end(),
                         [&](const Disk& d) { return SameDevice(d.device, device); });
  if (it == inst->disks.end()) {
    return NotFoundError("no volume at " + device + " on instance " + id);
  }
  if (it->instance_store()) {
    return InvalidArgumentError(device + " is an instance-store disk, which cannot be detached");
  }
  const bool running = inst->container && inst->container->running();
  if (it == inst->disks.begin() && running) {
    return FailedPreconditionError("the root volume of running instance " + id +
                                   " cannot be detached");
  }
  if (running && it->loop) {
    const std::string path = it->loop->path();
    if (Busy(path)) {
      if (!force) {
        return FailedPreconditionError("volume " + it->volume_id + " is mounted in instance " + id +
                                       "; unmount it there first, or force the detach");
      }
      RETURN_IF_ERROR(
          UnmountInside(*inst->container, std::to_string(it->loop->device_major()) + ":" +
                                              std::to_string(it->loop->device_minor())));
      RETURN_IF_ERROR(WaitReleased(path, kReleaseTimeoutMs)
                          .Annotate("volume " + it->volume_id + " is held open in the instance"));
    }
    for (const std::string& name : NamesOf(it->device, false)) {
      RETURN_IF_ERROR(inst->container->RemoveDeviceNode(name));
    }
  }
  Status s = Unplumb(*inst, *it);
  const std::string volume_id = it->volume_id;
  inst->disks.erase(it);
  ReleaseVolume(volume_id);
  return s;
}

Status ContainerRuntime::VolumeGrown(const std::string& id, const std::string& volume_id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  auto it = std::find_if(inst->disks.begin(), inst->disks.end(),
                         [&](const Disk& d) { return d.volume_id == volume_id; });
  if (it == inst->disks.end() || it->instance_store()) {
    return NotFoundError("volume " + volume_id + " is not attached to instance " + id);
  }
  // Not plumbed (stopped): the next Plumb opens the file at its new size. Plumbed: the kernel's
  // size of the FUSE file first, then the loop device reads it; the device nodes inside the
  // instance are that loop device, so the guest sees the new size with the next open or ioctl.
  if (!it->loop) return Status::Ok();
  RETURN_IF_ERROR(vfs_->Resized(volume_id).Annotate("growing " + volume_id + " on " + id));
  return it->loop->RefreshCapacity().Annotate("growing " + volume_id + " on " + id);
}

Status ContainerRuntime::Freeze(const std::string& id, int max_ms) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (!inst->container) return FailedPreconditionError("instance " + id + " is not running");
  return inst->container->Freeze(max_ms);
}

Status ContainerRuntime::Thaw(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (!inst->container) return Status::Ok();
  return inst->container->Thaw();
}

Result<std::unique_ptr<ExecProcess>> ContainerRuntime::Exec(const std::string& id,
                                                            const ExecOptions& options) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (!inst->container || !inst->container->running()) {
    return FailedPreconditionError("instance " + id + " is not running");
  }
  return kiln::Exec(inst->container->exec_target(), options);
}

Result<std::string> ContainerRuntime::ConsoleOutput(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  return ReadConsoleLog(inst->dir + "/console.log");
}

Result<InstanceStatus> ContainerRuntime::Describe(const std::string& id) {
  ASSIGN_OR_RETURN(auto inst, Find(id));
  std::lock_guard lock(inst->mu);
  if (inst->container && !inst->container->running()) {
    // The guest powered off: the instance stopped (EC2's default shutdown behaviour).
    RETURN_IF_ERROR(Shutdown(*inst, /*keep_disks=*/false));
  }
  InstanceStatus status;
  status.running = inst->container != nullptr;
  status.init_pid = status.running ? inst->container->pid() : 0;
  status.user_data_ran = fs::exists(inst->dir + "/user-data.ran");
  for (size_t i = 0; i < inst->disks.size(); ++i) {
    for (const std::string& name : NamesOf(inst->disks[i].device, i == 0)) {
      status.devices.push_back(name);
    }
  }
  return status;
}

}  // namespace kiln
