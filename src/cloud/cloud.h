// Cloud: kilnd's control plane. It ties the catalog (what exists, durably), the storage engine
// (volumes and snapshots) and the instance runtime (containers) together, and carries out the
// EC2 operations the actions (src/cloud/*_actions.cc) ask for: launching and changing
// instances, volumes, snapshots and images, including CreateImage's workflow (DESIGN.md,
// Control plane).
//
// Long work runs in the background (stop, start, reboot, terminate, snapshot capture, image
// creation), tracked by durable jobs where a restart must settle it: after a kill -9, Open
// ends every unfinished snapshot `error` and image `failed` with a reason (their point in time
// is gone with the process), settles instances caught mid-transition, and boots again the
// instances the catalog says are running (the runtime's recovery killed their processes).
//
// Thread-safety: every public method may be called from many threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "cloud/hydration.h"
#include "cloud/storage.h"
#include "env/clock.h"
#include "env/posix_file_system.h"
#include "runtime/container_runtime.h"

namespace kiln {

struct CloudOptions {
  std::string data_dir;
  std::string images_dir;  // where the build put minimal-linux-x86_64.ext4
  std::string region = "us-east-1";
  int stop_grace_ms = 10000;
};

// The system account that owns the base images.
inline constexpr char kSystemAccountName[] = "kiln";
inline constexpr char kBaseImageName[] = "minimal-linux-x86_64";
inline constexpr char kBaseImageInstanceStoreName[] = "minimal-linux-x86_64-instance-store";

class Cloud {
 public:
  // Opens (creating on first start) everything under options.data_dir, recovers from an
  // unclean stop, and makes sure the accounts and base images exist.
  static Result<std::unique_ptr<Cloud>> Open(const CloudOptions& options);
  // Waits for background work, stops running instances (they boot again at the next Open,
  // as the catalog still says running), closes volumes.
  ~Cloud();

  Catalog& catalog() { return *catalog_; }
  Storage& storage() { return *storage_; }
  Runtime& runtime() { return *runtime_; }
  // Background volume initialization (hydration) of volumes made from snapshots.
  VolumeInitializer& initializer() { return *initializer_; }
  Clock& clock() { return clock_; }
  const CloudOptions& options() const { return options_; }
  std::string Now();  // Ec2Timestamp of the wall clock
  std::string availability_zone() const { return options_.region + "a"; }

  // Runs `work` on a background thread, tracked: the destructor waits for it.
  void Background(std::function<void()> work);

  // The account's alias ("kiln" for the system account), "" if none; cached.
  std::string OwnerAlias(const std::string& account_id);

 private:
  Cloud(CloudOptions options, PosixFileSystem* fs);
  Status Recover();
  Status RegisterInstances();
  // The guest watcher: every second, settles instances whose guest ended on its own
  // (SettleEndedGuests), until the destructor stops it.
  void WatchGuests();

  const CloudOptions options_;
  Clock& clock_;
  int lock_fd_ = -1;  // DIR/kilnd.lock, flocked for the Cloud's lifetime
  std::unique_ptr<PosixFileSystem> fs_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<ContainerRuntime> runtime_;
  std::unique_ptr<VolumeInitializer> initializer_;

  std::mutex tasks_mu_;
  std::condition_variable tasks_done_;
  int tasks_running_ = 0;  // guarded by tasks_mu_

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool closing_ = false;  // guarded by watch_mu_
  std::thread watcher_;

  std::mutex alias_mu_;
  std::map<std::string, std::string> aliases_;  // guarded by alias_mu_
};

}  // namespace kiln
