// The listing commands (images, instances, snapshots, volumes), console and deregister.
#include <algorithm>
#include <limits>

#include "cli/commands.h"
#include "cli/format.h"
#include "crypto/base64.h"

namespace kiln::cli {
namespace {

Cell State(const std::string& state) { return Cell(state, StateColor(state)); }

std::string Owner(const ImageInfo& i) {
  return i.owner_alias.empty() ? i.owner_id : i.owner_alias + " (" + i.owner_id + ")";
}

std::string ImageSize(const ImageInfo& i) {
  int64_t gib = 0;
  // The server's numbers: saturate rather than overflow on absurd sizes.
  for (const BlockDevice& d : i.block_devices) {
    if (d.volume_size > 0) {
      gib = d.volume_size > std::numeric_limits<int64_t>::max() - gib
                ? std::numeric_limits<int64_t>::max()
                : gib + d.volume_size;
    }
  }
  return gib > 0 ? std::to_string(gib) + " GiB" : "";
}

std::string Devices(const InstanceInfo& i) {
  std::string out;
  for (const BlockDevice& d : i.block_devices) {
    out += (out.empty() ? "" : " ") + d.device_name.substr(d.device_name.rfind('/') + 1);
  }
  return out;
}

template <typename T, typename Key>
void SortBy(std::vector<T>& items, Key key) {
  std::stable_sort(items.begin(), items.end(),
                   [&](const T& a, const T& b) { return key(a) < key(b); });
}

}  // namespace

Status ListImages(Context& ctx, const ImagesOptions& options) {
  Params params;
  if (!options.owner.empty()) params.emplace_back("Owner.1", options.owner);
  if (!options.name.empty()) {
    params.emplace_back("Filter.1.Name", "name");
    params.emplace_back("Filter.1.Value.1", options.name);
  }
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeImages", params));
  std::vector<ImageInfo> images = ParseImages(doc->document_element());
  SortBy(images, [](const ImageInfo& i) { return i.name; });
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& i : images) list.push_back(ToJson(i));
    PrintJson(ctx, {{"Images", list}});
    return Status::Ok();
  }
  Table table({"IMAGE ID", "NAME", "STATE", "OWNER", "ROOT", "SIZE", "CREATED"});
  for (const auto& i : images) {
    table.AddRow({i.image_id, i.name, State(i.state), Owner(i), i.root_device_type, ImageSize(i),
                  RelativeIsoTime(i.creation_date, ctx.now())});
  }
  Print(ctx, images.empty() ? "no images\n" : table.Render(ctx.color));
  return Status::Ok();
}

Status ListInstances(Context& ctx) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeInstances", {}));
  std::vector<InstanceInfo> instances = ParseInstances(doc->document_element());
  SortBy(instances, [](const InstanceInfo& i) { return i.launch_time; });
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& i : instances) list.push_back(ToJson(i));
    PrintJson(ctx, {{"Instances", list}});
    return Status::Ok();
  }
  Table table({"INSTANCE ID", "NAME", "STATE", "TYPE", "IMAGE", "DEVICES", "LAUNCHED"});
  for (const auto& i : instances) {
    table.AddRow({i.instance_id, i.NameTag(), State(i.state), i.instance_type, i.image_id,
                  Devices(i), RelativeIsoTime(i.launch_time, ctx.now())});
  }
  Print(ctx, instances.empty() ? "no instances\n" : table.Render(ctx.color));
  return Status::Ok();
}

Status ListSnapshots(Context& ctx) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeSnapshots", {{"Owner.1", "self"}}));
  std::vector<SnapshotInfo> snapshots = ParseSnapshots(doc->document_element());
  SortBy(snapshots, [](const SnapshotInfo& s) { return s.start_time; });
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : snapshots) list.push_back(ToJson(s));
    PrintJson(ctx, {{"Snapshots", list}});
    return Status::Ok();
  }
  Table table({"SNAPSHOT ID", "VOLUME", "SIZE", "STATE", "PROGRESS", "STARTED", "DESCRIPTION"});
  for (const auto& s : snapshots) {
    table.AddRow({s.snapshot_id, s.volume_id, std::to_string(s.volume_size) + " GiB",
                  State(s.state), s.progress, RelativeIsoTime(s.start_time, ctx.now()),
                  s.description});
  }
  Print(ctx, snapshots.empty() ? "no snapshots\n" : table.Render(ctx.color));
  return Status::Ok();
}

Status ListVolumes(Context& ctx) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeVolumes", {}));
  std::vector<VolumeInfo> volumes = ParseVolumes(doc->document_element());
  SortBy(volumes, [](const VolumeInfo& v) { return v.create_time; });
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : volumes) list.push_back(ToJson(v));
    PrintJson(ctx, {{"Volumes", list}});
    return Status::Ok();
  }
  Table table({"VOLUME ID", "SIZE", "TYPE", "STATE", "ATTACHED TO", "SNAPSHOT", "ZONE", "CREATED"});
  for (const auto& v : volumes) {
    std::string attached;
    for (const auto& a : v.attachments) {
      attached += (attached.empty() ? "" : ", ") + a.instance_id + " " + a.device;
    }
    table.AddRow({v.volume_id, std::to_string(v.size) + " GiB", v.volume_type, State(v.state),
                  attached, v.snapshot_id, v.availability_zone,
                  RelativeIsoTime(v.create_time, ctx.now())});
  }
  Print(ctx, volumes.empty() ? "no volumes\n" : table.Render(ctx.color));
  return Status::Ok();
}

Status ShowConsole(Context& ctx, const std::string& instance_id) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("GetConsoleOutput", {{"InstanceId", instance_id}}));
  const std::string encoded = doc->document_element().child_value("output");
  ASSIGN_OR_RETURN(Bytes text, Base64Decode(encoded));
  if (ctx.json()) {
    PrintJson(ctx, {{"InstanceId", instance_id}, {"Output", std::string(AsString(text))}});
    return Status::Ok();
  }
  Print(ctx, std::string(AsString(text)));
  return Status::Ok();
}

// The snapshot ids of one image (empty when it has none or is gone).
Result<std::vector<std::string>> SnapshotsOfImage(Context& ctx, const std::string& image_id) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeImages", {{"ImageId.1", image_id}}));
  std::vector<std::string> ids;
  for (const ImageInfo& i : ParseImages(doc->document_element())) {
    for (const BlockDevice& d : i.block_devices) {
      if (!d.snapshot_id.empty()) ids.push_back(d.snapshot_id);
    }
  }
  return ids;
}

// Which of `ids` the caller still owns.
Result<std::vector<std::string>> RemainingSnapshots(Context& ctx,
                                                    const std::vector<std::string>& ids) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeSnapshots", {{"Owner.1", "self"}}));
  std::vector<std::string> left;
  for (const SnapshotInfo& s : ParseSnapshots(doc->document_element())) {
    if (std::find(ids.begin(), ids.end(), s.snapshot_id) != ids.end()) {
      left.push_back(s.snapshot_id);
    }
  }
  return left;
}

Status Deregister(Context& ctx, const std::string& image, bool delete_snapshots) {
  ASSIGN_OR_RETURN(const std::string image_id, ResolveImage(ctx, image));
  ASSIGN_OR_RETURN(const std::vector<std::string> snapshots, SnapshotsOfImage(ctx, image_id));
  Params params = {{"ImageId", image_id}};
  if (delete_snapshots) params.emplace_back("DeleteAssociatedSnapshots", "true");
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DeregisterImage", params));
  // The answer lists deleted snapshots only in newer models; what is gone is the truth.
  ASSIGN_OR_RETURN(const std::vector<std::string> kept, RemainingSnapshots(ctx, snapshots));
  std::vector<std::string> deleted;
  for (const auto& s : snapshots) {
    if (std::find(kept.begin(), kept.end(), s) == kept.end()) deleted.push_back(s);
  }
  if (ctx.json()) {
    PrintJson(ctx, {{"ImageId", image_id}, {"DeletedSnapshots", deleted}, {"KeptSnapshots", kept}});
    return Status::Ok();
  }
  std::string text = "deregistered " + image_id + "\n";
  for (const auto& s : deleted) text += "deleted snapshot " + s + "\n";
  if (!kept.empty()) {
    text += "kept snapshot" + std::string(kept.size() > 1 ? "s" : "");
    for (const auto& s : kept) text += " " + s;
    text += delete_snapshots ? " (used by another image)\n"
                             : " (they cost storage until deleted; see `kiln snapshots`)\n";
  }
  Print(ctx, text);
  return Status::Ok();
}

}  // namespace kiln::cli
