#include "bench/blockdev_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"

namespace kiln::bench {
namespace {

constexpr uint32_t kMiB = 1 << 20;
constexpr uint32_t kPage = 4096;

std::string Latency(double us) {
  return us >= 1000 ? fmt::format("{:.2f} ms", us / 1000) : fmt::format("{:.0f} us", us);
}

// The job's figure as people read it: MB/s for sequential jobs, IOPS for random ones.
std::string Figure(const BlockdevJob& job, const FioResult& f) {
  return job.random ? fmt::format("{:.0f} IOPS", f.iops) : fmt::format("{:.1f} MB/s", f.mbps);
}

// Both are the same job on the same block size, so MB/s and IOPS give the same ratio.
double Ratio(const FioResult& f, const FioResult& limit) {
  return limit.mbps == 0 ? 0 : f.mbps / limit.mbps;
}

std::string RatioText(const BlockdevJobFigures& f, const BlockdevJobFigures* limit) {
  return limit == nullptr ? "" : fmt::format("x{:.2f}", Ratio(f.fio, limit->fio));
}

const BlockdevJobFigures* LimitOf(const BlockdevReport& r, size_t job) {
  if (r.targets.empty() || job >= r.targets[0].jobs.size()) return nullptr;
  return &r.targets[0].jobs[job];
}

void PrintJobTable(const BlockdevReport& r, size_t j) {
  fmt::print("\n{}\n", BlockdevJobs()[j].label);
  fmt::print("  {:<56} {:>9} {:>9} {:>10} {:>7} {:>11} {:>5}\n", "target", "MB/s", "IOPS",
             "mean lat", "x limit", "server CPU", "busy");
  for (const BlockdevTarget& t : r.targets) {
    if (j >= t.jobs.size()) continue;
    const BlockdevJobFigures& f = t.jobs[j];
    fmt::print("  {:<56} {:>9.1f} {:>9.0f} {:>10} {:>7} {:>9.2f} s {:>4.0f}%\n", t.label,
               f.fio.mbps, f.fio.iops, Latency(f.fio.mean_latency_us), RatioText(f, LimitOf(r, j)),
               f.server_cpu_seconds, f.machine_busy * 100);
  }
}

void PrintSummary(const BlockdevReport& r) {
  fmt::print("\nSummary ({} per target, fio {}; (xN) = ratio to the plain file)\n\n",
             FormatBytes(r.size), r.fio_version);
  std::string header = "| target |";
  std::string rule = "|---|";
  for (const BlockdevJob& job : BlockdevJobs()) {
    header += " " + job.label + " |";
    rule += "---|";
  }
  fmt::print("{}\n{}\n", header, rule);
  for (const BlockdevTarget& t : r.targets) {
    if (t.jobs.empty()) continue;
    std::string row = "| " + t.label + " |";
    for (size_t j = 0; j < t.jobs.size(); ++j) {
      const BlockdevJobFigures* limit = &t == &r.targets[0] ? nullptr : LimitOf(r, j);
      const std::string ratio = limit ? " (" + RatioText(t.jobs[j], limit) + ")" : "";
      row += " " + Figure(BlockdevJobs()[j], t.jobs[j].fio) + ratio + " |";
    }
    fmt::print("{}\n", row);
  }
}

nlohmann::json JobJson(const BlockdevJobFigures& f, const BlockdevJobFigures* limit) {
  nlohmann::json j = {{"bytes", f.fio.bytes},
                      {"runtime_ms", f.fio.runtime_ms},
                      {"mbps", f.fio.mbps},
                      {"iops", f.fio.iops},
                      {"mean_latency_us", f.fio.mean_latency_us},
                      {"server_cpu_seconds", f.server_cpu_seconds},
                      {"machine_busy", f.machine_busy}};
  if (limit != nullptr) j["ratio_to_limit"] = Ratio(f.fio, limit->fio);
  return j;
}

}  // namespace

const std::vector<BlockdevJob>& BlockdevJobs() {
  static const std::vector<BlockdevJob> jobs = {
      {{"fill", "write", kMiB, 16, /*capped=*/false, /*end_fsync=*/true},
       "first write of the whole target, 1 MiB, iodepth 16",
       false},
      {{"seqwrite", "write", kMiB, 16, true, true}, "sequential write 1 MiB, iodepth 16", false},
      {{"seqread", "read", kMiB, 16, true, false}, "sequential read 1 MiB, iodepth 16", false},
      {{"randread", "randread", kPage, 32, true, false}, "random read 4 KiB, iodepth 32", true},
      {{"randwrite", "randwrite", kPage, 32, true, true}, "random write 4 KiB, iodepth 32", true},
  };
  return jobs;
}

void PrintJobLine(const BlockdevTarget& t, size_t job, const BlockdevJobFigures* limit) {
  const BlockdevJobFigures& f = t.jobs[job];
  fmt::print(
      "  {:<10} {:>9.1f} MB/s {:>9.0f} IOPS  mean lat {:>9}  {:<6} server CPU {:.2f} s, "
      "machine {:.0f}% busy\n",
      BlockdevJobs()[job].fio.name, f.fio.mbps, f.fio.iops, Latency(f.fio.mean_latency_us),
      RatioText(f, limit), f.server_cpu_seconds, f.machine_busy * 100);
}

void PrintBlockdevTables(const BlockdevReport& r) {
  for (size_t j = 0; j < BlockdevJobs().size(); ++j) PrintJobTable(r, j);
  PrintSummary(r);
}

Status WriteBlockdevJson(FileSystem& fs, const std::string& path, const BlockdevReport& r) {
  using nlohmann::json;
  json j;
  j["size_bytes"] = r.size;
  j["runtime_seconds"] = r.runtime_seconds;
  j["work_dir"] = r.work_dir;
  j["fio_version"] = r.fio_version;
  j["kernel"] = r.kernel;
  j["fuse_threads"] = r.fuse_threads;
  j["max_request_bytes"] = r.max_request_bytes;
  j["loop_direct_io_asked"] = r.loop_direct_io_asked;
  j["load_average_start"] = r.load_start;
  j["load_average_end"] = r.load_end;
  j["notes"] = r.notes;
  j["targets"] = json::array();
  for (const BlockdevTarget& t : r.targets) {
    json target = {{"key", t.key},
                   {"label", t.label},
                   {"path", t.path},
                   {"encrypted", t.encrypted},
                   {"via_loop", t.via_loop}};
    if (t.via_loop) target["loop_direct_io"] = t.loop_direct_io;
    for (size_t i = 0; i < t.jobs.size(); ++i) {
      const BlockdevJob& job = BlockdevJobs()[i];
      json fig = JobJson(t.jobs[i], &t == &r.targets[0] ? nullptr : LimitOf(r, i));
      fig["rw"] = job.fio.rw;
      fig["block_bytes"] = job.fio.block_bytes;
      fig["iodepth"] = job.fio.iodepth;
      target["jobs"][job.fio.name] = std::move(fig);
    }
    j["targets"].push_back(std::move(target));
  }
  return WriteFileAtomic(fs, path, AsBytes(j.dump(2) + "\n"));
}

}  // namespace kiln::bench
