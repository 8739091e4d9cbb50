// Creating and opening a volume directory (format: docs/formats/volume.md).
#include <openssl/crypto.h>

#include <random>
#include <set>

#include "volume/volume_impl.h"
#include "volume/xts_file.h"

namespace kiln {
namespace {

LineageId RandomLineage() {
  // Lineage ids only need to be unique, not secret; random_device reads the kernel's entropy.
  std::random_device rd;
  LineageId id;
  for (size_t i = 0; i < id.size(); i += 4) {
    const uint32_t r = rd();
    std::memcpy(id.data() + i, &r, 4);
  }
  return id;
}

Result<std::unique_ptr<File>> CreateSparse(FileSystem& fs, const std::string& path, uint64_t size) {
  ASSIGN_OR_RETURN(auto file, fs.Open(path, OpenMode::kCreateExclusive));
  RETURN_IF_ERROR(file->Truncate(size));  // a hole: O(1) whatever the size
  RETURN_IF_ERROR(file->Sync());
  return file;
}

// Best effort, after a failed Create: the directory is ours alone.
void RemoveVolumeDir(FileSystem& fs, const std::string& dir) {
  auto names = fs.ListDir(dir);
  if (names.ok()) {
    for (const std::string& name : *names) fs.Remove(JoinPath(dir, name)).IgnoreError();
  }
  fs.RemoveDir(dir).IgnoreError();
}

// Leftovers of a crash: temp files of WriteFileAtomic, and base links that a Commit made
// before its meta write, or would have removed after it. Best effort: they are harmless.
// So are data segments past the end, which a Grow that did not finish may leave.
void RemoveStaleFiles(FileSystem& fs, const std::string& dir, const VolumeMeta& meta) {
  auto names = fs.ListDir(dir);
  if (!names.ok()) return;
  std::set<std::string> segments;
  for (uint64_t k = 0; k < DataSegmentCount(meta.size); ++k) {
    segments.insert(DataSegmentName(k));
    if (meta.encrypted) {
      segments.insert(TagsFileName(k));
      segments.insert(IntentFileName(k));
    }
  }
  for (const std::string& name : *names) {
    const bool stale_base =
        name.starts_with("base-") && name.ends_with(".map") && name != meta.base_file;
    const bool segment_file =
        name.starts_with("data.") || name.starts_with("tags") || name.starts_with("intent");
    const bool stale_segment = segment_file && name != "data" && !segments.contains(name);
    if (stale_base || stale_segment || name.find(".tmp-") != std::string::npos) {
      fs.Remove(JoinPath(dir, name)).IgnoreError();
    }
  }
}

// Opens a file of the volume directory; a missing one is damage to the volume.
Result<std::unique_ptr<File>> OpenPart(FileSystem& fs, const std::string& dir,
                                       const std::string& name) {
  auto file = fs.Open(JoinPath(dir, name), OpenMode::kReadWrite);
  if (!file.ok() && file.status().code() == Code::kNotFound) {
    return CorruptionError("volume " + dir + ": file '" + name + "' is missing");
  }
  return file;
}

Result<std::shared_ptr<const BlockMap>> LoadBase(FileSystem& fs, const std::string& dir,
                                                 const VolumeMeta& meta) {
  if (meta.base_file.empty()) {
    return std::make_shared<const BlockMap>(meta.size, meta.lineage, "", meta.encrypted);
  }
  const std::string path = JoinPath(dir, meta.base_file);
  auto map = BlockMap::Load(fs, path);
  if (!map.ok()) {
    if (map.status().code() == Code::kNotFound) {
      return CorruptionError("volume " + dir + ": base map '" + meta.base_file + "' is missing");
    }
    return map.status().Annotate("volume " + dir + ": base map");
  }
  if (map->lineage() != meta.lineage) {
    return CorruptionError("volume " + dir + ": base map belongs to another lineage");
  }
  if (map->encrypted() != meta.encrypted) {
    return CorruptionError("volume " + dir + ": base map and volume disagree on encryption");
  }
  if (map->volume_size() > meta.size) {
    return CorruptionError("volume " + dir + ": base map is larger than the volume");
  }
  return std::make_shared<const BlockMap>(std::move(map).value());
}

Status CheckCreateArgs(uint64_t size, const Volume::Base& base, const LineageKeys* keys) {
  if (size == 0 || size > kMaxVolumeSize) {
    return InvalidArgumentError("volume size " + std::to_string(size) +
                                " is not in 1 byte .. 16 TiB");
  }
  if (base.map != nullptr && base.map->encrypted() && keys == nullptr) {
    return FailedPreconditionError(
        "the base snapshot is encrypted: a volume from it is encrypted under its lineage's keys");
  }
  if (base.map != nullptr && !base.map->encrypted() && keys != nullptr) {
    return InvalidArgumentError(
        "an unencrypted snapshot cannot be the base of an encrypted volume: copy it with "
        "encryption first");
  }
  if (base.map != nullptr && keys != nullptr && keys->lineage != base.map->lineage()) {
    return InvalidArgumentError("the keys are of another lineage than the base snapshot");
  }
  if (base.map == nullptr) {
    if (!base.map_path.empty()) return InvalidArgumentError("a base map path without a map");
    return Status::Ok();
  }
  if (base.map_path.empty()) return InvalidArgumentError("a base map without its file's path");
  if (size < base.map->volume_size()) {
    return InvalidArgumentError("volume size " + std::to_string(size) +
                                " is smaller than its base (" +
                                std::to_string(base.map->volume_size()) + ")");
  }
  return Status::Ok();
}

Result<VolumeMeta> LoadMeta(FileSystem& fs, const std::string& dir) {
  auto raw = ReadFile(fs, JoinPath(dir, kVolumeMetaFile));
  if (!raw.ok()) {
    if (raw.status().code() == Code::kNotFound) {
      return NotFoundError("no volume at " + dir +
                           ": volume.meta is missing (a Create that did not finish leaves none)");
    }
    return raw.status().Annotate("volume " + dir);
  }
  auto meta = VolumeMeta::Parse(*raw);
  if (!meta.ok()) return meta.status().Annotate("volume " + dir);
  return meta;
}

Status CheckOpenKeys(const std::string& dir, const VolumeMeta& meta, const LineageKeys* keys) {
  if (meta.encrypted && keys == nullptr) {
    return FailedPreconditionError("volume " + dir +
                                   " is encrypted: it opens only with its lineage's keys");
  }
  if (!meta.encrypted && keys != nullptr) {
    return InvalidArgumentError("volume " + dir + " is not encrypted, but keys were given");
  }
  if (keys == nullptr) return Status::Ok();
  if (keys->lineage != meta.lineage) {
    return InvalidArgumentError("volume " + dir + ": the keys are of another lineage");
  }
  if (CRYPTO_memcmp(KeyCheck(*keys).data(), meta.key_check.data(), meta.key_check.size()) != 0) {
    return FailedPreconditionError("volume " + dir +
                                   ": wrong data key for its lineage (the key check fails)");
  }
  return Status::Ok();
}

Result<Bitmap> LoadBitmap(File& file, uint64_t blocks, const std::string& dir,
                          const std::string& what) {
  auto bitmap = Bitmap::Load(file, blocks);
  if (!bitmap.ok()) return bitmap.status().Annotate("volume " + dir + ": " + what);
  return bitmap;
}

// A missing file of the volume directory is damage to the volume.
Status RequirePart(FileSystem& fs, const std::string& dir, const std::string& name) {
  auto info = fs.Stat(JoinPath(dir, name));
  if (!info.ok() && info.status().code() == Code::kNotFound) {
    return CorruptionError("volume " + dir + ": file '" + name + "' is missing");
  }
  return info.status();
}

Status OpenDataSegments(FileSystem& fs, const std::string& dir, uint64_t size,
                        const LineageKeys* keys, std::vector<std::unique_ptr<File>>& out) {
  for (uint64_t k = 0; k < DataSegmentCount(size); ++k) {
    RETURN_IF_ERROR(RequirePart(fs, dir, DataSegmentName(k)));
    if (keys != nullptr) {
      RETURN_IF_ERROR(RequirePart(fs, dir, TagsFileName(k)));
      RETURN_IF_ERROR(RequirePart(fs, dir, IntentFileName(k)));
    }
    ASSIGN_OR_RETURN(auto file, OpenDataSegment(fs, dir, k, DataSegmentBytes(size, k),
                                                OpenMode::kReadWrite, keys));
    ASSIGN_OR_RETURN(uint64_t have, file->Size());
    const uint64_t want = DataSegmentBytes(size, k);
    if (have < want) {
      return CorruptionError("volume " + dir + ": data file '" + DataSegmentName(k) + "' is " +
                             std::to_string(have) + " bytes, expected " + std::to_string(want));
    }
    out.push_back(std::move(file));
  }
  return Status::Ok();
}

}  // namespace

Result<VolumeInfo> Volume::Inspect(FileSystem& fs, const std::string& dir) {
  ASSIGN_OR_RETURN(VolumeMeta meta, LoadMeta(fs, dir));
  return VolumeInfo{meta.size, meta.lineage, meta.encrypted};
}

std::string DataSegmentName(uint64_t segment) {
  return segment == 0 ? "data" : "data." + std::to_string(segment);
}
std::string TagsFileName(uint64_t segment) {
  return segment == 0 ? "tags" : "tags." + std::to_string(segment);
}
std::string IntentFileName(uint64_t segment) {
  return segment == 0 ? "intent" : "intent." + std::to_string(segment);
}

std::array<uint8_t, 16> KeyCheck(const LineageKeys& keys) {
  const Digest256 mac = HmacSha256(keys.check_key, AsBytes("kiln volume key check"));
  std::array<uint8_t, 16> out;
  std::copy_n(mac.begin(), out.size(), out.begin());
  return out;
}

Result<std::unique_ptr<File>> OpenDataSegment(FileSystem& fs, const std::string& dir,
                                              uint64_t segment, uint64_t bytes, OpenMode mode,
                                              const LineageKeys* keys) {
  ASSIGN_OR_RETURN(auto file, fs.Open(JoinPath(dir, DataSegmentName(segment)), mode));
  if (keys == nullptr) return file;
  // Tweaks and tags number the volume's sectors, so no two segments share one.
  const uint64_t first_sector = segment * (kDataSegmentBytes / kXtsSectorSize);
  ASSIGN_OR_RETURN(auto tags, SectorTags::Open(fs, JoinPath(dir, TagsFileName(segment)),
                                               JoinPath(dir, IntentFileName(segment)), mode, bytes,
                                               keys->sector_mac_key, first_sector));
  auto xts = std::make_unique<XtsFile>(std::move(file), keys->xts_key, first_sector,
                                       std::move(tags), bytes);
  RETURN_IF_ERROR(xts->Recover());
  return std::unique_ptr<File>(std::move(xts));
}

Result<std::unique_ptr<Volume::Impl>> Volume::Impl::Create(FileSystem& fs, ChunkStore& store,
                                                           const std::string& dir, uint64_t size,
                                                           const Volume::Base& base,
                                                           const LineageKeys* keys) {
  RETURN_IF_ERROR(CheckCreateArgs(size, base, keys));
  RETURN_IF_ERROR(fs.CreateDir(dir));
  Parts parts;
  parts.meta.size = size;
  parts.meta.lineage = base.map ? base.map->lineage() : keys ? keys->lineage : RandomLineage();
  parts.meta.base_file = base.map ? BaseFileName(0) : "";
  if (keys != nullptr) {
    parts.meta.encrypted = true;
    parts.meta.key_check = KeyCheck(*keys);
    parts.keys = std::make_unique<LineageKeys>(*keys);
  }
  const uint64_t blocks = BlockCount(size);
  // Everything is made durable before the meta, written last: a volume directory without a
  // meta is an unfinished Create, and one with a meta is whole.
  auto made = [&]() -> Status {
    for (uint64_t k = 0; k < DataSegmentCount(size); ++k) {
      ASSIGN_OR_RETURN(auto segment, OpenDataSegment(fs, dir, k, DataSegmentBytes(size, k),
                                                     OpenMode::kCreateExclusive, keys));
      RETURN_IF_ERROR(segment->Truncate(DataSegmentBytes(size, k)));  // a hole: O(1)
      RETURN_IF_ERROR(segment->Sync());
      parts.files.data.push_back(std::move(segment));
    }
    ASSIGN_OR_RETURN(parts.files.present, CreateSparse(fs, JoinPath(dir, kVolumePresentFile),
                                                       Bitmap::FileBytes(blocks)));
    ASSIGN_OR_RETURN(parts.files.dirty,
                     CreateSparse(fs, JoinPath(dir, kVolumeDirtyFile), Bitmap::FileBytes(blocks)));
    if (base.map) RETURN_IF_ERROR(fs.Link(base.map_path, JoinPath(dir, parts.meta.base_file)));
    RETURN_IF_ERROR(fs.SyncDir(dir));
    RETURN_IF_ERROR(WriteFileAtomic(fs, JoinPath(dir, kVolumeMetaFile), parts.meta.Serialize()));
    return fs.SyncDir(DirName(dir));
  }();
  if (!made.ok()) {
    parts.files = Files();
    RemoveVolumeDir(fs, dir);
    return made.Annotate("creating volume " + dir);
  }
  parts.present = Bitmap(blocks);
  parts.dirty = Bitmap(blocks);
  parts.base =
      base.map ? std::make_shared<const BlockMap>(*base.map)
               : std::make_shared<const BlockMap>(size, parts.meta.lineage, "", keys != nullptr);
  return std::make_unique<Impl>(fs, store, dir, std::move(parts));
}

Result<std::unique_ptr<Volume::Impl>> Volume::Impl::Open(FileSystem& fs, ChunkStore& store,
                                                         const std::string& dir,
                                                         const LineageKeys* keys) {
  Parts parts;
  ASSIGN_OR_RETURN(parts.meta, LoadMeta(fs, dir));
  RETURN_IF_ERROR(CheckOpenKeys(dir, parts.meta, keys));
  if (keys != nullptr) parts.keys = std::make_unique<LineageKeys>(*keys);
  const uint64_t blocks = BlockCount(parts.meta.size);
  RETURN_IF_ERROR(OpenDataSegments(fs, dir, parts.meta.size, keys, parts.files.data));
  ASSIGN_OR_RETURN(parts.files.present, OpenPart(fs, dir, kVolumePresentFile));
  ASSIGN_OR_RETURN(parts.present, LoadBitmap(*parts.files.present, blocks, dir, "present map"));

  ASSIGN_OR_RETURN(parts.files.dirty, OpenPart(fs, dir, kVolumeDirtyFile));
  parts.unclean = !parts.meta.clean;
  if (parts.unclean) {
    // Not closed cleanly: the dirty file may miss writes. Every block that can differ from the
    // base is present, so every present block counts as dirty: the next capture takes them
    // all, and so does one after a clean Close that comes first (the next Close rewrites the
    // whole file with them).
    parts.dirty = Bitmap(blocks);
    for (uint64_t b = parts.present.NextSet(0); b < blocks; b = parts.present.NextSet(b + 1)) {
      parts.dirty.Set(b);
    }
    parts.dirty.MarkAllChanged();
  } else {
    ASSIGN_OR_RETURN(parts.dirty, LoadBitmap(*parts.files.dirty, blocks, dir, "dirty map"));
  }
  ASSIGN_OR_RETURN(parts.base, LoadBase(fs, dir, parts.meta));
  RemoveStaleFiles(fs, dir, parts.meta);

  // Unclean from now on until Close: a crash while open must be detected at the next Open.
  parts.meta.clean = false;
  Status s = WriteFileAtomic(fs, JoinPath(dir, kVolumeMetaFile), parts.meta.Serialize());
  if (!s.ok()) return s.Annotate("opening volume " + dir);
  return std::make_unique<Impl>(fs, store, dir, std::move(parts));
}

}  // namespace kiln
