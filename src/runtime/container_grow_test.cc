// Elastic Volumes on the container runtime: a volume attached to a running instance grows
// (Volume::Grow, then Runtime::VolumeGrown) and the guest's block device shows the new size at
// once, under a mounted file system with its data intact, with no detach and no reboot; a
// stopped instance shows it at its next start. The root volume too: its file system grows at
// the next start. Needs root, /dev/fuse and loop devices (a failure under CI=true, a skip
// elsewhere).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "env/env_testing.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "image/image_import.h"
#include "runtime/container_runtime.h"
#include "runtime/runtime_testing.h"
#include "snapshot/snapshot_testing.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr char kId[] = "i-0123456789abcdef2";
constexpr uint64_t kMiB = 1 << 20;

#define ASSERT_OK(expr)                    \
  if (const Status s_ = (expr); s_.ok()) { \
  } else                                   \
    FAIL() << #expr << ": " << s_.ToString()

using runtime_testing::ReadAll;

class GrowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    const std::string image = root() + "/base.ext4";
    ASSERT_TRUE(RunChecked({KILN_MAKE_BASE_IMAGE, image, "128M"}).ok());
    ImportOptions options;
    options.scratch_dir = root() + "/scratch";
    ASSERT_TRUE(ImportRawImage(st_.fs_, *st_.snaps_, *st_.plain_, image, "base", options).ok());
    ContainerRuntimeOptions rt;
    rt.state_dir = fs::weakly_canonical(root() + "/state").string();
    rt.stop_grace_ms = 5000;
    auto opened = ContainerRuntime::Open(rt);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    runtime_ = std::move(opened).value();
  }
  void TearDown() override {
    runtime_.reset();  // before the volumes it borrows
    for (auto& [name, v] : volumes_) v->Close().IgnoreError();
  }
  const std::string& root() const { return dir_.path(); }

  Volume* RootVolume() {
    auto v = st_.snaps_->CreateVolume("base", root() + "/root-volume", 0);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return nullptr;
    return (volumes_["root"] = std::move(v).value()).get();
  }
  // An empty volume holding a fresh ext4 file system (made on the host: the guest's busybox
  // mke2fs makes ext2).
  Volume* Ext4Volume(const std::string& name, uint64_t size) {
    const std::string image = root() + "/" + name + ".ext4";
    EXPECT_TRUE(RunChecked({"truncate", "-s", std::to_string(size), image}).ok());
    EXPECT_TRUE(RunChecked({"mke2fs", "-q", "-F", "-t", "ext4", image}).ok());
    auto v = Volume::Create(st_.fs_, *st_.plain_, root() + "/" + name, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return nullptr;
    std::ifstream in(image, std::ios::binary);
    Bytes buf(kMiB);
    for (uint64_t at = 0; at < size; at += kMiB) {
      in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(kMiB));
      EXPECT_TRUE((*v)->Write(at, buf).ok());
    }
    EXPECT_TRUE((*v)->Flush().ok());
    return (volumes_[name] = std::move(v).value()).get();
  }
  // Runs a shell script inside the instance; its output (stdout and stderr) without the last
  // newline. Expects exit status 0.
  std::string Out(const std::string& script) {
    ExecOptions options;
    options.argv = {"sh", "-c", "exec 2>&1\n" + script};
    auto p = runtime_->Exec(kId, options);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return "";
    (*p)->CloseStdin();
    std::string out = ReadAll((*p)->stdout_fd());
    auto code = (*p)->Wait(60000);
    EXPECT_TRUE(code.ok() && *code == 0) << script << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  uint64_t DfTotalKiB(const std::string& mount) {
    return std::stoull(Out("df -k " + mount + " | tail -1 | awk '{print $2}'"));
  }

  env_testing::TempDir dir_{"kiln_rg"};
  snapshot_testing::Storage st_{dir_.path()};
  std::map<std::string, std::unique_ptr<Volume>> volumes_;
  std::unique_ptr<ContainerRuntime> runtime_;
};

TEST_F(GrowTest, AnAttachedVolumeGrowsUnderItsMountedFileSystem) {
  Volume* data = Ext4Volume("data", 64 * kMiB);
  ASSERT_NE(data, nullptr);
  InstanceConfig config;
  config.instance_id = kId;
  config.volumes = {{"/dev/xvda", "vol-root", RootVolume()}, {"/dev/sdf", "vol-data", data}};
  ASSERT_OK(runtime_->Register(config));
  ASSERT_OK(runtime_->Start(kId));
  Out("mkdir -p /mnt/d && mount /dev/sdf /mnt/d && "
      "dd if=/dev/urandom of=/mnt/d/file bs=1M count=4 2>/dev/null && "
      "md5sum /mnt/d/file > /root/file.md5 && sync");
  const uint64_t fs_kib = DfTotalKiB("/mnt/d");
  EXPECT_EQ(Out("blockdev --getsize64 /dev/sdf"), std::to_string(64 * kMiB));

  ASSERT_OK(data->Grow(128 * kMiB));
  ASSERT_OK(runtime_->VolumeGrown(kId, "vol-data"));
  EXPECT_EQ(Out("blockdev --getsize64 /dev/sdf"), std::to_string(128 * kMiB))
      << "the guest sees the new size at once";
  EXPECT_EQ(Out("blockdev --getsize64 /dev/xvdf"), std::to_string(128 * kMiB));
  Out("md5sum -c /root/file.md5");
  EXPECT_EQ(DfTotalKiB("/mnt/d"), fs_kib) << "the file system is the guest's to grow";
  // The new space, past the file system's end, holds data.
  EXPECT_EQ(Out("dd if=/dev/urandom of=/root/tail bs=1M count=1 2>/dev/null && "
                "dd if=/root/tail of=/dev/sdf bs=1M seek=100 conv=fsync 2>/dev/null && "
                "dd if=/dev/sdf bs=1M skip=100 count=1 2>/dev/null | cmp - /root/tail && "
                "echo same"),
            "same");
  // resize2fs, where the guest has it (the base image's busybox does not) and the host lets it
  // grow a mounted file system (CAP_SYS_RESOURCE).
  if (Out("command -v resize2fs >/dev/null && resize2fs /dev/sdf >/dev/null 2>&1 && echo grew "
          "|| echo no") == "grew") {
    EXPECT_GT(DfTotalKiB("/mnt/d"), fs_kib + 50 * 1024);
  } else {
    RecordProperty("online_resize2fs", "unavailable in the guest");
  }
  Out("md5sum -c /root/file.md5");

  EXPECT_EQ(runtime_->VolumeGrown(kId, "vol-other").code(), Code::kNotFound);
  EXPECT_EQ(runtime_->VolumeGrown("i-0123456789abcdef9", "vol-data").code(), Code::kNotFound);

  // Stopped: nothing to do now, the next start shows it.
  ASSERT_OK(runtime_->Stop(kId));
  ASSERT_OK(data->Grow(192 * kMiB));
  ASSERT_OK(runtime_->VolumeGrown(kId, "vol-data"));
  ASSERT_OK(runtime_->Start(kId));
  EXPECT_EQ(Out("blockdev --getsize64 /dev/sdf"), std::to_string(192 * kMiB));
  Out("mkdir -p /mnt/d && mount /dev/sdf /mnt/d && md5sum -c /root/file.md5");
  ASSERT_OK(runtime_->Terminate(kId));
}

TEST_F(GrowTest, TheRootVolumeGrowsWhileRunningAndItsFileSystemAtTheNextStart) {
  Volume* root_volume = RootVolume();
  ASSERT_NE(root_volume, nullptr);
  InstanceConfig config;
  config.instance_id = kId;
  config.volumes = {{"/dev/xvda", "vol-root", root_volume}};
  ASSERT_OK(runtime_->Register(config));
  ASSERT_OK(runtime_->Start(kId));
  const uint64_t fs_kib = DfTotalKiB("/");
  EXPECT_EQ(Out("blockdev --getsize64 /dev/xvda"), std::to_string(128 * kMiB));
  ASSERT_OK(root_volume->Grow(256 * kMiB));
  ASSERT_OK(runtime_->VolumeGrown(kId, "vol-root"));
  EXPECT_EQ(Out("blockdev --getsize64 /dev/xvda"), std::to_string(256 * kMiB));
  Out("echo kept > /root/marker && sync");
  ASSERT_OK(runtime_->Stop(kId));
  ASSERT_OK(runtime_->Start(kId));
  EXPECT_EQ(Out("blockdev --getsize64 /dev/xvda"), std::to_string(256 * kMiB));
  EXPECT_GT(DfTotalKiB("/"), fs_kib + 100 * 1024) << "the root file system grew at the start";
  EXPECT_EQ(Out("cat /root/marker"), "kept");
  ASSERT_OK(runtime_->Terminate(kId));
}

}  // namespace
}  // namespace kiln
