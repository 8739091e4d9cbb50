#include "catalog/job_queue.h"

#include "catalog/db.h"
#include "catalog/ids.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kJobColumns[] =
    "job_id, kind, resource_id, state, payload, attempts, error, created_micros, "
    "updated_micros";

Result<Job> ReadJob(const Stmt& s) {
  Job job;
  job.job_id = s.Text(0);
  job.kind = s.Text(1);
  job.resource_id = s.Text(2);
  Result<JobState> state = ParseJobState(s.Text(3));
  if (!state.ok()) return CorruptionError("job " + job.job_id + ": " + state.status().message());
  job.state = *state;
  job.payload = s.Text(4);
  job.attempts = static_cast<int>(s.Int(5));
  job.error = s.Text(6);
  job.created_micros = static_cast<uint64_t>(s.Int(7));
  job.updated_micros = static_cast<uint64_t>(s.Int(8));
  return job;
}

Result<std::vector<Job>> QueryJobs(Db& db, const std::string& where, const std::string& arg) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kJobColumns +
                                         " FROM jobs WHERE " + where + " ORDER BY seq"));
  if (!arg.empty()) stmt.Bind(arg);
  return ci::ReadAllChecked<Job>(stmt, ReadJob);
}

// Moves a job from `from` (an SQL list of quoted states) to `to`; a compare-and-set.
Status Move(Db& db, const std::string& job_id, const char* from, JobState to,
            const std::string* error) {
  std::string sql = "UPDATE jobs SET state = ?, updated_micros = ?";
  if (error != nullptr) sql += ", error = ?";
  sql += " WHERE job_id = ? AND state IN (" + std::string(from) + ")";
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  stmt.Bind(ToString(to), db.clock().WallMicros());
  if (error != nullptr) stmt.Bind(*error);
  RETURN_IF_ERROR(stmt.Bind(job_id).Run());
  if (db.Changes() == 0) {
    std::string expected(from);
    std::erase(expected, '\'');
    return ci::CasFailure(db, "jobs", "job_id", "job", job_id, expected);
  }
  return Status::Ok();
}

Result<std::optional<Job>> ClaimOldest(Db& db, const std::vector<std::string>& kinds) {
  std::string pick = "SELECT seq FROM jobs WHERE state = 'queued'";
  if (!kinds.empty()) {
    pick += " AND kind IN (?";
    for (size_t i = 1; i < kinds.size(); ++i) pick += ", ?";
    pick += ")";
  }
  pick += " ORDER BY seq LIMIT 1";
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("UPDATE jobs SET state = 'running', "
                                         "attempts = attempts + 1, updated_micros = ? "
                                         "WHERE seq = (" +
                                         pick + ") RETURNING " + kJobColumns));
  stmt.Bind(db.clock().WallMicros());
  for (const std::string& kind : kinds) stmt.Bind(kind);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Job>();
  ASSIGN_OR_RETURN(Job job, ReadJob(stmt));
  RETURN_IF_ERROR(stmt.Run());
  return std::optional<Job>(std::move(job));
}

}  // namespace

Result<Job> JobQueue::Enqueue(const std::string& kind, const std::string& resource_id,
                              const std::string& payload) {
  if (kind.empty()) return InvalidArgumentError("a job needs a kind");
  ASSIGN_OR_RETURN(std::string job_id, NewId("job"));
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Result<Job> {
    uint64_t now = db.clock().WallMicros();
    Job job{job_id, kind, resource_id, JobState::kQueued, payload, 0, "", now, now};
    RETURN_IF_ERROR(ci::Change(db,
                               "INSERT INTO jobs (job_id, kind, resource_id, state, payload, "
                               "attempts, error, created_micros, updated_micros) "
                               "VALUES (?, ?, ?, 'queued', ?, 0, '', ?, ?)",
                               job.job_id, job.kind, job.resource_id, job.payload, now, now)
                        .status());
    return job;
  });
}

Result<Job> JobQueue::Get(const std::string& job_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<Job> {
    ASSIGN_OR_RETURN(std::vector<Job> jobs, QueryJobs(*ctx_.db, "job_id = ?", job_id));
    if (jobs.empty()) return ci::NotFoundFor("job", job_id);
    return std::move(jobs.front());
  });
}

Result<std::optional<Job>> JobQueue::ClaimNext(const std::vector<std::string>& kinds) {
  return ctx_.db->Write(ctx_, [&] { return ClaimOldest(*ctx_.db, kinds); });
}

Status JobQueue::Finish(const std::string& job_id) {
  return ctx_.db->Write(
      ctx_, [&] { return Move(*ctx_.db, job_id, "'running'", JobState::kDone, nullptr); });
}

Status JobQueue::Fail(const std::string& job_id, const std::string& error) {
  return ctx_.db->Write(
      ctx_, [&] { return Move(*ctx_.db, job_id, "'running'", JobState::kFailed, &error); });
}

Status JobQueue::Abandon(const std::string& job_id, const std::string& error) {
  return ctx_.db->Write(ctx_, [&] {
    return Move(*ctx_.db, job_id, "'queued', 'running'", JobState::kFailed, &error);
  });
}

Status JobQueue::Claim(const std::string& job_id) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db,
                                "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                                "updated_micros = ? WHERE job_id = ? AND state = 'queued'",
                                db.clock().WallMicros(), job_id));
    if (changed == 0) return ci::CasFailure(db, "jobs", "job_id", "job", job_id, "queued");
    return Status::Ok();
  });
}

Status JobQueue::Requeue(const std::string& job_id) {
  return ctx_.db->Write(
      ctx_, [&] { return Move(*ctx_.db, job_id, "'running'", JobState::kQueued, nullptr); });
}

Status JobQueue::SetPayload(const std::string& job_id, const std::string& payload) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed, ci::Change(db,
                                                 "UPDATE jobs SET payload = ?, updated_micros = ? "
                                                 "WHERE job_id = ? AND state = 'running'",
                                                 payload, db.clock().WallMicros(), job_id));
    if (changed == 0) return ci::CasFailure(db, "jobs", "job_id", "job", job_id, "running");
    return Status::Ok();
  });
}

Result<std::vector<Job>> JobQueue::ListUnfinished() {
  return ctx_.db->Read(ctx_,
                       [&] { return QueryJobs(*ctx_.db, "state IN ('queued', 'running')", ""); });
}

Result<std::vector<Job>> JobQueue::ListForResource(const std::string& resource_id) {
  return ctx_.db->Read(ctx_, [&] { return QueryJobs(*ctx_.db, "resource_id = ?", resource_id); });
}

}  // namespace kiln
