// Test-only helpers for the catalog's tests: a fixture with a fresh catalog in a temp dir and
// two accounts, record makers, and status assertions. Not part of kiln_catalog.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "catalog/ids.h"
#include "env/clock.h"
#include "env/env_testing.h"

namespace kiln::catalog_testing {

inline const Status& AnyStatus(const Status& s) { return s; }
template <typename T>
const Status& AnyStatus(const Result<T>& r) {
  return r.status();
}

// Asserts that a Status or Result is OK, printing the status otherwise.
#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    const ::kiln::Status s_ = ::kiln::catalog_testing::AnyStatus((expr)); \
    ASSERT_TRUE(s_.ok()) << #expr << ": " << s_.ToString();               \
  } while (0)
#define EXPECT_OK(expr)                                                   \
  do {                                                                    \
    const ::kiln::Status s_ = ::kiln::catalog_testing::AnyStatus((expr)); \
    EXPECT_TRUE(s_.ok()) << #expr << ": " << s_.ToString();               \
  } while (0)
// Expects a Status or Result to fail with `expected_code`, a kiln::Code enumerator's name
// (e.g. kNotFound).
#define EXPECT_CODE(expr, expected_code)                                                 \
  do {                                                                                   \
    const ::kiln::Status s_ = ::kiln::catalog_testing::AnyStatus((expr));                \
    EXPECT_EQ(s_.code(), ::kiln::Code::expected_code) << #expr << ": " << s_.ToString(); \
  } while (0)

inline std::string Id(const char* prefix) { return NewId(prefix).value(); }

inline constexpr char kOwner[] = "111122223333";
inline constexpr char kOther[] = "444455556666";

inline Snapshot MakeSnapshot(const std::string& owner = kOwner) {
  Snapshot s;
  s.snapshot_id = Id("snap");
  s.owner_id = owner;
  s.volume_id = Id("vol");
  s.volume_size = 8;
  s.description = "a snapshot";
  s.start_time = "2024-01-02T03:04:05.000Z";
  s.storage_key = "store-" + s.snapshot_id;
  return s;
}

inline Image MakeImage(const std::string& name, const std::string& owner = kOwner) {
  Image image;
  image.image_id = Id("ami");
  image.owner_id = owner;
  image.name = name;
  image.description = "an image";
  image.architecture = "x86_64";
  image.root_device_name = "/dev/xvda";
  image.root_device_type = "ebs";
  image.virtualization_type = "hvm";
  image.image_type = "machine";
  image.creation_date = "2024-01-02T03:04:05.000Z";
  return image;
}

inline EbsVolume MakeVolume(const std::string& owner = kOwner) {
  EbsVolume v;
  v.volume_id = Id("vol");
  v.owner_id = owner;
  v.size = 8;
  v.availability_zone = "us-east-1a";
  v.state = VolumeState::kAvailable;
  v.volume_type = "gp3";
  v.iops = 3000;
  v.create_time = "2024-01-02T03:04:05.000Z";
  return v;
}

inline Instance MakeInstance(const std::string& owner = kOwner,
                             const std::string& reservation_id = Id("r")) {
  Instance i;
  i.instance_id = Id("i");
  i.owner_id = owner;
  i.reservation_id = reservation_id;
  i.image_id = Id("ami");
  i.instance_type = "m5d.large";
  i.launch_time = "2024-01-02T03:04:05.000Z";
  i.availability_zone = "us-east-1a";
  i.root_device_name = "/dev/xvda";
  i.root_device_type = "ebs";
  return i;
}

// A fresh catalog in a temp dir with accounts kOwner and kOther.
class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/catalog.db";
    Reopen();
    ASSERT_OK(catalog().accounts().Insert({kOwner, "default", "", "2024-01-01T00:00:00.000Z"}));
    ASSERT_OK(catalog().accounts().Insert({kOther, "other", "", "2024-01-01T00:00:00.000Z"}));
  }

  // Closes the catalog and opens the file again (as after a restart).
  void Reopen() {
    catalog_.reset();
    Result<std::unique_ptr<Catalog>> opened = Catalog::Open(path_, clock_);
    ASSERT_OK(opened);
    catalog_ = std::move(opened).value();
  }

  Catalog& catalog() { return *catalog_; }

  env_testing::TempDir dir_{"catalog"};
  std::string path_;
  ManualClock clock_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace kiln::catalog_testing
