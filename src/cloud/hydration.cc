#include "cloud/hydration.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "actions/action_common.h"
#include "cloud/cloud.h"
#include "store/block_map.h"

namespace kiln {

constexpr uint64_t kMiB = uint64_t{1} << 20;

Result<std::optional<int>> VolumeInitializationRateParam(const QueryParams& params,
                                                         const std::string& name,
                                                         bool from_snapshot) {
  const std::optional<std::string> text = params.Get(name);
  if (!text) return std::optional<int>();
  Result<std::optional<int64_t>> rate =
      actions::IntParam(params, name, kMinInitializationRateMiB, kMaxInitializationRateMiB);
  if (!rate.ok()) {
    return actions::Ec2Error("InvalidParameterValue",
                             "Value (" + *text +
                                 ") for parameter volumeInitializationRate is "
                                 "invalid. The volume initialization rate must be between " +
                                 std::to_string(kMinInitializationRateMiB) + " and " +
                                 std::to_string(kMaxInitializationRateMiB) + " MiB/s.");
  }
  if (!from_snapshot) {
    return actions::Ec2Error("InvalidParameterCombination",
                             "The parameter volumeInitializationRate is supported only for "
                             "volumes created from snapshots.");
  }
  return std::optional<int>(static_cast<int>(**rate));
}

Status RecordVolumeInitialization(Transaction& tx, const std::string& volume_id,
                                  std::optional<int> rate_mib) {
  return tx.volume_initialization().Insert({volume_id, rate_mib.value_or(0), false});
}

int InitializationRateOf(Cloud& cloud, const std::string& volume_id) {
  Result<std::optional<VolumeInitialization>> rec =
      cloud.catalog().volume_initialization().Get(volume_id);
  return rec.ok() && *rec ? (*rec)->rate_mib_per_sec : 0;
}

void VolumeInitializer::Start(const std::string& volume_id) {
  Result<std::optional<VolumeInitialization>> rec =
      cloud_.catalog().volume_initialization().Get(volume_id);
  if (!rec.ok()) {
    spdlog::error("volume {}: initialization record: {}", volume_id, rec.status().ToString());
    return;
  }
  if (!*rec || (*rec)->initialized) return;
  auto run = std::make_shared<Run>();
  {
    std::lock_guard lock(mu_);
    if (shut_down_ || runs_.count(volume_id) != 0) return;
    runs_[volume_id] = run;
  }
  const int rate = (*rec)->rate_mib_per_sec;
  cloud_.Background([this, volume_id, rate, run] { Work(volume_id, rate, run); });
}

void VolumeInitializer::Work(const std::string& volume_id, int rate_mib, std::shared_ptr<Run> run) {
  const uint64_t rate =
      static_cast<uint64_t>(rate_mib > 0 ? rate_mib : kDefaultInitializationRateMiB) * kMiB;
  Status s;
  Result<Volume*> volume = cloud_.storage().GetVolume(volume_id);
  if (volume.ok()) {
    s = (*volume)->Hydrate(rate, [&](uint64_t done, uint64_t total) {
      std::lock_guard lock(mu_);
      run->done = done;
      run->total = total;
      return !run->stop;
    });
  } else {
    s = volume.status();
  }
  if (s.ok()) s = cloud_.catalog().volume_initialization().MarkInitialized(volume_id);
  if (s.ok()) {
    spdlog::info("volume {}: initialized", volume_id);
  } else if (s.code() != Code::kAborted) {
    spdlog::error("volume {}: initialization: {}", volume_id, s.ToString());
  }
  std::lock_guard lock(mu_);
  runs_.erase(volume_id);
  ended_.notify_all();
}

Status VolumeInitializer::ResumeAll() {
  ASSIGN_OR_RETURN(std::vector<VolumeInitialization> pending,
                   cloud_.catalog().volume_initialization().ListUnfinished());
  for (const VolumeInitialization& v : pending) Start(v.volume_id);
  return Status::Ok();
}

void VolumeInitializer::Cancel(const std::string& volume_id) {
  std::unique_lock lock(mu_);
  auto it = runs_.find(volume_id);
  if (it == runs_.end()) return;
  it->second->stop = true;
  ended_.wait(lock, [&] { return runs_.count(volume_id) == 0; });
}

void VolumeInitializer::Shutdown() {
  std::unique_lock lock(mu_);
  shut_down_ = true;
  for (auto& [id, run] : runs_) run->stop = true;
  ended_.wait(lock, [&] { return runs_.empty(); });
}

Result<std::optional<InitializationStatus>> VolumeInitializer::Describe(
    const std::string& volume_id) {
  ASSIGN_OR_RETURN(std::optional<VolumeInitialization> rec,
                   cloud_.catalog().volume_initialization().Get(volume_id));
  if (!rec) return std::optional<InitializationStatus>();
  InitializationStatus st;
  st.provisioned_rate = rec->rate_mib_per_sec > 0;
  st.rate_mib = rec->rate_mib_per_sec;
  if (rec->initialized) {
    st.progress = 100;
    return std::optional<InitializationStatus>(st);
  }
  uint64_t done = 0, total = 0;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(volume_id);
    if (it != runs_.end()) done = it->second->done, total = it->second->total;
  }
  if (total == 0) {
    // Not started yet (just created, or waiting for a thread): what is left is what the
    // volume still lacks locally, so the estimate is there from the first look.
    Result<Volume*> volume = cloud_.storage().GetVolume(volume_id);
    if (volume.ok()) {
      const VolumeStats stats = (*volume)->Stats();
      total = stats.base_blocks;
      done = stats.base_blocks - stats.base_blocks_missing;
    }
  }
  // Not initialized: never 100 until the record says so.
  st.progress = total == 0 ? 0 : std::min<int64_t>(99, static_cast<int64_t>(done * 100 / total));
  const uint64_t rate =
      static_cast<uint64_t>(st.provisioned_rate ? st.rate_mib : kDefaultInitializationRateMiB) *
      kMiB;
  const uint64_t left = total > done ? (total - done) * kBlockSize : 0;
  st.eta_seconds = static_cast<int64_t>((left + rate - 1) / rate);
  return std::optional<InitializationStatus>(st);
}

}  // namespace kiln
