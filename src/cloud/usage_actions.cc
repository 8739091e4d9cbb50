// DescribeStorageUsage (kiln's extension of the Query API): the stored, unique and shared bytes
// of the caller's images and snapshots (docs/storage-usage.md). Figures come from one
// StorageUsage picture per call, over every account's snapshots; only the caller's own images
// and snapshots are listed.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/storage_usage.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

// What the caller asked to see: all its images and snapshots, or (when either ImageId.N or
// SnapshotId.N is given) exactly the named ones of each kind.
struct Listing {
  std::vector<Image> images;              // listed: the caller's, not deregistered, by id
  std::vector<Snapshot> snapshots;        // listed: the caller's, by id
  std::vector<Image> owned_images;        // every image of the caller, not deregistered
  std::vector<Snapshot> owned_snapshots;  // every snapshot of the caller
};

std::string StorageKey(const Snapshot& s) {
  return s.storage_key.empty() ? s.snapshot_id : s.storage_key;
}

bool Named(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

Result<Listing> ListOwned(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> image_ids, req.params.List("ImageId"));
  ASSIGN_OR_RETURN(std::vector<std::string> snapshot_ids, req.params.List("SnapshotId"));
  // Each named id must be the caller's (Malformed, then NotFound, as DescribeImages and
  // DescribeSnapshots answer).
  for (const std::string& id : image_ids) {
    RETURN_IF_ERROR(OwnedImage(cloud, req.caller, id).status());
  }
  for (const std::string& id : snapshot_ids) {
    RETURN_IF_ERROR(OwnedSnapshot(cloud, req.caller, id).status());
  }
  const bool restricted = !image_ids.empty() || !snapshot_ids.empty();
  ListQuery q;
  q.owner_id = req.caller.account_id;
  Listing out;
  ASSIGN_OR_RETURN(out.owned_images, cloud.catalog().images().List(q));
  std::erase_if(out.owned_images,
                [](const Image& i) { return i.state == ImageState::kDeregistered; });
  for (const Image& image : out.owned_images) {
    if (!restricted || Named(image_ids, image.image_id)) out.images.push_back(image);
  }
  ASSIGN_OR_RETURN(out.owned_snapshots, cloud.catalog().snapshots().List(q));
  for (const Snapshot& s : out.owned_snapshots) {
    if (!restricted || Named(snapshot_ids, s.snapshot_id)) out.snapshots.push_back(s);
  }
  return out;
}

// The storage keys of an image's snapshots. A mapping may name a snapshot the caller does
// not own (RegisterImage with a shared one): its catalog record still gives its key.
Result<std::vector<std::string>> ImageKeys(Cloud& cloud, const Image& image,
                                           const std::map<std::string, std::string>& owned) {
  std::vector<std::string> keys;
  for (const BlockDeviceMapping& m : image.block_device_mappings) {
    if (m.snapshot_id.empty()) continue;
    if (auto it = owned.find(m.snapshot_id); it != owned.end()) {
      keys.push_back(it->second);
      continue;
    }
    Result<Snapshot> s = cloud.catalog().snapshots().Get(m.snapshot_id);
    if (!s.ok() && s.status().code() != Code::kNotFound) return s.status();
    keys.push_back(s.ok() ? StorageKey(*s) : m.snapshot_id);
  }
  return keys;
}

void WriteFigures(XmlWriter& w, const UsageFigures& f) {
  w.Field("storedBytes", f.stored_bytes)
      .Field("uniqueBytes", f.unique_bytes)
      .Field("sharedBytes", f.shared_bytes);
}

Status WriteImages(XmlWriter& w, Cloud& cloud, const Listing& listing, const StorageUsage& usage,
                   const std::map<std::string, std::string>& owned_keys) {
  w.Open("imageSet");
  for (const Image& image : listing.images) {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, ImageKeys(cloud, image, owned_keys));
    w.Open("item");
    w.Field("imageId", image.image_id).Field("name", image.name);
    w.Field("state", ToString(image.state)).Field("creationDate", image.creation_date);
    WriteFigures(w, usage.Of(keys));
    w.Open("snapshotSet");
    for (const BlockDeviceMapping& m : image.block_device_mappings) {
      if (m.snapshot_id.empty()) continue;
      w.Open("item").Field("snapshotId", m.snapshot_id).Close();
    }
    w.Close().Close();
  }
  w.Close();
  return Status::Ok();
}

void WriteSnapshots(XmlWriter& w, const Listing& listing, const StorageUsage& usage) {
  // Which of the caller's images uses each snapshot (the first by id), whether listed or not.
  std::map<std::string, std::string> image_of;
  for (const Image& image : listing.owned_images) {
    for (const BlockDeviceMapping& m : image.block_device_mappings) {
      if (!m.snapshot_id.empty()) image_of.try_emplace(m.snapshot_id, image.image_id);
    }
  }
  w.Open("snapshotSet");
  for (const Snapshot& s : listing.snapshots) {
    w.Open("item");
    w.Field("snapshotId", s.snapshot_id).Field("volumeId", s.volume_id);
    w.Field("volumeSize", s.volume_size).Field("state", ToString(s.state));
    w.Field("startTime", s.start_time);
    if (auto it = image_of.find(s.snapshot_id); it != image_of.end()) {
      w.Field("imageId", it->second);
    }
    WriteFigures(w, usage.Of({StorageKey(s)}));
    w.Close();
  }
  w.Close();
}

Result<std::string> DescribeStorageUsage(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(Listing listing, ListOwned(cloud, req));
  // The catalog is read before the storage: a snapshot completing in between is measured
  // with its map; one deleted in between is listed with zeros.
  ASSIGN_OR_RETURN(StorageUsage usage,
                   StorageUsage::Measure(cloud.storage().snapshots(), cloud.storage().backend()));
  std::map<std::string, std::string> owned_keys;
  std::vector<std::string> all_keys;
  for (const Snapshot& s : listing.owned_snapshots) {
    owned_keys[s.snapshot_id] = StorageKey(s);
    all_keys.push_back(StorageKey(s));
  }
  XmlWriter w("DescribeStorageUsageResponse", req.request_id);
  w.Field("storedBytes", usage.Of(all_keys).stored_bytes);
  RETURN_IF_ERROR(WriteImages(w, cloud, listing, usage, owned_keys));
  WriteSnapshots(w, listing, usage);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> StorageUsageActions(Cloud& cloud) {
  return {
      {"DescribeStorageUsage",
       {"ImageId.N", "SnapshotId.N"},
       [&cloud](const ActionRequest& r) { return DescribeStorageUsage(cloud, r); }},
  };
}

}  // namespace kiln
