// create-image, and --wait's live view of the work: the instance stopping and restarting (unless
// --no-reboot), each snapshot's progress, the image's state.
#include <algorithm>

#include "cli/block_devices.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/progress.h"

namespace kiln::cli {
namespace {

// How long to wait, after the image is available, for the instance to run again.
constexpr int64_t kRestartGraceSeconds = 180;

struct Watch {
  ImageInfo image;
  std::vector<SnapshotInfo> snapshots;
  std::optional<InstanceInfo> instance;  // when its restart is awaited
};

Result<std::vector<MappingSpec>> MappingSpecs(const CreateImageOptions& o,
                                              const InstanceInfo& instance) {
  std::vector<MappingSpec> specs;
  if (!o.root_size.empty()) {
    MappingSpec root{MappingSpec::Kind::kEbsResize, instance.root_device_name, 0};
    ASSIGN_OR_RETURN(root.size_gib, ParseGib("--root-size", o.root_size));
    if (root.device.empty())
      return InvalidArgumentError("--root-size: the instance has no root device");
    specs.push_back(root);
  }
  for (const auto& v : o.add_volumes) {
    ASSIGN_OR_RETURN(MappingSpec spec, ParseDeviceSize("--add-volume", v));
    specs.push_back(spec);
  }
  for (const auto& d : o.add_instance_stores) {
    MappingSpec spec{MappingSpec::Kind::kInstanceStore, "", 0};
    ASSIGN_OR_RETURN(spec.device, NormalizeDevice("--add-instance-store", d));
    specs.push_back(spec);
  }
  for (const auto& d : o.remove_volumes) {
    MappingSpec spec{MappingSpec::Kind::kNoDevice, "", 0};
    ASSIGN_OR_RETURN(spec.device, NormalizeDevice("--remove-volume", d));
    specs.push_back(spec);
  }
  return specs;
}

// Usage errors come before any call.
Status CheckFlags(const CreateImageOptions& o) {
  InstanceInfo dummy;
  dummy.root_device_name = "/dev/xvda";
  return MappingSpecs(o, dummy).status();
}

Result<ImageInfo> DescribeImage(Context& ctx, const std::string& image_id) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeImages", {{"ImageId.1", image_id}}));
  std::vector<ImageInfo> images = ParseImages(doc->document_element());
  if (images.size() != 1) {
    return NotFoundError("The image id '[" + image_id + "]' does not exist")
        .WithEc2Code("InvalidAMIID.NotFound");
  }
  return images[0];
}

// The image's snapshots: those its mappings name, else (before it names them) those whose
// description CreateImage wrote for it.
Result<std::vector<SnapshotInfo>> ImageSnapshots(Context& ctx, const ImageInfo& image) {
  Params params = {{"Owner.1", "self"}};
  int n = 0;
  for (const auto& d : image.block_devices) {
    if (!d.snapshot_id.empty()) {
      params.emplace_back("SnapshotId." + std::to_string(++n), d.snapshot_id);
    }
  }
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeSnapshots", params));
  std::vector<SnapshotInfo> all = ParseSnapshots(doc->document_element());
  if (n > 0) return all;
  std::vector<SnapshotInfo> mine;
  for (auto& s : all) {
    if (s.description.find(image.image_id) != std::string::npos) mine.push_back(std::move(s));
  }
  return mine;
}

std::string DeviceOf(const ImageInfo& image, const SnapshotInfo& s) {
  for (const auto& d : image.block_devices) {
    if (d.snapshot_id == s.snapshot_id) return d.device_name;
  }
  return s.volume_id;
}

std::string Phase(const Watch& w) {
  const std::string istate = w.instance ? w.instance->state : "";
  const bool snapshots_pending =
      std::any_of(w.snapshots.begin(), w.snapshots.end(),
                  [](const SnapshotInfo& s) { return s.state == "pending"; });
  if (w.image.state == "failed" || w.image.state == "error") return "failed";
  if (istate == "stopping") return "stopping the instance";
  if (snapshots_pending || (w.snapshots.empty() && w.image.state == "pending")) {
    return "snapshotting volumes";
  }
  if (w.image.state == "pending") return "registering the image";
  if (istate == "stopped" || istate == "pending") return "restarting the instance";
  return "done";
}

std::vector<ProgressLine> Lines(const Watch& w) {
  std::vector<ProgressLine> lines;
  if (w.instance) {
    lines.push_back({"instance", "instance " + w.instance->instance_id, w.instance->state, -1});
  }
  for (const auto& s : w.snapshots) {
    const int percent = s.progress.empty() ? 0 : std::atoi(s.progress.c_str());
    const std::string value = s.state == "pending" ? std::to_string(percent) + "%"
                                                   : std::to_string(percent) + "% " + s.state;
    const std::string device = DeviceOf(w.image, s);
    lines.push_back({"snap:" + s.snapshot_id,
                     "snapshot " + s.snapshot_id + (device.empty() ? "" : " (" + device + ")"),
                     value, percent});
  }
  lines.push_back(
      {"image", "image " + w.image.image_id + " (" + w.image.name + ")", w.image.state, -1});
  lines.push_back({"phase", "create-image", Phase(w), -1});
  return lines;
}

Result<Watch> Observe(Context& ctx, const std::string& image_id, const std::string& instance_id) {
  Watch w;
  ASSIGN_OR_RETURN(w.image, DescribeImage(ctx, image_id));
  ASSIGN_OR_RETURN(w.snapshots, ImageSnapshots(ctx, w.image));
  if (!instance_id.empty()) {
    ASSIGN_OR_RETURN(InstanceInfo instance, DescribeInstance(ctx, instance_id));
    w.instance = instance;
  }
  return w;
}

// Polls until the image is available and (when it was stopped for the image) the instance
// runs again.
Result<ImageInfo> WaitForImage(Context& ctx, const std::string& image_id,
                               const std::string& restart_instance_id) {
  InterruptGuard guard;
  ProgressDisplay display(ctx.json() ? ctx.err : ctx.out, ctx.stdout_tty && !ctx.json(), ctx.color);
  std::optional<int64_t> available_at;
  while (true) {
    ASSIGN_OR_RETURN(Watch w, Observe(ctx, image_id, restart_instance_id));
    display.Update(Lines(w));
    if (w.image.state == "failed" || w.image.state == "error" || w.image.state == "invalid") {
      display.Finish();
      return FailedPreconditionError(
          "image " + image_id + " is " + w.image.state +
          (w.image.state_reason.empty() ? "" : ": " + w.image.state_reason));
    }
    if (w.image.state == "available") {
      if (!available_at) available_at = ctx.now();
      const std::string s = w.instance ? w.instance->state : "running";
      if (s == "running" || s == "terminated" || s == "shutting-down" ||
          ctx.now() - *available_at > kRestartGraceSeconds) {
        display.Finish();
        return w.image;
      }
    }
    if (!SleepUnlessInterrupted(std::chrono::milliseconds(250))) {
      display.Finish();
      return InterruptedWaiting("image " + image_id +
                                " is still being made; watch it with "
                                "`kiln images --owner self`");
    }
  }
}

}  // namespace

Status CreateImage(Context& ctx, const CreateImageOptions& o) {
  RETURN_IF_ERROR(CheckFlags(o));
  ASSIGN_OR_RETURN(const InstanceInfo instance, DescribeInstance(ctx, o.instance_id));
  ASSIGN_OR_RETURN(const std::vector<MappingSpec> specs, MappingSpecs(o, instance));
  Params params = {{"InstanceId", o.instance_id}, {"Name", o.name}};
  if (!o.description.empty()) params.emplace_back("Description", o.description);
  if (o.no_reboot) params.emplace_back("NoReboot", "true");
  for (auto& p : MappingParams(specs)) params.push_back(std::move(p));
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("CreateImage", params));
  const std::string image_id = doc->document_element().child_value("imageId");
  if (image_id.empty()) return InternalError("CreateImage answered no imageId");
  if (!ctx.json()) {
    Print(ctx, "creating image " + image_id + " (" + o.name + ") from " + o.instance_id +
                   (o.no_reboot ? " without a reboot" : ", rebooting it for a consistent image") +
                   "\n");
  }
  if (!o.wait) {
    if (ctx.json()) {
      PrintJson(ctx, {{"ImageId", image_id}});
    } else {
      Print(ctx, "watch it with `kiln images --owner self` (or pass --wait)\n");
    }
    return Status::Ok();
  }
  const bool restarts = !o.no_reboot && instance.state == "running";
  ASSIGN_OR_RETURN(const ImageInfo image,
                   WaitForImage(ctx, image_id, restarts ? o.instance_id : ""));
  if (ctx.json()) {
    PrintJson(ctx, ToJson(image));
  } else {
    Print(ctx,
          "image " + image_id + " is available\nlaunch it with `kiln launch " + image_id + "`\n");
  }
  return Status::Ok();
}

}  // namespace kiln::cli
