// Point-in-time captures of a volume (the volume side of a snapshot).
//
// BeginCapture fixes the point in time under the exclusive epoch: no write is in flight, the
// dirty blocks become the capture's pending set and the dirty map starts afresh. From then on a
// pending block is claimed exactly once, under its block lock, by whoever comes first: a
// capture worker (CaptureBlock) or a writer about to change it, which hands the old content to
// the sink before its write returns. Ending the capture takes the exclusive epoch again, so no
// claim or delivery is under way when Commit or Abort returns.
#include <algorithm>
#include <shared_mutex>

#include "volume/volume_impl.h"

namespace kiln {

Result<std::unique_ptr<VolumeCapture>> Volume::Impl::BeginCapture(CaptureSink& sink) {
  RETURN_IF_ERROR(CheckOpen());
  std::lock_guard epoch(epoch_);
  if (capture_) {
    return FailedPreconditionError("volume " + dir_ + " already has a capture under way");
  }
  auto state = std::make_shared<VolumeCapture::State>();
  state->volume.store(this);
  state->sink = &sink;
  state->pending = Bitmap(dirty_.size());
  state->delivered = Bitmap(dirty_.size());
  for (uint64_t b = dirty_.NextSet(0); b < dirty_.size(); b = dirty_.NextSet(b + 1)) {
    state->pending.Set(b);
  }
  state->blocks = state->pending.SetBits();
  dirty_.ClearAll();
  state->volume_size = size_.load();
  state->base = base();
  if (state->base->volume_size() != state->volume_size) {
    // The volume outgrew its base (restored larger, or grown): the capture's base describes
    // the volume as it is, so the new map can be built on it directly.
    auto resized = std::make_shared<BlockMap>(*state->base);
    resized->set_volume_size(state->volume_size);
    state->base = std::move(resized);
  }
  capture_ = state;
  return std::unique_ptr<VolumeCapture>(new VolumeCapture(std::move(state)));
}

Status Volume::Impl::CaptureBlock(VolumeCapture::State& capture, uint64_t block) {
  std::shared_lock epoch(epoch_);
  if (capture.finished.load()) return FailedPreconditionError("the capture has ended");
  if (!std::binary_search(capture.blocks.begin(), capture.blocks.end(), block)) {
    return InvalidArgumentError("block " + std::to_string(block) + " is not in the capture");
  }
  Bytes data;
  bool claimed = false;
  {
    std::lock_guard lock(BlockLock(block));
    if (capture.pending.Test(block)) {
      Status s = ReadFullBlockLocked(block, data);
      if (!s.ok()) return s.Annotate("capturing block " + std::to_string(block) + " of " + dir_);
      capture.pending.Clear(block);
      capture.claimed.fetch_add(1);
      claimed = true;
    }
  }
  if (claimed) {
    Deliver(capture, block, data);
  } else {
    // A writer (or an earlier call) claimed it: return only once the sink has it, so that a
    // caller that captured every block may build its map at once.
    std::unique_lock lock(capture.delivery_mu);
    capture.delivery_cv.wait(lock, [&] { return capture.delivered.Test(block); });
  }
  return Status::Ok();
}

void Volume::Impl::Deliver(VolumeCapture::State& capture, uint64_t block, const Bytes& data) {
  capture.sink->OnBlockCaptured(block, data);
  {
    std::lock_guard lock(capture.delivery_mu);
    capture.delivered.Set(block);
  }
  capture.delivery_cv.notify_all();
}

Status Volume::Impl::Commit(VolumeCapture::State& capture, const BlockMap& new_base,
                            const std::string& map_path) {
  std::lock_guard end(capture.end_mu);
  if (capture.finished.load()) return FailedPreconditionError("the capture has ended");
  const uint64_t claimed = capture.claimed.load();
  if (claimed != capture.blocks.size()) {
    return FailedPreconditionError(std::to_string(capture.blocks.size() - claimed) + " of " +
                                   std::to_string(capture.blocks.size()) +
                                   " blocks are not captured yet");
  }
  if (new_base.lineage() != lineage_) {
    return InvalidArgumentError("the new base of volume " + dir_ + " is of another lineage");
  }
  if (new_base.volume_size() > capture.volume_size) {
    return InvalidArgumentError("the new base of volume " + dir_ + " is larger than the volume");
  }
  std::string old_file;
  {
    std::lock_guard meta_lock(meta_mu_);
    VolumeMeta meta = meta_;
    meta.generation = next_generation_++;
    meta.base_file = BaseFileName(meta.generation);
    // Our own link, so deleting the snapshot later does not take the volume's base away.
    RETURN_IF_ERROR(fs_.Link(map_path, JoinPath(dir_, meta.base_file)));
    old_file = meta_.base_file;
    // On failure the new link stays: the meta on disk may already name it. Open removes
    // whichever link the meta does not name.
    Status s = WriteMeta(meta);
    if (!s.ok()) return s.Annotate("committing a capture of volume " + dir_);
  }
  auto base = std::make_shared<const BlockMap>(new_base);
  {
    std::lock_guard epoch(epoch_);
    {
      std::lock_guard lock(base_mu_);
      base_ = std::move(base);
    }
    capture_.reset();
    capture.finished.store(true);
  }
  if (!old_file.empty()) fs_.Remove(JoinPath(dir_, old_file)).IgnoreError();
  return Status::Ok();
}

void Volume::Impl::Abort(VolumeCapture::State& capture) {
  std::lock_guard end(capture.end_mu);
  std::lock_guard epoch(epoch_);
  if (capture.finished.load()) return;
  // Claimed blocks too: their content never made it into a base.
  for (uint64_t b : capture.blocks) dirty_.Set(b);
  capture.finished.store(true);
  if (capture_.get() == &capture) capture_.reset();
}

// --- VolumeCapture ---

VolumeCapture::VolumeCapture(std::shared_ptr<State> state) : state_(std::move(state)) {}

VolumeCapture::~VolumeCapture() { Abort(); }

const std::vector<uint64_t>& VolumeCapture::blocks() const { return state_->blocks; }
uint64_t VolumeCapture::volume_size() const { return state_->volume_size; }
const BlockMap& VolumeCapture::base() const { return *state_->base; }
uint64_t VolumeCapture::captured() const { return state_->claimed.load(); }

Status VolumeCapture::CaptureBlock(uint64_t block) {
  Volume::Impl* volume = state_->volume.load();
  if (volume == nullptr) return FailedPreconditionError("the capture's volume is gone");
  return volume->CaptureBlock(*state_, block);
}

Status VolumeCapture::Commit(const BlockMap& new_base, const std::string& map_path) {
  Volume::Impl* volume = state_->volume.load();
  if (volume == nullptr) return FailedPreconditionError("the capture's volume is gone");
  return volume->Commit(*state_, new_base, map_path);
}

void VolumeCapture::Abort() {
  Volume::Impl* volume = state_->volume.load();
  if (volume != nullptr && !state_->finished.load()) volume->Abort(*state_);
}

}  // namespace kiln
