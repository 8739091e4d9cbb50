#include "cloud/cloud.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include "catalog/ids.h"
#include "cloud/accounts.h"
#include "cloud/instance_ops.h"

namespace kiln {

Cloud::Cloud(CloudOptions options, PosixFileSystem* fs)
    : options_(std::move(options)), clock_(SystemClock()), fs_(fs) {}

namespace {

// One kilnd per data directory: a second one's recovery would kill the first one's instances
// and cut off its volumes. The flock goes with the process, however it ends.
Result<int> LockDataDir(const std::string& dir) {
  const std::string path = JoinPath(dir, "kilnd.lock");
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("opening " + path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPreconditionError("the data directory " + dir +
                                     " is in use by another kilnd (it holds " + path + ")");
    }
    return ErrnoError("locking " + path, err);
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<Cloud>> Cloud::Open(const CloudOptions& options) {
  std::unique_ptr<Cloud> cloud(new Cloud(options, new PosixFileSystem()));
  FileSystem& fs = *cloud->fs_;
  RETURN_IF_ERROR(CreateDirs(fs, options.data_dir));
  RETURN_IF_ERROR(fs.SetPermissions(options.data_dir, 0700));
  ASSIGN_OR_RETURN(cloud->lock_fd_, LockDataDir(options.data_dir));
  // The runtime first: its recovery thaws and kills what a killed kilnd left running, before
  // anything opens the volumes those instances had.
  ContainerRuntimeOptions ro;
  ro.state_dir = JoinPath(options.data_dir, "runtime");
  ro.stop_grace_ms = options.stop_grace_ms;
  ASSIGN_OR_RETURN(cloud->runtime_, ContainerRuntime::Open(ro));
  const RecoveryReport& rec = cloud->runtime_->recovery();
  if (!rec.killed_instances.empty()) {
    spdlog::warn("recovered after an unclean stop: {} instance(s) killed",
                 rec.killed_instances.size());
  }
  ASSIGN_OR_RETURN(cloud->catalog_,
                   Catalog::Open(JoinPath(options.data_dir, "catalog.db"), cloud->clock_));
  ASSIGN_OR_RETURN(cloud->storage_,
                   Storage::Open(fs, cloud->clock_, options.data_dir, options.region));
  RETURN_IF_ERROR(EnsureAccounts(*cloud));
  RETURN_IF_ERROR(EnsureBaseImages(*cloud));
  RETURN_IF_ERROR(cloud->Recover());
  cloud->initializer_ = std::make_unique<VolumeInitializer>(*cloud);
  RETURN_IF_ERROR(cloud->initializer_->ResumeAll());
  cloud->watcher_ = std::thread([c = cloud.get()] { c->WatchGuests(); });
  return cloud;
}

Cloud::~Cloud() {
  // Volume initialization ends first (it resumes at the next Open): it holds volumes open.
  if (initializer_) initializer_->Shutdown();
  // The watcher first: the instances the runtime stops below must stay running in the catalog.
  {
    std::lock_guard lock(watch_mu_);
    closing_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  {
    std::unique_lock lock(tasks_mu_);
    tasks_done_.wait(lock, [&] { return tasks_running_ == 0; });
  }
  // Running instances are stopped here and booted again at the next Open: the catalog keeps
  // saying running, as EC2's instances survive a control-plane restart.
  runtime_.reset();
  storage_.reset();
  catalog_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

void Cloud::WatchGuests() {
  std::unique_lock lock(watch_mu_);
  while (!watch_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return closing_; })) {
    lock.unlock();
    SettleEndedGuests(*this);
    lock.lock();
  }
}

std::string Cloud::Now() { return Ec2Timestamp(clock_.WallMicros()); }

void Cloud::Background(std::function<void()> work) {
  {
    std::lock_guard lock(tasks_mu_);
    ++tasks_running_;
  }
  std::thread([this, work = std::move(work)] {
    work();
    std::lock_guard lock(tasks_mu_);
    --tasks_running_;
    tasks_done_.notify_all();
  }).detach();
}

std::string Cloud::OwnerAlias(const std::string& account_id) {
  std::lock_guard lock(alias_mu_);
  auto it = aliases_.find(account_id);
  if (it != aliases_.end()) return it->second;
  Result<Account> account = catalog_->accounts().Get(account_id);
  std::string alias = account.ok() ? account->alias : "";
  aliases_[account_id] = alias;
  return alias;
}

// After an unclean stop: the jobs that were running lost their point in time with the process,
// so their snapshots end `error` and their images `failed`, each with a reason; instances caught
// between states are settled; then every instance is registered with the runtime and those the
// catalog says are running boot again.
Status Cloud::Recover() {
  ASSIGN_OR_RETURN(std::vector<Job> jobs, catalog_->jobs().ListUnfinished());
  const std::string why = "kilnd restarted before the work finished";
  for (const Job& job : jobs) {
    spdlog::warn("job {} ({} for {}) was interrupted; ending it failed", job.job_id, job.kind,
                 job.resource_id);
    RETURN_IF_ERROR(catalog_->jobs().Abandon(job.job_id, why));
    if (job.kind == "create-image" || job.kind == "copy-image") {
      RETURN_IF_ERROR(FailImage(*this, job.resource_id, "Server.InternalError",
                                "Server.InternalError: " + why));
    }
  }
  ASSIGN_OR_RETURN(std::vector<Snapshot> snaps, catalog_->snapshots().List({}));
  for (const Snapshot& s : snaps) {
    if (s.state != SnapshotState::kPending) continue;
    Status st = catalog_->snapshots().UpdateState(s.snapshot_id, SnapshotState::kPending,
                                                  SnapshotState::kError, why);
    if (!st.ok() && st.code() != Code::kFailedPrecondition) return st;
  }
  return RecoverInstances(*this);
}

}  // namespace kiln
