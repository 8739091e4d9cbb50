// Schema migrations: from an empty file, upgrades, idempotent reopen, newer or foreign schemas,
// and a failing migration rolled back on its own.
#include "catalog/migrations.h"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "catalog/catalog_testing.h"

namespace kiln::catalog_internal {
namespace {

using catalog_testing::kOwner;

// The version a migration added after kiln's own gets, and the one after it.
const int kNext = static_cast<int>(CatalogMigrations().size()) + 1;
const int kAfterNext = kNext + 1;

class MigrationsTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Catalog>> Open(const std::vector<Migration>& migrations) {
    return OpenCatalog(path_, clock_, migrations);
  }
  // kiln's migrations followed by `extra`.
  std::vector<Migration> With(std::vector<Migration> extra) {
    std::vector<Migration> all(CatalogMigrations().begin(), CatalogMigrations().end());
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }

  env_testing::TempDir dir_{"migrations"};
  std::string path_ = dir_.path() + "/catalog.db";
  ManualClock clock_;
};

TEST_F(MigrationsTest, EmptyFileGetsEveryMigration) {
  // An existing empty file is a valid empty database to SQLite.
  { std::ofstream touch(path_); }
  Result<std::unique_ptr<Catalog>> catalog = Open(With({}));
  ASSERT_OK(catalog);
  EXPECT_EQ((*catalog)->schema_version(), static_cast<int>(CatalogMigrations().size()));
  EXPECT_OK((*catalog)->accounts().Insert({kOwner, "default", "", ""}));
  EXPECT_OK((*catalog)->CheckIntegrity());
}

TEST_F(MigrationsTest, UpgradeAppliesOnlyTheNewOnesAndKeepsData) {
  ASSERT_OK(Open(With({})));
  {
    auto catalog = Open(With({})).value();
    ASSERT_OK(catalog->accounts().Insert({kOwner, "default", "", ""}));
  }
  // The next version would fail if an earlier one ran again (CREATE TABLE accounts exists) or
  // if it ran twice (CREATE TABLE extra exists).
  std::vector<Migration> next = With({{kNext, "extra table", "CREATE TABLE extra (x INTEGER)"}});
  for (int round = 0; round < 3; ++round) {
    Result<std::unique_ptr<Catalog>> catalog = Open(next);
    ASSERT_OK(catalog);
    EXPECT_EQ((*catalog)->schema_version(), kNext);
    EXPECT_OK((*catalog)->accounts().Get(kOwner));
  }
}

// Migration 2 (networking) upgrades a file written by version-1 code: its instances stay, with
// no network, and the new tables work.
TEST_F(MigrationsTest, NetworkingUpgradesAVersionOneFileKeepingItsData) {
  Instance inst = catalog_testing::MakeInstance();
  {
    auto v1 = Open({CatalogMigrations()[0]}).value();
    EXPECT_EQ(v1->schema_version(), 1);
    ASSERT_OK(v1->accounts().Insert({kOwner, "default", "", ""}));
  }
  {
    // An instance as version-1 code wrote it (today's InstanceTable writes version 2's columns).
    auto db = Db::Open(path_, clock_).value();
    const std::string sql =
        "INSERT INTO reservations VALUES ('" + inst.reservation_id + "', '" + kOwner +
        "', ''); INSERT INTO instances VALUES ('" + inst.instance_id + "', '" + kOwner + "', '" +
        inst.reservation_id + "', '" + inst.image_id + "', '" + inst.instance_type +
        "', 'pending', '', '', '', '" + inst.launch_time + "', x'010203', '', '" +
        inst.availability_zone + "', '/dev/xvda', 'ebs', 0);";
    ASSERT_OK(db->Exec(sql.c_str()));
  }
  inst.user_data = {1, 2, 3};
  auto catalog = Open(With({})).value();
  EXPECT_GE(catalog->schema_version(), 2);
  EXPECT_EQ(catalog->instances().Get(inst.instance_id).value(), inst);
  Vpc vpc{.vpc_id = catalog_testing::Id("vpc"),
          .owner_id = kOwner,
          .cidr_block = "172.31.0.0/16",
          .is_default = true,
          .state = "available"};
  ASSERT_OK(catalog->vpcs().InsertVpc(vpc));
  SecurityGroup group{.group_id = catalog_testing::Id("sg"),
                      .owner_id = kOwner,
                      .vpc_id = vpc.vpc_id,
                      .group_name = "default"};
  ASSERT_OK(catalog->security_groups().Insert(group));
  Instance next = catalog_testing::MakeInstance();
  next.vpc_id = vpc.vpc_id;
  next.security_groups = {{group.group_id, ""}};
  ASSERT_OK(catalog->instances().Insert(next));
  EXPECT_EQ(catalog->instances().Get(next.instance_id)->security_groups[0].group_name, "default");
  EXPECT_OK(catalog->CheckIntegrity());
}

// Migration 3 (EBS encryption defaults) upgrades a version-2 file: its accounts get EC2's
// defaults, which then persist across a reopen.
TEST_F(MigrationsTest, EbsEncryptionDefaultsUpgradeAVersionTwoFile) {
  {
    auto v2 = Open({CatalogMigrations()[0], CatalogMigrations()[1]}).value();
    EXPECT_EQ(v2->schema_version(), 2);
    ASSERT_OK(v2->accounts().Insert({kOwner, "default", "", ""}));
  }
  {
    auto catalog = Open(With({})).value();
    EXPECT_GE(catalog->schema_version(), 3);
    EXPECT_EQ(catalog->accounts().GetEbsEncryptionDefaults(kOwner).value(),
              EbsEncryptionDefaults{});
    ASSERT_OK(catalog->accounts().SetEbsEncryptionByDefault(kOwner, true));
  }
  auto reopened = Open(With({})).value();
  EXPECT_TRUE(reopened->accounts().GetEbsEncryptionDefaults(kOwner)->encrypted_by_default);
  EXPECT_OK(reopened->CheckIntegrity());
}

TEST_F(MigrationsTest, NewerSchemaIsRefused) {
  ASSERT_OK(Open(With({{kNext, "from the future", "CREATE TABLE future (x INTEGER)"}})));
  Result<std::unique_ptr<Catalog>> old = Catalog::Open(path_, clock_);
  EXPECT_CODE(old, kFailedPrecondition);
  EXPECT_NE(old.status().message().find("newer"), std::string::npos) << old.status().ToString();
}

TEST_F(MigrationsTest, ADifferentMigrationUnderTheSameVersionIsRefused) {
  ASSERT_OK(Open(With({{kNext, "one thing", "CREATE TABLE one (x INTEGER)"}})));
  EXPECT_CODE(Open(With({{kNext, "another thing", "CREATE TABLE another (x INTEGER)"}})),
              kFailedPrecondition);
}

TEST_F(MigrationsTest, FailingMigrationRollsBackAloneAndEarlierOnesStay) {
  std::vector<Migration> bad = With({
      {kNext, "good", "CREATE TABLE good (x INTEGER)"},
      {kAfterNext, "bad", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
  });
  Result<std::unique_ptr<Catalog>> failed = Open(bad);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("migration " + std::to_string(kAfterNext)),
            std::string::npos)
      << failed.status().ToString();
  // The first stayed; the half of the second did not (creating `half` again succeeds).
  std::vector<Migration> fixed = With({
      {kNext, "good", "CREATE TABLE good (x INTEGER)"},
      {kAfterNext, "bad", "CREATE TABLE half (x INTEGER)"},
  });
  Result<std::unique_ptr<Catalog>> catalog = Open(fixed);
  ASSERT_OK(catalog);
  EXPECT_EQ((*catalog)->schema_version(), kAfterNext);
}

TEST_F(MigrationsTest, AnotherApplicationsDatabaseIsRefused) {
  ASSERT_OK(Open({{1, "foreign", "PRAGMA application_id = 42; CREATE TABLE theirs (x INTEGER)"}}));
  Result<std::unique_ptr<Catalog>> catalog = Catalog::Open(path_, clock_);
  EXPECT_CODE(catalog, kFailedPrecondition);
  EXPECT_NE(catalog.status().message().find("not a kiln catalog"), std::string::npos);
}

TEST_F(MigrationsTest, ADatabaseWithOtherTablesAndNoApplicationIdIsRefused) {
  ASSERT_OK(Open({{1, "foreign", "CREATE TABLE theirs (x INTEGER)"}}));
  EXPECT_CODE(Catalog::Open(path_, clock_), kFailedPrecondition);
}

TEST_F(MigrationsTest, BadlyNumberedMigrationsAreAnInternalError) {
  EXPECT_CODE(Open({{2, "two", "SELECT 1"}}), kInternal);
}

}  // namespace
}  // namespace kiln::catalog_internal
