// Image import: the base image script's output becomes a snapshot holding exactly the file's
// bytes, storing only its data; directories and tarballs go through mke2fs -d; bad images are
// refused with clear errors and leave nothing behind; the imported base image boots as a file
// system (mounted through VolumeFs and a loop device: root, /dev/fuse and loop needed).
#include "image/image_import.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "env/clock.h"
#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "fuse/loop_device.h"
#include "fuse/volume_fs.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_testing.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

Bytes ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ImageImportTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.scratch_dir = root() + "/scratch"; }
  const std::string& root() const { return dir_.path(); }
  // The real base image script, at a small size.
  std::string BaseImage(const std::string& size = "64M") {
    const std::string path = root() + "/base.ext4";
    auto made = RunChecked({KILN_MAKE_BASE_IMAGE, path, size});
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return path;
  }
  Bytes VolumeBytes(Volume& v) {
    Bytes out(v.size());
    EXPECT_TRUE(v.Read(0, out).ok());
    return out;
  }
  void ExpectNoScratchLeft() {
    std::error_code ec;
    if (!std::filesystem::exists(options_.scratch_dir, ec)) return;
    EXPECT_TRUE(std::filesystem::is_empty(options_.scratch_dir)) << "scratch left behind";
  }

  env_testing::TempDir dir_{"kiln_image"};
  snapshot_testing::Storage st_{dir_.path()};
  PosixFileSystem& fs_ = st_.fs_;
  ContentChunkStore* store_ = st_.plain_.get();
  KmsKeyring* keyring_ = st_.keyring_.get();
  SnapshotStore* snaps_ = st_.snaps_.get();
  ImportOptions options_;
};

TEST_F(ImageImportTest, BaseImageBecomesASnapshotOfExactlyItsBytes) {
  const std::string image = BaseImage();
  auto info = ProbeExt4(image);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes(), 64u << 20);
  uint64_t last_done = 0, calls = 0;
  options_.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    EXPECT_LE(done, total);
    last_done = done;
    ++calls;
  };
  auto result = ImportRawImage(fs_, *snaps_, *store_, image, "base", options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->volume_size, 64u << 20);
  EXPECT_LT(result->bytes_read, 64u << 20) << "holes are skipped, not read";
  EXPECT_GT(result->blocks_stored, 0u);
  EXPECT_GT(calls, 0u);
  ExpectNoScratchLeft();
  auto v = snaps_->CreateVolume("base", root() + "/v");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(VolumeBytes(**v), ReadWholeFile(image));
  // Launching with a larger root volume is a larger volume from the same snapshot.
  auto big = snaps_->CreateVolume("base", root() + "/big", 8ULL << 30);
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ((*big)->size(), 8ULL << 30);
}

TEST_F(ImageImportTest, EncryptedImportSealsTheSnapshot) {
  const std::string image = BaseImage();
  LineageKeys keys = keyring_->NewLineage("123456789012", "alias/aws/ebs").value();
  options_.keys = &keys;
  options_.sealed_store = keyring_->Store(keys.lineage).value();
  ASSERT_TRUE(ImportRawImage(fs_, *snaps_, *store_, image, "sealed", options_).ok());
  EXPECT_TRUE(snaps_->Load("sealed")->encrypted());
  auto v = snaps_->CreateVolume("sealed", root() + "/v");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE((*v)->encrypted());
  EXPECT_EQ(VolumeBytes(**v), ReadWholeFile(image));
}

TEST_F(ImageImportTest, DirectoryAndTarballRootfs) {
  const std::string tree = root() + "/tree";
  std::filesystem::create_directories(tree + "/etc");
  std::ofstream(tree + "/etc/os-release") << "NAME=kiln-test\n";
  auto from_dir = ImportRootfs(fs_, *snaps_, *store_, tree, 32 << 20, "from-dir", options_);
  ASSERT_TRUE(from_dir.ok()) << from_dir.status().ToString();
  ASSERT_TRUE(RunChecked({"tar", "-C", tree, "-cf", root() + "/tree.tar", "."}).ok());
  auto from_tar =
      ImportRootfs(fs_, *snaps_, *store_, root() + "/tree.tar", 32 << 20, "from-tar", options_);
  ASSERT_TRUE(from_tar.ok()) << from_tar.status().ToString();
  ExpectNoScratchLeft();
  // Check the file is inside: restore, write the volume out, ask debugfs.
  for (const char* id : {"from-dir", "from-tar"}) {
    auto v = snaps_->CreateVolume(id, root() + "/check-" + std::string(id));
    ASSERT_TRUE(v.ok());
    const Bytes bytes = VolumeBytes(**v);
    const std::string out = root() + "/" + id + ".ext4";
    std::ofstream(out, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    auto cat = RunChecked({"debugfs", "-R", "cat /etc/os-release", out});
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    EXPECT_NE(cat->find("NAME=kiln-test"), std::string::npos) << id << ": " << *cat;
  }
}

TEST_F(ImageImportTest, BadImagesAreRefusedAndLeaveNothing) {
  // Not ext4.
  const std::string junk = root() + "/junk.img";
  {
    Bytes data(4 << 20);
    std::mt19937_64 rng(1);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    std::ofstream(junk, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  }
  auto r = ImportRawImage(fs_, *snaps_, *store_, junk, "junk", options_);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no ext4"), std::string::npos) << r.status().ToString();
  // An ext4 image cut short: its file system is larger than the file.
  const std::string image = BaseImage();
  std::filesystem::resize_file(image, 16 << 20);
  r = ImportRawImage(fs_, *snaps_, *store_, image, "cut", options_);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("larger than the file"), std::string::npos);
  // Missing file, taken id, empty or bad rootfs sources.
  EXPECT_EQ(ImportRawImage(fs_, *snaps_, *store_, root() + "/none", "x", options_).status().code(),
            Code::kNotFound);
  EXPECT_EQ(
      ImportRootfs(fs_, *snaps_, *store_, root() + "/none", 1 << 20, "x", options_).status().code(),
      Code::kNotFound);
  EXPECT_EQ(ImportRootfs(fs_, *snaps_, *store_, junk, 32 << 20, "x", options_).status().code(),
            Code::kInvalidArgument)
      << "mke2fs cannot read a random file as a tarball";
  std::filesystem::resize_file(image, 64 << 20);  // whole again (zeros past the cut)
  EXPECT_EQ(snaps_->List()->size(), 0u) << "no snapshot from a failed import";
  ExpectNoScratchLeft();
}

TEST_F(ImageImportTest, ImportedBaseImageMountsWithItsInitAndApplets) {
  KILN_REQUIRE_HOST_FEATURES();
  ASSERT_TRUE(ImportRawImage(fs_, *snaps_, *store_, BaseImage(), "base", options_).ok());
  auto v = snaps_->CreateVolume("base", root() + "/root-vol", 256 << 20);
  ASSERT_TRUE(v.ok());
  std::filesystem::create_directories(root() + "/fuse");
  std::filesystem::create_directories(root() + "/mnt");
  auto vfs = VolumeFs::Mount(root() + "/fuse");
  ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
  ASSERT_TRUE((*vfs)->Add("root", v->get()).ok());
  {
    auto loop = LoopDevice::Attach((*vfs)->PathOf("root"), {.read_only = true});
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    const std::string mnt = root() + "/mnt";
    ASSERT_EQ(::mount((*loop)->path().c_str(), mnt.c_str(), "ext4", MS_RDONLY, "noload"), 0)
        << std::strerror(errno);
    EXPECT_TRUE(std::filesystem::is_regular_file(mnt + "/bin/busybox"));
    EXPECT_TRUE(std::filesystem::is_symlink(mnt + "/bin/sh"));
    EXPECT_TRUE(std::filesystem::is_symlink(mnt + "/usr/bin/env"));
    for (const char* d : {"/etc", "/root", "/tmp", "/proc", "/sys", "/dev", "/run"}) {
      EXPECT_TRUE(std::filesystem::is_directory(mnt + d)) << d;
    }
    // PID 1 is tini (no fixed sleeps between a child's exit and a signal), running rc.
    EXPECT_TRUE(std::filesystem::is_regular_file(mnt + "/sbin/tini"));
    std::ifstream init(mnt + "/sbin/init");
    const std::string text((std::istreambuf_iterator<char>(init)),
                           std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("exec /sbin/tini -- /etc/init.d/rc"), std::string::npos) << text;
    init.close();
    for (const char* script :
         {"/sbin/init", "/etc/init.d/rc", "/etc/init.d/rcS", "/etc/init.d/rcK"}) {
      const auto perms = std::filesystem::status(mnt + script).permissions();
      EXPECT_NE(perms & std::filesystem::perms::owner_exec, std::filesystem::perms::none) << script;
    }
    ASSERT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  }
  vfs->reset();
}

}  // namespace
}  // namespace kiln
