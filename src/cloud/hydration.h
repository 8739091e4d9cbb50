// Volume initialization (EC2's hydration): a volume made from a snapshot is lazy (its blocks are
// fetched from the chunk store on first read, volume/volume.h); a VolumeInitializer fetches
// every block in the background, paced at the rate asked at creation (EC2's
// VolumeInitializationRate, 100-300 MiB/s: initialization type "provisioned-rate"), or at
// kiln's default rate when none was asked (type "default"). DescribeVolumeStatus shows the
// progress. The catalog keeps the rate and whether initialization has finished
// (launch_records_table.h), so a restarted kilnd resumes what it had not finished.
//
// Thread-safety: all methods may be called from many threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/query.h"
#include "base/status.h"
#include "catalog/catalog.h"

namespace kiln {

class Cloud;

// kiln's background rate for a volume created without VolumeInitializationRate. EC2 gives no
// rate for its "default" type; kiln paces it so it does not crowd a guest's own reads.
inline constexpr int kDefaultInitializationRateMiB = 64;
inline constexpr int kMinInitializationRateMiB = 100;
inline constexpr int kMaxInitializationRateMiB = 300;

// The parameter `name` (VolumeInitializationRate, or a mapping's
// BlockDeviceMapping.N.Ebs.VolumeInitializationRate): nullopt when absent. EC2's errors:
// InvalidParameterValue outside 100-300 or not a number; InvalidParameterCombination when the
// volume is not made from a snapshot.
Result<std::optional<int>> VolumeInitializationRateParam(const QueryParams& params,
                                                         const std::string& name,
                                                         bool from_snapshot);

// Records, inside `tx`, that `volume_id` (just made from a snapshot, inserted in `tx`) is to be
// initialized at `rate_mib` (nullopt: the default rate). Start it once `tx` has committed.
Status RecordVolumeInitialization(Transaction& tx, const std::string& volume_id,
                                  std::optional<int> rate_mib);

// The VolumeInitializationRate asked at the volume's creation (DescribeVolumes); 0 when none
// was asked or the catalog fails to say.
int InitializationRateOf(Cloud& cloud, const std::string& volume_id);

// What DescribeVolumeStatus shows of a volume made from a snapshot.
struct InitializationStatus {
  bool provisioned_rate = false;  // InitializationType: provisioned-rate, else default
  int64_t progress = 0;           // percent, 100 once initialized
  int64_t eta_seconds = 0;        // EstimatedTimeToCompleteInSeconds (provisioned-rate)
  int rate_mib = 0;               // the rate asked; 0 for default
};

class VolumeInitializer {
 public:
  explicit VolumeInitializer(Cloud& cloud) : cloud_(cloud) {}
  ~VolumeInitializer() { Shutdown(); }

  // Starts initializing a recorded volume in the background (Cloud::Background); nothing if it
  // is finished, running, or the initializer is shut down. Errors are logged.
  void Start(const std::string& volume_id);
  // Starts every unfinished one (after a restart).
  Status ResumeAll();
  // Stops the volume's initialization and waits until it no longer touches the volume: call
  // before deleting a volume. It resumes at the next Start.
  void Cancel(const std::string& volume_id);
  // Stops all and refuses new ones; waits until none touches a volume.
  void Shutdown();
  // nullopt for a volume not made from a snapshot.
  Result<std::optional<InitializationStatus>> Describe(const std::string& volume_id);

 private:
  struct Run {
    bool stop = false;
    uint64_t done = 0, total = 0;  // blocks, as Volume::Hydrate reports them
  };
  void Work(const std::string& volume_id, int rate_mib, std::shared_ptr<Run> run);

  Cloud& cloud_;
  std::mutex mu_;
  std::condition_variable ended_;
  bool shut_down_ = false;                            // guarded by mu_
  std::map<std::string, std::shared_ptr<Run>> runs_;  // guarded by mu_
};

}  // namespace kiln
