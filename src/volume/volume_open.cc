// Creating and opening a volume directory (format: docs/formats/volume.md).
#include <random>
#include <set>

#include "volume/volume_impl.h"

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
  for (uint64_t k = 0; k < DataSegmentCount(meta.size); ++k) segments.insert(DataSegmentName(k));
  for (const std::string& name : *names) {
    const bool stale_base =
        name.starts_with("base-") && name.ends_with(".map") && name != meta.base_file;
    const bool stale_segment = name.starts_with("data.") && !segments.contains(name);
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
    return std::make_shared<const BlockMap>(meta.size, meta.lineage, "");
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
  if (map->volume_size() > meta.size) {
    return CorruptionError("volume " + dir + ": base map is larger than the volume");
  }
  return std::make_shared<const BlockMap>(std::move(map).value());
}

Status CheckCreateArgs(uint64_t size, const Volume::Base& base) {
  if (size == 0 || size > kMaxVolumeSize) {
    return InvalidArgumentError("volume size " + std::to_string(size) +
                                " is not in 1 byte .. 16 TiB");
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

Result<Bitmap> LoadBitmap(File& file, uint64_t blocks, const std::string& dir,
                          const std::string& what) {
  auto bitmap = Bitmap::Load(file, blocks);
  if (!bitmap.ok()) return bitmap.status().Annotate("volume " + dir + ": " + what);
  return bitmap;
}

Status OpenDataSegments(FileSystem& fs, const std::string& dir, uint64_t size,
                        std::vector<std::unique_ptr<File>>& out) {
  for (uint64_t k = 0; k < DataSegmentCount(size); ++k) {
    ASSIGN_OR_RETURN(auto file, OpenPart(fs, dir, DataSegmentName(k)));
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

std::string DataSegmentName(uint64_t segment) {
  return segment == 0 ? "data" : "data." + std::to_string(segment);
}

Result<std::unique_ptr<Volume::Impl>> Volume::Impl::Create(FileSystem& fs, ChunkStore& store,
                                                           const std::string& dir, uint64_t size,
                                                           const Volume::Base& base) {
  RETURN_IF_ERROR(CheckCreateArgs(size, base));
  RETURN_IF_ERROR(fs.CreateDir(dir));
  Parts parts;
  parts.meta.size = size;
  parts.meta.lineage = base.map ? base.map->lineage() : RandomLineage();
  parts.meta.base_file = base.map ? BaseFileName(0) : "";
  const uint64_t blocks = BlockCount(size);
  // Everything is made durable before the meta, written last: a volume directory without a
  // meta is an unfinished Create, and one with a meta is whole.
  auto made = [&]() -> Status {
    for (uint64_t k = 0; k < DataSegmentCount(size); ++k) {
      ASSIGN_OR_RETURN(auto segment, CreateSparse(fs, JoinPath(dir, DataSegmentName(k)),
                                                  DataSegmentBytes(size, k)));
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
  parts.base = base.map ? std::make_shared<const BlockMap>(*base.map)
                        : std::make_shared<const BlockMap>(size, parts.meta.lineage, "");
  return std::make_unique<Impl>(fs, store, dir, std::move(parts));
}

Result<std::unique_ptr<Volume::Impl>> Volume::Impl::Open(FileSystem& fs, ChunkStore& store,
                                                         const std::string& dir) {
  Parts parts;
  ASSIGN_OR_RETURN(parts.meta, LoadMeta(fs, dir));
  const uint64_t blocks = BlockCount(parts.meta.size);
  RETURN_IF_ERROR(OpenDataSegments(fs, dir, parts.meta.size, parts.files.data));
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
