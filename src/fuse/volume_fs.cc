#define FUSE_USE_VERSION 312
#include "fuse/volume_fs.h"

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace kiln {
namespace {

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;
constexpr size_t kMaxName = 128;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > kMaxName || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// errno for a failed volume call: the guest sees an I/O error, never wrong data.
int ErrnoOf(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument:
      return EINVAL;
    case Code::kFailedPrecondition:
      return EROFS;  // closed under us: nothing more may be written
    default:
      return EIO;
  }
}

}  // namespace

struct VolumeEntry {
  std::string name;
  fuse_ino_t ino = 0;
  std::shared_mutex use_mu;  // shared by requests using `volume`, exclusive by Remove
  Volume* volume = nullptr;  // guarded by use_mu; null once removed
  int open_count = 0;        // guarded by VolumeFs::Impl::mu_
};

class VolumeFs::Impl {
 public:
  Impl(std::string mountpoint, VolumeFsOptions options)
      : mountpoint_(std::move(mountpoint)), options_(options) {}

  Status Start();
  void Stop();
  const std::string& mountpoint() const { return mountpoint_; }
  Status Add(const std::string& name, Volume* volume);
  Status Remove(const std::string& name);
  Status Resized(const std::string& name);

  // Request handlers (static trampolines below call these).
  void Init(fuse_conn_info* conn);
  void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void GetAttr(fuse_req_t req, fuse_ino_t ino);
  void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set);
  void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
  void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Release(fuse_req_t req, fuse_ino_t ino);
  void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
  void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off);
  void Fsync(fuse_req_t req, fuse_ino_t ino);
  void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length);

 private:
  std::shared_ptr<VolumeEntry> Find(fuse_ino_t ino);
  struct stat AttrOf(VolumeEntry& entry, Volume& volume) const;
  static struct stat RootAttr();

  const std::string mountpoint_;
  const VolumeFsOptions options_;
  fuse_session* session_ = nullptr;
  std::thread loop_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<VolumeEntry>> by_name_;  // guarded by mu_
  std::map<fuse_ino_t, std::shared_ptr<VolumeEntry>> by_ino_;    // guarded by mu_
  fuse_ino_t next_ino_ = kRootIno + 1;                           // guarded by mu_
};

namespace {

VolumeFs::Impl* ImplOf(fuse_req_t req) {
  return static_cast<VolumeFs::Impl*>(fuse_req_userdata(req));
}

const fuse_lowlevel_ops kOps = [] {
  fuse_lowlevel_ops ops{};
  ops.init = [](void* userdata, fuse_conn_info* conn) {
    static_cast<VolumeFs::Impl*>(userdata)->Init(conn);
  };
  ops.lookup = [](fuse_req_t req, fuse_ino_t parent, const char* name) {
    ImplOf(req)->Lookup(req, parent, name);
  };
  ops.getattr = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    ImplOf(req)->GetAttr(req, ino);
  };
  ops.setattr = [](fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
    ImplOf(req)->SetAttr(req, ino, attr, to_set);
  };
  ops.readdir = [](fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    ImplOf(req)->ReadDir(req, ino, size, off);
  };
  ops.open = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    ImplOf(req)->Open(req, ino, fi);
  };
  ops.release = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    ImplOf(req)->Release(req, ino);
  };
  ops.read = [](fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    ImplOf(req)->Read(req, ino, size, off);
  };
  ops.write = [](fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
                 fuse_file_info*) { ImplOf(req)->Write(req, ino, buf, size, off); };
  ops.flush = [](fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); };
  ops.fsync = [](fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
    ImplOf(req)->Fsync(req, ino);
  };
  ops.fallocate = [](fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                     fuse_file_info*) { ImplOf(req)->Fallocate(req, ino, mode, offset, length); };
  return ops;
}();

}  // namespace

Status VolumeFs::Impl::Start() {
  // "kiln" in /proc/mounts; only root (kilnd, the loop driver) uses the files. max_read is a
  // mount option (init must then ask for the same).
  const std::string mount_options =
      "fsname=kiln,subtype=volumes,max_read=" + std::to_string(options_.max_request_bytes);
  const char* argv[] = {"kilnd", "-o", mount_options.c_str()};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
  session_ = fuse_session_new(&args, &kOps, sizeof(kOps), this);
  fuse_opt_free_args(&args);  // the session keeps what it parsed
  if (session_ == nullptr) return InternalError("fuse_session_new failed");
  if (fuse_session_mount(session_, mountpoint_.c_str()) != 0) {
    fuse_session_destroy(session_);
    session_ = nullptr;
    return FailedPreconditionError("cannot mount FUSE at " + mountpoint_ +
                                   " (needs root and /dev/fuse)");
  }
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, static_cast<unsigned>(std::max(1, options_.threads)));
  fuse_loop_cfg_set_idle_threads(config, static_cast<unsigned>(std::max(1, options_.threads)));
  loop_ = std::thread([this, config] {
    fuse_session_loop_mt(session_, config);
    fuse_loop_cfg_destroy(config);
  });
  return Status::Ok();
}

void VolumeFs::Impl::Stop() {
  if (session_ == nullptr) return;
  fuse_session_exit(session_);
  fuse_session_unmount(session_);  // wakes the request threads: /dev/fuse reads end
  if (loop_.joinable()) loop_.join();
  fuse_session_destroy(session_);
  session_ = nullptr;
}

Status VolumeFs::Impl::Add(const std::string& name, Volume* volume) {
  if (!ValidName(name)) return InvalidArgumentError("bad volume file name '" + name + "'");
  std::lock_guard lock(mu_);
  if (by_name_.contains(name)) return AlreadyExistsError("volume file " + name + " exists");
  auto entry = std::make_shared<VolumeEntry>();
  entry->name = name;
  entry->ino = next_ino_++;
  entry->volume = volume;
  by_name_[name] = entry;
  by_ino_[entry->ino] = entry;
  return Status::Ok();
}

Status VolumeFs::Impl::Remove(const std::string& name) {
  std::shared_ptr<VolumeEntry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return NotFoundError("no volume file " + name);
    if (it->second->open_count > 0) {
      return FailedPreconditionError("volume file " + name + " is open (a loop device holds it)");
    }
    entry = it->second;
    by_name_.erase(it);
    by_ino_.erase(entry->ino);
  }
  std::unique_lock use(entry->use_mu);  // waits for requests under way
  entry->volume = nullptr;
  return Status::Ok();
}

Status VolumeFs::Impl::Resized(const std::string& name) {
  std::shared_ptr<VolumeEntry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return NotFoundError("no volume file " + name);
    entry = it->second;
  }
  uint64_t size = 0;
  {
    std::shared_lock use(entry->use_mu);
    if (entry->volume == nullptr) return NotFoundError("no volume file " + name);
    size = entry->volume->size();
  }
  // Attributes are never cached (timeout 0), but the kernel's i_size of the inode is what a
  // loop device reads, and only a GETATTR refreshes it. Invalidate (in case the kernel holds
  // the attributes anyway; ENOENT: it has never looked the file up), then stat to fetch them.
  const int rc = fuse_lowlevel_notify_inval_inode(session_, entry->ino, 0, 0);
  if (rc != 0 && rc != -ENOENT) {
    return IoError("invalidating volume file " + name + ": " + std::strerror(-rc));
  }
  struct stat st {};
  const std::string path = mountpoint_ + "/" + name;
  if (::stat(path.c_str(), &st) != 0) {
    return IoError("stat " + path + ": " + std::strerror(errno));
  }
  if (static_cast<uint64_t>(st.st_size) != size) {
    return IoError("the kernel still sees " + path + " at " + std::to_string(st.st_size) +
                   " bytes, not " + std::to_string(size));
  }
  return Status::Ok();
}

std::shared_ptr<VolumeEntry> VolumeFs::Impl::Find(fuse_ino_t ino) {
  std::lock_guard lock(mu_);
  auto it = by_ino_.find(ino);
  return it == by_ino_.end() ? nullptr : it->second;
}

void VolumeFs::Impl::Init(fuse_conn_info* conn) {
  conn->max_write = options_.max_request_bytes;  // libfuse derives max_pages from it
  conn->max_read = options_.max_request_bytes;
  conn->max_readahead = options_.max_request_bytes;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;  // every write must reach the volume
  conn->want |= FUSE_CAP_ASYNC_DIO & conn->capable;
}

struct stat VolumeFs::Impl::RootAttr() {
  struct stat st {};
  st.st_ino = kRootIno;
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = 2;
  return st;
}

struct stat VolumeFs::Impl::AttrOf(VolumeEntry& entry, Volume& volume) const {
  struct stat st {};
  st.st_ino = entry.ino;
  st.st_mode = S_IFREG | 0600;
  st.st_nlink = 1;
  st.st_size = static_cast<off_t>(volume.size());
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>(volume.Stats().present_blocks * (kBlockSize / 512));
  return st;
}

void VolumeFs::Impl::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  std::shared_ptr<VolumeEntry> entry;
  if (parent == kRootIno) {
    std::lock_guard lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) entry = it->second;
  }
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  if (entry->volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  fuse_entry_param e{};
  e.ino = entry->ino;
  e.attr = AttrOf(*entry, *entry->volume);
  // No caching of names or sizes: Add, Remove and Grow change them behind the kernel's back.
  fuse_reply_entry(req, &e);
}

void VolumeFs::Impl::GetAttr(fuse_req_t req, fuse_ino_t ino) {
  if (ino == kRootIno) {
    const struct stat st = RootAttr();
    return (void)fuse_reply_attr(req, &st, 0);
  }
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  if (entry->volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const struct stat st = AttrOf(*entry, *entry->volume);
  fuse_reply_attr(req, &st, 0);
}

void VolumeFs::Impl::SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set) {
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ino == kRootIno ? EPERM : ENOENT);
  std::shared_lock use(entry->use_mu);
  if (entry->volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  // A volume's size changes only through Grow; owners and modes are fixed. Times are ignored
  // (open with O_TRUNC of the same size, touch) so tools that set them do not fail.
  if ((to_set & FUSE_SET_ATTR_SIZE) &&
      static_cast<uint64_t>(attr->st_size) != entry->volume->size()) {
    return (void)fuse_reply_err(req, EPERM);
  }
  if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    return (void)fuse_reply_err(req, EPERM);
  }
  const struct stat st = AttrOf(*entry, *entry->volume);
  fuse_reply_attr(req, &st, 0);
}

void VolumeFs::Impl::ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
  if (ino != kRootIno) return (void)fuse_reply_err(req, ENOTDIR);
  std::vector<std::pair<std::string, fuse_ino_t>> names = {{".", kRootIno}, {"..", kRootIno}};
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, entry] : by_name_) names.emplace_back(name, entry->ino);
  }
  std::vector<char> buf(size);
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < names.size(); ++i) {
    struct stat st {};
    st.st_ino = names[i].second;
    st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
    const size_t need = fuse_add_direntry(req, buf.data() + used, size - used,
                                          names[i].first.c_str(), &st, static_cast<off_t>(i + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void VolumeFs::Impl::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (ino == kRootIno) return (void)fuse_reply_err(req, EISDIR);
  std::shared_ptr<VolumeEntry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = by_ino_.find(ino);
    if (it == by_ino_.end()) return (void)fuse_reply_err(req, ENOENT);
    entry = it->second;
    ++entry->open_count;
  }
  fi->direct_io = 1;  // no page cache of our own: the guest's is above, the volume below
  fi->keep_cache = 0;
  if (fuse_reply_open(req, fi) != 0) Release(nullptr, ino);  // the opener went away
}

void VolumeFs::Impl::Release(fuse_req_t req, fuse_ino_t ino) {
  {
    std::lock_guard lock(mu_);
    auto it = by_ino_.find(ino);
    if (it != by_ino_.end() && it->second->open_count > 0) --it->second->open_count;
  }
  if (req != nullptr) fuse_reply_err(req, 0);
}

void VolumeFs::Impl::Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  Volume* volume = entry->volume;
  if (volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const uint64_t end = volume->size();
  const uint64_t begin = std::min<uint64_t>(static_cast<uint64_t>(off), end);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(size, end - begin));
  thread_local Bytes buf;
  buf.resize(n);
  Status s = volume->Read(begin, MutableByteView(buf).first(n));
  if (!s.ok()) return (void)fuse_reply_err(req, ErrnoOf(s));
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), n);
}

void VolumeFs::Impl::Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size,
                           off_t off) {
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  Volume* volume = entry->volume;
  if (volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (static_cast<uint64_t>(off) + size > volume->size()) {
    return (void)fuse_reply_err(req, ENOSPC);  // a volume does not grow by writing past it
  }
  Status s = volume->Write(static_cast<uint64_t>(off),
                           ByteView(reinterpret_cast<const uint8_t*>(buf), size));
  if (!s.ok()) return (void)fuse_reply_err(req, ErrnoOf(s));
  fuse_reply_write(req, size);
}

void VolumeFs::Impl::Fsync(fuse_req_t req, fuse_ino_t ino) {
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  if (entry->volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  Status s = entry->volume->Flush();  // the guest's flush: every acknowledged write durable
  fuse_reply_err(req, s.ok() ? 0 : ErrnoOf(s));
}

void VolumeFs::Impl::Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
                               off_t length) {
  auto entry = Find(ino);
  if (!entry) return (void)fuse_reply_err(req, ENOENT);
  std::shared_lock use(entry->use_mu);
  Volume* volume = entry->volume;
  if (volume == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (offset < 0 || length <= 0) return (void)fuse_reply_err(req, EINVAL);
  const uint64_t begin = static_cast<uint64_t>(offset);
  const uint64_t end = std::min<uint64_t>(begin + static_cast<uint64_t>(length), volume->size());
  const bool punch = (mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_KEEP_SIZE);
  const bool zero = (mode & FALLOC_FL_ZERO_RANGE) != 0;
  if (punch || zero) {
    // The loop device turns discard and write-zeroes into these: the blocks become zeros in
    // the volume and cost nothing in its next snapshot.
    Status s = begin < end ? volume->WriteZeroes(begin, end - begin) : Status::Ok();
    return (void)fuse_reply_err(req, s.ok() ? 0 : ErrnoOf(s));
  }
  if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
    // Preallocation: a thin volume has nothing to reserve; it cannot grow this way.
    const bool fits = begin + static_cast<uint64_t>(length) <= volume->size();
    return (void)fuse_reply_err(req, fits || (mode & FALLOC_FL_KEEP_SIZE) ? 0 : ENOSPC);
  }
  fuse_reply_err(req, EOPNOTSUPP);
}

VolumeFs::VolumeFs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VolumeFs::~VolumeFs() { impl_->Stop(); }

Result<std::unique_ptr<VolumeFs>> VolumeFs::Mount(const std::string& mountpoint,
                                                  VolumeFsOptions options) {
  auto impl = std::make_unique<Impl>(mountpoint, options);
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<VolumeFs>(new VolumeFs(std::move(impl)));
}

const std::string& VolumeFs::mountpoint() const { return impl_->mountpoint(); }
std::string VolumeFs::PathOf(const std::string& name) const {
  return impl_->mountpoint() + "/" + name;
}
Status VolumeFs::Add(const std::string& name, Volume* volume) { return impl_->Add(name, volume); }
Status VolumeFs::Remove(const std::string& name) { return impl_->Remove(name); }
Status VolumeFs::Resized(const std::string& name) { return impl_->Resized(name); }

}  // namespace kiln
