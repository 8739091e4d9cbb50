// One Catalog shared by many threads, and two Catalogs (two connections, as two processes) on
// one file: concurrent writers, job claims and compare-and-set races.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOwner;
using catalog_testing::MakeImage;
using catalog_testing::MakeSnapshot;

constexpr int kThreads = 8;

// One CreateImage's records: a snapshot, an image mapping it, a tag and a job, in one
// transaction of `catalog`.
Status WriteImageRecords(Catalog& catalog, const std::string& name) {
  Snapshot snap = MakeSnapshot();
  Image image = MakeImage(name);
  image.block_device_mappings = {{.device_name = "/dev/xvda", .snapshot_id = snap.snapshot_id}};
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  RETURN_IF_ERROR(tx.snapshots().Insert(snap));
  RETURN_IF_ERROR(tx.images().Insert(image));
  RETURN_IF_ERROR(tx.tags().Set(image.image_id, {{"", "Name", name}}));
  RETURN_IF_ERROR(tx.jobs().Enqueue("create-image", image.image_id, "{}").status());
  RETURN_IF_ERROR(tx.Commit());
  // Read after write, outside the transaction, from this thread.
  ASSIGN_OR_RETURN(Image read, catalog.images().Get(image.image_id));
  if (read.name != name) return InternalError("read back another image");
  return Status::Ok();
}

using ConcurrencyTest = CatalogTest;

TEST_F(ConcurrencyTest, ManyThreadsWriteTransactionsAndRead) {
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread && results[t].ok(); ++i) {
        results[t] =
            WriteImageRecords(catalog(), "t" + std::to_string(t) + "-" + std::to_string(i));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) EXPECT_OK(s);
  EXPECT_EQ(catalog().images().List({.owner_id = kOwner})->size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(catalog().jobs().ListUnfinished()->size(), size_t{kThreads * kPerThread});
  EXPECT_OK(catalog().CheckIntegrity());
}

TEST_F(ConcurrencyTest, EveryJobIsClaimedExactlyOnce) {
  constexpr int kJobs = 300;
  for (int i = 0; i < kJobs; ++i) ASSERT_OK(catalog().jobs().Enqueue("snapshot", "s", "{}"));
  std::mutex mu;
  std::map<std::string, int> claims;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        Result<std::optional<Job>> job = catalog().jobs().ClaimNext();
        if (!job.ok()) {
          ++errors;
          return;
        }
        if (!job->has_value()) return;
        std::lock_guard<std::mutex> lock(mu);
        ++claims[(*job)->job_id];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claims.size(), size_t{kJobs});
  for (const auto& [id, count] : claims) EXPECT_EQ(count, 1) << id;
  std::vector<Job> unfinished = catalog().jobs().ListUnfinished().value();
  for (const Job& job : unfinished) {
    EXPECT_EQ(job.state, JobState::kRunning);
    EXPECT_EQ(job.attempts, 1);
  }
}

TEST_F(ConcurrencyTest, CompareAndSetHasOneWinner) {
  constexpr int kImages = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < kImages; ++i) {
    Image image = MakeImage("race-" + std::to_string(i));
    ASSERT_OK(catalog().images().Insert(image));
    ids.push_back(image.image_id);
  }
  std::atomic<int> wins{0}, lost{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (const std::string& id : ids) {
        Status s = catalog().images().UpdateState(id, ImageState::kPending, ImageState::kAvailable);
        if (s.ok()) {
          ++wins;
        } else if (s.code() == Code::kFailedPrecondition) {
          ++lost;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wins.load(), kImages);
  EXPECT_EQ(lost.load(), kImages * (kThreads - 1));
  EXPECT_EQ(other.load(), 0);
}

TEST_F(ConcurrencyTest, TwoCatalogsOnOneFileWaitForEachOther) {
  // A second connection, as `kilnd account create` beside a running kilnd.
  Result<std::unique_ptr<Catalog>> second = Catalog::Open(path_, clock_);
  ASSERT_OK(second);
  constexpr int kPerCatalog = 60;
  Status first_result, second_result;
  std::thread a([&] {
    for (int i = 0; i < kPerCatalog && first_result.ok(); ++i) {
      first_result = WriteImageRecords(catalog(), "a-" + std::to_string(i));
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kPerCatalog && second_result.ok(); ++i) {
      second_result = WriteImageRecords(**second, "b-" + std::to_string(i));
    }
  });
  a.join();
  b.join();
  EXPECT_OK(first_result);
  EXPECT_OK(second_result);
  // Each connection sees everything the other committed.
  EXPECT_EQ(catalog().images().List({})->size(), size_t{2 * kPerCatalog});
  EXPECT_EQ((*second)->images().List({})->size(), size_t{2 * kPerCatalog});
  EXPECT_OK((*second)->CheckIntegrity());
}

}  // namespace
}  // namespace kiln
