// JobQueue: durable jobs for long work (snapshot capture, image creation, hydration). Obtain
// it from Catalog or Transaction (catalog.h states the errors and thread-safety all tables
// share). Enqueue a job in the same Transaction as the records it works for, so neither
// exists without the other.
//
// Life of a job: queued -> running (ClaimNext; attempts + 1) -> done (Finish) or failed
// (Fail). Every move is a compare-and-set, so two workers never both run a job, and a worker
// whose job was taken from it (e.g. failed by recovery) learns so from FailedPrecondition.
// After a restart, ListUnfinished gives the queued and running jobs: the running ones were
// interrupted, and recovery either Requeues or Fails each.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class JobQueue {
 public:
  explicit JobQueue(TableContext ctx) : ctx_(ctx) {}

  // Adds a queued job with a fresh id, stamped with the catalog's clock, and returns it.
  // InvalidArgument for an empty kind.
  Result<Job> Enqueue(const std::string& kind, const std::string& resource_id,
                      const std::string& payload);
  // NotFound if there is no such job.
  Result<Job> Get(const std::string& job_id);

  // Atomically takes the oldest queued job (of one of `kinds`; any kind if empty), marks it
  // running with attempts + 1, and returns it; nullopt if there is none.
  Result<std::optional<Job>> ClaimNext(const std::vector<std::string>& kinds = {});
  // Takes this queued job: queued -> running with attempts + 1 (for a worker that enqueued the
  // job itself and holds its in-memory state). FailedPrecondition if it is not queued.
  Status Claim(const std::string& job_id);
  // running -> done.
  Status Finish(const std::string& job_id);
  // running -> failed, keeping `error` as the reason.
  Status Fail(const std::string& job_id, const std::string& error);
  // Any unfinished state (queued or running) -> failed: for recovery and cancellation.
  Status Abandon(const std::string& job_id, const std::string& error);
  // running -> queued (an interrupted job, to run again; attempts is kept).
  Status Requeue(const std::string& job_id);
  // Replaces the payload of a running job (a checkpoint of its progress).
  Status SetPayload(const std::string& job_id, const std::string& payload);

  // The queued and running jobs, oldest first.
  Result<std::vector<Job>> ListUnfinished();
  // The jobs working for a resource, oldest first.
  Result<std::vector<Job>> ListForResource(const std::string& resource_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
