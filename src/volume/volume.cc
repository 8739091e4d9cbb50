// Volume's public face, and the parts of its life after opening: flush, grow, stats, close.
// Create and Open are in volume_open.cc, I/O in volume_io.cc, captures in volume_capture.cc.
#include "volume/volume.h"

#include <openssl/crypto.h>

#include <shared_mutex>

#include "volume/volume_impl.h"

namespace kiln {

Volume::Impl::Impl(FileSystem& fs, ChunkStore& store, std::string dir, Parts parts)
    : fs_(fs),
      store_(store),
      dir_(std::move(dir)),
      keys_(std::move(parts.keys)),
      lineage_(parts.meta.lineage),
      unclean_open_(parts.unclean),
      meta_(std::move(parts.meta)),
      next_generation_(meta_.generation + 1),
      files_(std::move(parts.files)),
      present_(std::move(parts.present)),
      dirty_(std::move(parts.dirty)),
      size_(meta_.size),
      base_(std::move(parts.base)) {}

Volume::Impl::~Impl() {
  if (keys_) OPENSSL_cleanse(keys_.get(), sizeof(LineageKeys));
  // A capture that outlives its volume fails its later calls instead of touching freed memory.
  if (capture_) {
    capture_->finished.store(true);
    capture_->volume.store(nullptr);
  }
}

std::shared_ptr<const BlockMap> Volume::Impl::base() const {
  std::lock_guard lock(base_mu_);
  return base_;
}

Status Volume::Impl::WriteMeta(const VolumeMeta& meta) {
  RETURN_IF_ERROR(WriteFileAtomic(fs_, JoinPath(dir_, kVolumeMetaFile), meta.Serialize()));
  meta_ = meta;
  return Status::Ok();
}

Status Volume::Impl::Save(Bitmap& bitmap, File& file) {
  std::vector<Bitmap::Page> pages = bitmap.TakeChanges();
  if (pages.empty()) return Status::Ok();
  Status s = Bitmap::WriteChanges(file, pages);
  if (s.ok()) s = file.Sync();
  if (!s.ok()) bitmap.MarkChanged(pages);
  return s;
}

Status Volume::Impl::Flush() {
  RETURN_IF_ERROR(CheckOpen());
  return FlushFiles();
}

Status Volume::Impl::FlushFiles() {
  std::shared_lock epoch(epoch_);
  std::lock_guard flush(flush_mu_);
  // Take the present bits before syncing the data: every bit taken was set after its block's
  // data reached the file, so this Sync makes that data durable before the bit is written. A
  // present bit on disk without its data would shadow the base content after a crash.
  std::vector<Bitmap::Page> pages = present_.TakeChanges();
  Status s;
  for (const auto& segment : files_.data) {
    if (s.ok()) s = segment->Sync();
  }
  if (s.ok()) s = Bitmap::WriteChanges(*files_.present, pages);
  if (s.ok() && !pages.empty()) s = files_.present->Sync();
  if (!s.ok()) {
    present_.MarkChanged(pages);
    return s.Annotate("flushing volume " + dir_);
  }
  return Status::Ok();
}

Status Volume::Impl::Grow(uint64_t new_size) {
  RETURN_IF_ERROR(CheckOpen());
  if (new_size > kMaxVolumeSize) {
    return InvalidArgumentError("volume size " + std::to_string(new_size) + " is over 16 TiB");
  }
  std::lock_guard epoch(epoch_);
  const uint64_t old_size = size_.load();
  if (new_size < old_size) {
    return InvalidArgumentError("volume " + dir_ + " cannot shrink from " +
                                std::to_string(old_size) + " to " + std::to_string(new_size));
  }
  if (new_size == old_size) return Status::Ok();
  if (capture_) return FailedPreconditionError("volume " + dir_ + " has a capture under way");
  // Files first and durably, then the meta: a crash in between leaves files longer than the
  // meta says, with zeros in the excess, which Open accepts.
  const uint64_t blocks = BlockCount(new_size);
  RETURN_IF_ERROR(GrowDataFiles(new_size));
  if (keys_ && old_size % kBlockSize != 0 && present_.Test(old_size / kBlockSize)) {
    // An encrypted local last block has no sectors (and no tags) past the old end: write them
    // as zeros before they come into range, or reading them would be Corruption.
    const uint64_t block = old_size / kBlockSize;
    const uint64_t begin = old_size % kBlockSize;
    const uint64_t end = std::min(kBlockSize, new_size - block * kBlockSize);
    RETURN_IF_ERROR(DataFile(block).WriteAt(DataOffset(block, begin), Bytes(end - begin, 0)));
    RETURN_IF_ERROR(DataFile(block).Sync());
  }
  for (File* f : {files_.present.get(), files_.dirty.get()}) {
    RETURN_IF_ERROR(f->Truncate(Bitmap::FileBytes(blocks)));
    RETURN_IF_ERROR(f->Sync());
  }
  {
    std::lock_guard meta_lock(meta_mu_);
    VolumeMeta meta = meta_;
    meta.size = new_size;
    RETURN_IF_ERROR(WriteMeta(meta));
  }
  present_.Resize(blocks);
  dirty_.Resize(blocks);
  size_.store(new_size);
  return Status::Ok();
}

Status Volume::Impl::Close() {
  if (closed_.exchange(true)) return FailedPreconditionError("volume " + dir_ + " is closed");
  {
    // Waits for calls already inside; new ones see closed_.
    std::lock_guard epoch(epoch_);
    if (capture_) {
      closed_.store(false);
      return FailedPreconditionError("volume " + dir_ +
                                     " has a capture under way; commit or abort it first");
    }
  }
  // The dirty map is exact only if every present bit and every block it covers is on disk
  // too; the clean flag, written last, is what makes the next Open trust it.
  Status s = FlushFiles();
  if (s.ok()) s = Save(dirty_, *files_.dirty);
  if (s.ok()) {
    std::lock_guard meta_lock(meta_mu_);
    VolumeMeta meta = meta_;
    meta.clean = true;
    s = WriteMeta(meta);
  }
  if (!s.ok()) {
    closed_.store(false);  // still open and unclean; the caller may retry
    return s.Annotate("closing volume " + dir_);
  }
  return Status::Ok();
}

Status Volume::Impl::GrowDataFiles(uint64_t new_size) {
  const uint64_t old_count = files_.data.size();
  for (uint64_t k = 0; k < DataSegmentCount(new_size); ++k) {
    if (k >= files_.data.size()) {
      // kCreate: an interrupted Grow may have left the segment behind (all zeros).
      ASSIGN_OR_RETURN(auto file, OpenDataSegment(fs_, dir_, k, DataSegmentBytes(new_size, k),
                                                  OpenMode::kCreate, keys_.get()));
      files_.data.push_back(std::move(file));
    }
    RETURN_IF_ERROR(files_.data[k]->Truncate(DataSegmentBytes(new_size, k)));
    RETURN_IF_ERROR(files_.data[k]->Sync());
  }
  if (files_.data.size() > old_count) RETURN_IF_ERROR(fs_.SyncDir(dir_));
  return Status::Ok();
}

VolumeStats Volume::Impl::Stats() {
  std::shared_lock epoch(epoch_);
  VolumeStats stats;
  stats.size = size_.load();
  stats.blocks = present_.size();
  stats.present_blocks = present_.Count();
  stats.dirty_blocks = dirty_.Count();
  const std::shared_ptr<const BlockMap> base = this->base();
  stats.base_blocks = base->size();
  for (const BlockMap::Entry& e : base->entries()) {
    if (e.block >= present_.size() || !present_.Test(e.block)) ++stats.base_blocks_missing;
  }
  return stats;
}

// --- Volume ---

Volume::Volume(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  size_.store(impl_->size());
  unclean_open_ = impl_->unclean_open();
}

Volume::~Volume() = default;

Result<std::unique_ptr<Volume>> Volume::Create(FileSystem& fs, ChunkStore& store,
                                               const std::string& dir, uint64_t size, Base base,
                                               const LineageKeys* keys) {
  ASSIGN_OR_RETURN(auto impl, Impl::Create(fs, store, dir, size, base, keys));
  return std::unique_ptr<Volume>(new Volume(std::move(impl)));
}

Result<std::unique_ptr<Volume>> Volume::Open(FileSystem& fs, ChunkStore& store,
                                             const std::string& dir, const LineageKeys* keys) {
  ASSIGN_OR_RETURN(auto impl, Impl::Open(fs, store, dir, keys));
  return std::unique_ptr<Volume>(new Volume(std::move(impl)));
}

const LineageId& Volume::lineage() const { return impl_->lineage(); }
bool Volume::encrypted() const { return impl_->encrypted(); }
ChunkStore& Volume::chunk_store() const { return impl_->chunk_store(); }
std::shared_ptr<const BlockMap> Volume::base() const { return impl_->base(); }
Status Volume::Read(uint64_t offset, MutableByteView out) { return impl_->Read(offset, out); }
Status Volume::Write(uint64_t offset, ByteView data) { return impl_->Write(offset, data); }
Status Volume::WriteZeroes(uint64_t offset, uint64_t len) {
  return impl_->WriteZeroes(offset, len);
}
Status Volume::Flush() { return impl_->Flush(); }
Status Volume::Close() { return impl_->Close(); }
VolumeStats Volume::Stats() const { return impl_->Stats(); }

Status Volume::Grow(uint64_t new_size) {
  RETURN_IF_ERROR(impl_->Grow(new_size));
  size_.store(impl_->size());
  return Status::Ok();
}

Status Volume::Hydrate(uint64_t rate_bytes_per_sec,
                       const std::function<bool(uint64_t done, uint64_t total)>& progress) {
  return impl_->Hydrate(rate_bytes_per_sec, progress);
}

Result<std::unique_ptr<VolumeCapture>> Volume::BeginCapture(CaptureSink& sink) {
  return impl_->BeginCapture(sink);
}

}  // namespace kiln
