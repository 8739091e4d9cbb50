#include "bench/fio.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "env/subprocess.h"

namespace kiln::bench {
namespace {

using nlohmann::json;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// obj[key] when it is a number, else 0 (json::value would throw on a mistyped field).
double Number(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0;
}

std::vector<std::string> FioArgs(const FioJob& job, const std::string& target, uint64_t size,
                                 int runtime_seconds, const std::string& json_path) {
  std::vector<std::string> args = {
      "fio",
      "--name=" + job.name,
      "--filename=" + target,
      "--rw=" + job.rw,
      "--bs=" + std::to_string(job.block_bytes),
      "--iodepth=" + std::to_string(job.iodepth),
      "--ioengine=libaio",
      "--direct=1",
      "--size=" + std::to_string(size),
      // A sparse target stays sparse: the first write allocates, on the raw file as on the
      // volume's data file under FUSE.
      "--fallocate=none",
      "--randrepeat=1",  // the same offsets on every target
      "--output-format=json",
      "--output=" + json_path,
  };
  if (job.capped) args.push_back("--runtime=" + std::to_string(runtime_seconds));
  if (job.end_fsync) args.push_back("--end_fsync=1");
  return args;
}

}  // namespace

Result<std::string> FioVersion() {
  auto r = RunCommand({"fio", "--version"});
  if (!r.ok() || r->exit_code != 0) {
    return FailedPreconditionError("fio is not installed (apt-get install fio)");
  }
  return FirstLine(r->output);
}

Result<FioResult> RunFio(FileSystem& fs, const FioJob& job, const std::string& target,
                         uint64_t size, int runtime_seconds, const std::string& json_path) {
  ASSIGN_OR_RETURN(CommandResult r,
                   RunCommand(FioArgs(job, target, size, runtime_seconds, json_path)));
  if (r.exit_code != 0) {
    return IoError("fio " + job.name + " on " + target + " exited with " +
                   std::to_string(r.exit_code) + ": " + r.output);
  }
  ASSIGN_OR_RETURN(Bytes report, ReadFile(fs, json_path));
  Result<FioResult> parsed =
      ParseFioJson(AsString(report), job.rw.find("write") != std::string::npos);
  if (!parsed.ok()) return parsed.status().Annotate("fio " + job.name + " on " + target);
  return parsed;
}

Result<FioResult> ParseFioJson(std::string_view text, bool write) {
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("fio report is not JSON");
  if (!j.contains("jobs") || !j["jobs"].is_array() || j["jobs"].empty()) {
    return InvalidArgumentError("fio report has no jobs");
  }
  const json& job = j["jobs"][0];
  if (const double error = Number(job, "error"); error != 0) {
    return InternalError("fio recorded error " + std::to_string(static_cast<int>(error)));
  }
  const char* section = write ? "write" : "read";
  if (!job.contains(section) || !job[section].is_object()) {
    return InvalidArgumentError(std::string("fio report has no ") + section + " figures");
  }
  const json& s = job[section];
  FioResult r;
  r.bytes = static_cast<uint64_t>(Number(s, "io_bytes"));
  r.runtime_ms = static_cast<uint64_t>(Number(s, "runtime"));
  r.mbps = Number(s, "bw_bytes") / 1e6;
  r.iops = Number(s, "iops");
  if (s.contains("lat_ns")) r.mean_latency_us = Number(s["lat_ns"], "mean") / 1e3;
  if (r.bytes == 0) return InvalidArgumentError(std::string("fio moved no ") + section + " bytes");
  return r;
}

}  // namespace kiln::bench
