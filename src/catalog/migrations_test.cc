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
  // Version 2 would fail if version 1 ran again (CREATE TABLE accounts exists) or if 2 ran
  // twice (CREATE TABLE extra exists).
  std::vector<Migration> v2 = With({{2, "extra table", "CREATE TABLE extra (x INTEGER)"}});
  for (int round = 0; round < 3; ++round) {
    Result<std::unique_ptr<Catalog>> catalog = Open(v2);
    ASSERT_OK(catalog);
    EXPECT_EQ((*catalog)->schema_version(), 2);
    EXPECT_OK((*catalog)->accounts().Get(kOwner));
  }
}

TEST_F(MigrationsTest, NewerSchemaIsRefused) {
  ASSERT_OK(Open(With({{2, "from the future", "CREATE TABLE future (x INTEGER)"}})));
  Result<std::unique_ptr<Catalog>> old = Catalog::Open(path_, clock_);
  EXPECT_CODE(old, kFailedPrecondition);
  EXPECT_NE(old.status().message().find("newer"), std::string::npos) << old.status().ToString();
}

TEST_F(MigrationsTest, ADifferentMigrationUnderTheSameVersionIsRefused) {
  ASSERT_OK(Open(With({{2, "one thing", "CREATE TABLE one (x INTEGER)"}})));
  EXPECT_CODE(Open(With({{2, "another thing", "CREATE TABLE another (x INTEGER)"}})),
              kFailedPrecondition);
}

TEST_F(MigrationsTest, FailingMigrationRollsBackAloneAndEarlierOnesStay) {
  std::vector<Migration> bad = With({
      {2, "good", "CREATE TABLE good (x INTEGER)"},
      {3, "bad", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
  });
  Result<std::unique_ptr<Catalog>> failed = Open(bad);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("migration 3"), std::string::npos)
      << failed.status().ToString();
  // Version 2 stayed; the half of version 3 did not (creating `half` again succeeds).
  std::vector<Migration> fixed = With({
      {2, "good", "CREATE TABLE good (x INTEGER)"},
      {3, "bad", "CREATE TABLE half (x INTEGER)"},
  });
  Result<std::unique_ptr<Catalog>> catalog = Open(fixed);
  ASSERT_OK(catalog);
  EXPECT_EQ((*catalog)->schema_version(), 3);
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
