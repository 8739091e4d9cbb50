// Catalog::Open, the file checks, transactions and their misuse.
#include "catalog/catalog.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "catalog/catalog_testing.h"
#include "catalog/migrations.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::MakeImage;
using catalog_testing::MakeVolume;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST_F(CatalogTest, OpensInWalModeAtTheLatestSchema) {
  EXPECT_EQ(catalog().schema_version(),
            static_cast<int>(catalog_internal::CatalogMigrations().size()));
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));  // journal_mode=WAL took
  EXPECT_OK(catalog().CheckIntegrity());
}

TEST_F(CatalogTest, ReopenKeepsDataAndSchema) {
  Image image = MakeImage("kept");
  ASSERT_OK(catalog().images().Insert(image));
  Reopen();
  Reopen();
  EXPECT_EQ(catalog().schema_version(),
            static_cast<int>(catalog_internal::CatalogMigrations().size()));
  Result<Image> got = catalog().images().Get(image.image_id);
  ASSERT_OK(got);
  EXPECT_EQ(*got, image);
}

TEST_F(CatalogTest, GarbageFileIsCorruption) {
  catalog_.reset();
  std::string garbage(16384, '\0');
  std::mt19937 rng(7);
  for (char& c : garbage) c = static_cast<char>(rng());
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  WriteFile(path_, garbage);
  Result<std::unique_ptr<Catalog>> opened = Catalog::Open(path_, clock_);
  EXPECT_CODE(opened, kCorruption);
  EXPECT_NE(opened.status().message().find("not a database"), std::string::npos)
      << opened.status().ToString();
}

TEST_F(CatalogTest, DamagedPagesAreCorruption) {
  for (int i = 0; i < 400; ++i) {
    ASSERT_OK(catalog().images().Insert(MakeImage("image-" + std::to_string(i))));
  }
  catalog_.reset();  // checkpoints the WAL into the file
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal"));
  std::fstream file(path_, std::ios::binary | std::ios::in | std::ios::out);
  uintmax_t size = std::filesystem::file_size(path_);
  ASSERT_GT(size, 16u * 4096);
  std::mt19937 rng(11);
  for (uintmax_t offset = 4096 * 2; offset + 4096 < size; offset += 4096 * 3) {
    std::string junk(512, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    file.seekp(static_cast<std::streamoff>(offset + 100));
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  file.close();
  Result<std::unique_ptr<Catalog>> opened = Catalog::Open(path_, clock_);
  EXPECT_CODE(opened, kCorruption);
}

TEST_F(CatalogTest, FilesAreOwnerOnly) {
  for (const std::string& file : {path_, path_ + "-wal", path_ + "-shm"}) {
    std::filesystem::perms perms = std::filesystem::status(file).permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none)
        << file;
  }
}

TEST_F(CatalogTest, MissingDirectoryIsIoError) {
  EXPECT_CODE(Catalog::Open(dir_.path() + "/no/such/dir/catalog.db", clock_), kIoError);
}

TEST_F(CatalogTest, FilesAreCloseOnExec) {
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    std::filesystem::path target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string().rfind(path_, 0) != 0) continue;
    int fd = std::stoi(entry.path().filename().string());
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << target;
    ++found;
  }
  EXPECT_GE(found, 2);  // the database and its WAL (and the -shm index)
}

TEST_F(CatalogTest, TransactionCommitsEverythingAtOnce) {
  Image image = MakeImage("atomic");
  std::string job_id;
  {
    Result<Transaction> tx = catalog().Begin();
    ASSERT_OK(tx);
    ASSERT_OK(tx->images().Insert(image));
    ASSERT_OK(tx->tags().Set(image.image_id, {{"", "Name", "web"}}));
    Result<Job> job = tx->jobs().Enqueue("create-image", image.image_id, "{}");
    ASSERT_OK(job);
    job_id = job->job_id;
    // Reads inside the transaction see its own writes.
    EXPECT_OK(tx->images().Get(image.image_id));
    ASSERT_OK(tx->Commit());
  }
  EXPECT_OK(catalog().images().Get(image.image_id));
  EXPECT_EQ(catalog().tags().List(image.image_id)->size(), 1u);
  EXPECT_OK(catalog().jobs().Get(job_id));
}

// The service layer's pattern: on the first error, return; the destructor rolls back.
Status CreateImageRecords(Catalog& catalog, const Image& image, const Image& clashing) {
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  RETURN_IF_ERROR(tx.images().Insert(image));
  RETURN_IF_ERROR(tx.tags().Set(image.image_id, {{"", "Name", "web"}}));
  RETURN_IF_ERROR(tx.jobs().Enqueue("create-image", image.image_id, "{}").status());
  RETURN_IF_ERROR(tx.images().Insert(clashing));  // fails: the name is taken
  return tx.Commit();
}

TEST_F(CatalogTest, TransactionRollsBackWhenAbandonedOnError) {
  Image image = MakeImage("web");
  Image clashing = MakeImage("web");
  EXPECT_CODE(CreateImageRecords(catalog(), image, clashing), kAlreadyExists);
  EXPECT_CODE(catalog().images().Get(image.image_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(image.image_id)->empty());
  EXPECT_TRUE(catalog().jobs().ListUnfinished()->empty());
  // The catalog is usable afterwards.
  EXPECT_OK(catalog().images().Insert(image));
}

TEST_F(CatalogTest, ExplicitRollbackDiscards) {
  Image image = MakeImage("discarded");
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  ASSERT_OK(tx->images().Insert(image));
  tx->Rollback();
  tx->Rollback();  // idempotent
  EXPECT_CODE(catalog().images().Get(image.image_id), kNotFound);
}

TEST_F(CatalogTest, FailedCallInsideTransactionHasNoEffectAndTheRestCommits) {
  Image first = MakeImage("first");
  Image bad = MakeImage("second");
  bad.block_device_mappings.push_back(
      {.device_name = "/dev/xvda", .snapshot_id = "snap-" + std::string(17, '0')});
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  ASSERT_OK(tx->images().Insert(first));
  // The image row goes in before its mapping fails (no such snapshot): the savepoint undoes it.
  EXPECT_CODE(tx->images().Insert(bad), kFailedPrecondition);
  EXPECT_CODE(tx->images().Get(bad.image_id), kNotFound);
  ASSERT_OK(tx->Commit());
  EXPECT_OK(catalog().images().Get(first.image_id));
  EXPECT_CODE(catalog().images().Get(bad.image_id), kNotFound);
}

TEST_F(CatalogTest, SingleCallsAreAtomicToo) {
  Image bad = MakeImage("lonely");
  bad.block_device_mappings.push_back(
      {.device_name = "/dev/xvda", .snapshot_id = "snap-" + std::string(17, '1')});
  EXPECT_CODE(catalog().images().Insert(bad), kFailedPrecondition);
  EXPECT_CODE(catalog().images().Get(bad.image_id), kNotFound);
  EXPECT_OK(catalog().images().Insert(MakeImage("lonely")));  // the name was not kept
}

TEST_F(CatalogTest, TablesOfAnEndedTransactionRefuse) {
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  ImageTable images = tx->images();
  ASSERT_OK(tx->Commit());
  EXPECT_CODE(images.Insert(MakeImage("late")), kInternal);
  EXPECT_CODE(tx->Commit(), kInternal);
  // A later transaction is not joined by the stale table either.
  Result<Transaction> next = catalog().Begin();
  ASSERT_OK(next);
  EXPECT_CODE(images.Insert(MakeImage("late")), kInternal);
}

TEST_F(CatalogTest, CatalogCallsWhileHoldingATransactionAreRefusedNotDeadlocked) {
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  EXPECT_CODE(catalog().images().Get("ami-00000000000000000"), kInternal);
  EXPECT_CODE(catalog().Begin(), kInternal);
  tx->Rollback();
  EXPECT_CODE(catalog().images().Get("ami-00000000000000000"), kNotFound);
}

TEST_F(CatalogTest, TransactionUsedFromAnotherThreadIsRefused) {
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  Status from_other;
  std::thread other([&] { from_other = tx->volumes().Insert(MakeVolume()); });
  other.join();
  EXPECT_EQ(from_other.code(), Code::kInternal) << from_other.ToString();
}

TEST_F(CatalogTest, MovedTransactionStaysOne) {
  Image image = MakeImage("moved");
  Result<Transaction> tx = catalog().Begin();
  ASSERT_OK(tx);
  Transaction moved = std::move(tx).value();
  ASSERT_OK(moved.images().Insert(image));
  ASSERT_OK(moved.Commit());
  EXPECT_OK(catalog().images().Get(image.image_id));
}

TEST_F(CatalogTest, OtherThreadsSeeCommitsAtOnce) {
  Image image = MakeImage("seen");
  ASSERT_OK(catalog().images().Insert(image));
  Result<Image> seen = NotFoundError("not read");
  std::thread reader([&] { seen = catalog().images().Get(image.image_id); });
  reader.join();
  EXPECT_OK(seen);
}

}  // namespace
}  // namespace kiln
