#include "bench/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "store/block_map.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kGoalMillis = 50;
constexpr double kEncryptedGoal = 1.15;  // issue 3: encrypted full snapshot within 15%

void Row(const std::string& label, const std::string& value, const std::string& comment = "") {
  fmt::print("  {:<48} {:>14}  {}\n", label, value, comment);
}
std::string Num(double v, int digits = 1) { return fmt::format("{:.{}f}", v, digits); }
std::string MBs(double v) { return Num(v) + " MB/s"; }
std::string Ms(uint64_t micros) { return Num(Millis(micros), 2) + " ms"; }
std::string Secs(uint64_t micros) { return Num(static_cast<double>(micros) / 1e6, 3) + " s"; }
std::string Times(double v) { return "x" + Num(v, 2); }

double Ratio(uint64_t a, uint64_t b) {
  return b == 0 ? 0 : static_cast<double>(a) / static_cast<double>(b);
}

uint64_t Median(std::vector<uint64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double MaxOf(const std::vector<uint64_t>& v) {
  return v.empty() ? 0 : static_cast<double>(*std::max_element(v.begin(), v.end()));
}

void Goal(bool met, const std::string& what, const std::string& figures) {
  fmt::print("  {:<9} {}\n            {}\n", met ? "MET" : "NOT MET", what, figures);
}
void GoalUnmeasured(const std::string& what, const std::string& why) {
  fmt::print("  {:<9} {}\n            {}\n", "SKIPPED", what, why);
}

}  // namespace

void PrintLimits(const MachineLimits& m) {
  fmt::print(
      "\nMachine limits (measured now, on {} of the image's non-zero data, 512 KiB blocks)\n",
      FormatBytes(m.sample_bytes));
  Row("SHA-256, 1 core (OpenSSL)", MBs(m.sha256_mbps));
  Row("zstd level 1 compress, 1 core (libzstd)", MBs(m.zstd1_mbps),
      "ratio " + Times(m.zstd1_ratio));
  Row("sequential write, " + m.disk_write_method, MBs(m.disk_write_mbps),
      FormatBytes(m.disk_write_bytes) + " written");
  Row("per core = 1/(1/sha256 + 1/zstd1)", MBs(m.per_core_mbps));
  Row(fmt::format("limit = min({} cores x {:.1f}, {:.1f})", m.cores, m.per_core_mbps,
                  m.disk_write_mbps),
      MBs(m.limit_mbps));
  if (!m.crypto) return;
  const CryptoLimits& c = *m.crypto;
  fmt::print("Encrypted path (kiln's src/crypto over OpenSSL EVP, same data)\n");
  Row("AES-256-GCM seal, 512 KiB, 1 thread", MBs(c.gcm_mbps));
  Row(fmt::format("AES-256-GCM seal, 512 KiB, {} threads", c.gcm_threads), MBs(c.gcm_all_mbps),
      "all together");
  Row("AES-256-XTS encrypt, 4 KiB sectors, 1 thread", MBs(c.xts_mbps));
  Row("HMAC-SHA-256, 8 + 4096 B (sector tags), 1 thread", MBs(c.hmac_sector_mbps));
  Row("HMAC-SHA-256, 512 KiB (chunk ids), 1 thread", MBs(c.hmac_block_mbps));
  Row("encrypted per core (tag, XTS, id, zstd, GCM/x" + Num(m.zstd1_ratio, 2) + ")",
      MBs(c.per_core_mbps), "1/(sum of 1/rate)");
  Row(fmt::format("encrypted limit = min({} x {:.1f}, {:.1f})", m.cores, c.per_core_mbps,
                  m.disk_write_mbps),
      MBs(c.limit_mbps));
}

void PrintFull(const FullFigures& f, const MachineLimits& m) {
  fmt::print("\nkiln full snapshot (every block of the volume dirty)\n");
  Row("time (Start + Run)", Secs(f.micros));
  Row("throughput of the volume (" + FormatBytes(f.logical_bytes) + ")",
      MBs(Mbps(f.logical_bytes, f.micros)));
  Row("throughput of non-zero data (" + FormatBytes(f.nonzero_bytes) + ")",
      MBs(Mbps(f.nonzero_bytes, f.micros)));
  Row("blocks / zero blocks", fmt::format("{} / {}", f.blocks, f.zero_blocks));
  Row("chunks stored", std::to_string(f.chunks_stored));
  Row("bytes stored", FormatBytes(f.bytes_stored));
  Row("compression (non-zero data / stored)", Times(Ratio(f.nonzero_bytes, f.bytes_stored)));
  Row("non-zero throughput / limit", Num(Mbps(f.nonzero_bytes, f.micros) / m.limit_mbps, 2));
}

void PrintPeerFull(const PeerFigures& p, const FullFigures& f) {
  fmt::print("\nrestic full backup of the same image as a file ({})\n", p.version);
  fmt::print("  settings: {}\n", p.settings);
  Row("time", Secs(p.full_micros));
  Row("throughput of the file (" + FormatBytes(f.logical_bytes) + ")",
      MBs(Mbps(f.logical_bytes, p.full_micros)));
  Row("repository size", FormatBytes(p.full_repo_bytes));
  Row("kiln / restic throughput", Times(Ratio(p.full_micros, f.micros)));
}

void PrintIncremental(const IncrementalFigures& i, const FullFigures& f,
                      const std::optional<PeerFigures>& p) {
  fmt::print(
      "\nIncremental snapshot after changing {} of the volume's blocks (1%, 512 KiB each, "
      "random)\n",
      i.blocks_changed);
  Row("kiln time", Ms(i.micros));
  Row("kiln chunks / bytes stored",
      fmt::format("{} / {}", i.chunks_stored, FormatBytes(i.bytes_stored)));
  Row("kiln incremental / full time", Num(100.0 * Ratio(i.micros, f.micros), 2) + " %");
  if (!p) return;
  Row("restic second backup time", Secs(p->incremental_micros));
  Row("restic repository growth", FormatBytes(p->incremental_repo_bytes));
  Row("kiln / restic speed (restic time / kiln time)",
      Times(Ratio(p->incremental_micros, i.micros)));
}

void PrintUnchanged(const UnchangedFigures& u) {
  Row("unchanged snapshot, " + FormatBytes(u.size) + " volume", Ms(u.micros));
}

void PrintRestore(const RestoreFigures& r, const std::string& snapshot) {
  const std::string what = snapshot == "full" ? "create volume from snapshot" : "from " + snapshot;
  Row(what + ", " + FormatBytes(r.size) + ", to ready", Ms(r.ready_micros));
}

void PrintLazy(const LazyReadFigures& l) {
  if (!l.micros.empty()) {
    Row(fmt::format("first read of a lazy block, median of {}", l.micros.size()),
        Ms(Median(l.micros)), "4 KiB read, fetches the 512 KiB chunk");
    Row("first read of a lazy block, max", Ms(*std::max_element(l.micros.begin(), l.micros.end())));
  }
  Row("hydration (" + FormatBytes(l.hydrate_bytes) + " of non-zero blocks)",
      MBs(Mbps(l.hydrate_bytes, l.hydrate_micros)), Secs(l.hydrate_micros));
}

void PrintDedup(const DedupFigures& d) {
  fmt::print(
      "\nDeduplication: {} volumes created from the full snapshot, {} of each one's blocks (1%) "
      "changed, each snapshotted\n",
      d.volumes, d.blocks_changed_each);
  Row("base stored", FormatBytes(d.base_bytes));
  Row("stored by the derived snapshots together", FormatBytes(d.derived_bytes));
  Row("(base + derived) / base", Times(Ratio(d.base_bytes + d.derived_bytes, d.base_bytes)));
  Row("stored / logical (" + FormatBytes(d.logical_bytes) + ")",
      Num(Ratio(d.base_bytes + d.derived_bytes, d.logical_bytes), 4));
  Row("derived snapshot time, mean",
      Ms(d.volumes == 0 ? 0 : d.snapshot_micros_total / static_cast<uint64_t>(d.volumes)));
}

void PrintEncryptedFull(const FullFigures& e, const FullFigures& plain, const MachineLimits& m) {
  fmt::print(
      "\nkiln encrypted full snapshot (same image in a new encrypted volume: AES-XTS sectors with "
      "tags on disk, chunks sealed with AES-GCM)\n");
  Row("time (Start + Run)", Secs(e.micros));
  Row("throughput of the volume (" + FormatBytes(e.logical_bytes) + ")",
      MBs(Mbps(e.logical_bytes, e.micros)));
  Row("throughput of non-zero data (" + FormatBytes(e.nonzero_bytes) + ")",
      MBs(Mbps(e.nonzero_bytes, e.micros)));
  Row("chunks / bytes stored",
      fmt::format("{} / {}", e.chunks_stored, FormatBytes(e.bytes_stored)));
  Row("encrypted / unencrypted time", Times(Ratio(e.micros, plain.micros)),
      fmt::format("unencrypted {} this run; goal <= x{:.2f}", Secs(plain.micros), kEncryptedGoal));
  if (!m.crypto) return;
  const CryptoLimits& c = *m.crypto;
  const double nonzero = Mbps(e.nonzero_bytes, e.micros);
  Row("non-zero throughput / encrypted limit", Num(nonzero / c.limit_mbps, 2),
      fmt::format("{:.1f} / {:.1f} MB/s", nonzero, c.limit_mbps));
  Row("non-zero throughput / AES-GCM, all threads", Num(nonzero / c.gcm_all_mbps, 3));
  Row("CPU-bound encrypted / unencrypted (from limits)", Times(m.per_core_mbps / c.per_core_mbps),
      "what the extra crypto alone would cost");
}

void PrintEncryptedLazy(const LazyReadFigures& e, const LazyReadFigures& plain,
                        const MachineLimits& m) {
  if (!e.micros.empty()) {
    const uint64_t median = Median(e.micros);
    Row(fmt::format("lazy first read, encrypted, median of {}", e.micros.size()), Ms(median),
        fmt::format("unencrypted {}: {}", Ms(Median(plain.micros)),
                    Times(Ratio(median, Median(plain.micros)))));
    Row("lazy first read, encrypted, max", Ms(static_cast<uint64_t>(MaxOf(e.micros))),
        fmt::format("unencrypted {}", Ms(static_cast<uint64_t>(MaxOf(plain.micros)))));
    if (m.crypto) {
      const double crypto_us = m.crypto->fetch_sec_per_byte * kBlockSize * 1e6;
      const double extra_us = m.crypto->fetch_extra_sec_per_byte * kBlockSize * 1e6;
      Row("crypto of one 512 KiB fetch, from the limits", Ms(static_cast<uint64_t>(crypto_us)),
          fmt::format("{:.2f} of the median; beyond unencrypted SHA-256 {}: predicts {}",
                      crypto_us / static_cast<double>(median), Ms(static_cast<uint64_t>(extra_us)),
                      Ms(Median(plain.micros) + static_cast<uint64_t>(extra_us))));
    }
  }
  const double mbps = Mbps(e.hydrate_bytes, e.hydrate_micros);
  const double plain_mbps = Mbps(plain.hydrate_bytes, plain.hydrate_micros);
  Row("hydration, encrypted (" + FormatBytes(e.hydrate_bytes) + ")", MBs(mbps),
      fmt::format("{}; unencrypted {:.1f} MB/s: {}", Secs(e.hydrate_micros), plain_mbps,
                  Times(plain_mbps == 0 ? 0 : mbps / plain_mbps)));
  if (!m.crypto || plain_mbps == 0) return;
  // Hydration is one thread: its crypto bound is one core doing only the fetch's crypto.
  const double crypto_bound = 1e-6 / m.crypto->fetch_sec_per_byte;
  const double predicted = 1.0 / (1.0 / plain_mbps + m.crypto->fetch_extra_sec_per_byte * 1e6);
  Row("hydration, encrypted / its crypto bound (1 core)", Num(mbps / crypto_bound, 2),
      fmt::format("bound {:.1f} MB/s; unencrypted + extra crypto predicts {:.1f} MB/s",
                  crypto_bound, predicted));
}

void PrintGoals(const BenchReport& r) {
  fmt::print("\nGoals of issue 2 (figures from this run; reports, not assertions)\n");
  const FullFigures& f = r.full;
  if (r.peer) {
    Goal(r.peer->full_micros >= f.micros, "full snapshot at least as fast as restic",
         fmt::format("kiln {} vs restic {}: kiln/restic {}", Secs(f.micros),
                     Secs(r.peer->full_micros), Times(Ratio(r.peer->full_micros, f.micros))));
  } else {
    GoalUnmeasured("full snapshot at least as fast as restic", "restic skipped (--skip-peer)");
  }
  double nonzero = Mbps(f.nonzero_bytes, f.micros);
  Goal(nonzero >= 0.5 * r.limits.limit_mbps, "full snapshot >= 0.5 x the machine limit",
       fmt::format("{:.1f} MB/s of non-zero data vs limit {:.1f} MB/s: {:.2f} x", nonzero,
                   r.limits.limit_mbps, nonzero / r.limits.limit_mbps));
  const IncrementalFigures& i = r.incremental;
  Goal(i.micros * 20 < f.micros, "incremental (1%) under 5% of the full snapshot's time",
       fmt::format("{} vs {}: {:.2f} %", Ms(i.micros), Ms(f.micros),
                   100 * Ratio(i.micros, f.micros)));
  if (r.peer) {
    Goal(r.peer->incremental_micros >= 10 * i.micros,
         "incremental at least 10x faster than restic's incremental",
         fmt::format("kiln {} vs restic {}: {}", Ms(i.micros), Ms(r.peer->incremental_micros),
                     Times(Ratio(r.peer->incremental_micros, i.micros))));
  } else {
    GoalUnmeasured("incremental at least 10x faster than restic's", "restic skipped (--skip-peer)");
  }
  std::string unchanged, ready;
  bool unchanged_met = !r.unchanged.empty(), ready_met = !r.restore.empty();
  for (const auto& u : r.unchanged) {
    unchanged +=
        fmt::format("{}{}: {}", unchanged.empty() ? "" : ", ", FormatBytes(u.size), Ms(u.micros));
    unchanged_met &= u.micros < kGoalMillis * 1000;
  }
  for (const auto& c : r.restore) {
    ready +=
        fmt::format("{}{}: {}", ready.empty() ? "" : ", ", FormatBytes(c.size), Ms(c.ready_micros));
    ready_met &= c.ready_micros < kGoalMillis * 1000;
  }
  Goal(unchanged_met, "unchanged snapshot under 50 ms at both sizes", unchanged);
  Goal(ready_met, "create volume from snapshot under 50 ms at both sizes", ready);
  const DedupFigures& d = r.dedup;
  double dedup = Ratio(d.base_bytes + d.derived_bytes, d.base_bytes);
  Goal(dedup < 1.3,
       fmt::format("{} derived volumes stored in under 1.3x the base's bytes", d.volumes),
       fmt::format("base {} + derived {} = {} of base", FormatBytes(d.base_bytes),
                   FormatBytes(d.derived_bytes), Times(dedup)));
  if (!r.encrypted) return;
  fmt::print("\nGoal of issue 3 (figures from this run; reports, not assertions)\n");
  const double ratio = Ratio(r.encrypted->full.micros, f.micros);
  Goal(ratio <= kEncryptedGoal, "encrypted full snapshot within 15% of unencrypted",
       fmt::format("encrypted {} vs unencrypted {}: {}", Secs(r.encrypted->full.micros),
                   Secs(f.micros), Times(ratio)));
}

namespace {

nlohmann::json FullJson(const FullFigures& f) {
  return {{"micros", f.micros},
          {"logical_bytes", f.logical_bytes},
          {"nonzero_bytes", f.nonzero_bytes},
          {"blocks", f.blocks},
          {"zero_blocks", f.zero_blocks},
          {"chunks_stored", f.chunks_stored},
          {"bytes_stored", f.bytes_stored},
          {"logical_mbps", Mbps(f.logical_bytes, f.micros)},
          {"nonzero_mbps", Mbps(f.nonzero_bytes, f.micros)}};
}

nlohmann::json RestoreJson(const std::vector<RestoreFigures>& restore) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : restore) out.push_back({{"size", c.size}, {"ready_micros", c.ready_micros}});
  return out;
}

nlohmann::json HydrateJson(const LazyReadFigures& l) {
  return {{"bytes", l.hydrate_bytes},
          {"micros", l.hydrate_micros},
          {"mbps", Mbps(l.hydrate_bytes, l.hydrate_micros)}};
}

}  // namespace

Status WriteJson(FileSystem& fs, const std::string& path, const BenchReport& r) {
  using nlohmann::json;
  const MachineLimits& m = r.limits;
  json j;
  j["size_bytes"] = r.size;
  j["work_dir"] = r.work_dir;
  j["image"] = r.image_description;
  j["notes"] = r.notes;
  j["threads_option"] = r.threads;
  j["limits"] = {{"sample_bytes", m.sample_bytes},
                 {"sha256_mbps", m.sha256_mbps},
                 {"zstd1_mbps", m.zstd1_mbps},
                 {"zstd1_ratio", m.zstd1_ratio},
                 {"disk_write_bytes", m.disk_write_bytes},
                 {"disk_write_mbps", m.disk_write_mbps},
                 {"disk_write_method", m.disk_write_method},
                 {"cores", m.cores},
                 {"per_core_mbps", m.per_core_mbps},
                 {"limit_mbps", m.limit_mbps}};
  if (m.crypto) {
    const CryptoLimits& c = *m.crypto;
    j["limits"]["crypto"] = {{"aes256gcm_512k_mbps", c.gcm_mbps},
                             {"aes256gcm_512k_all_threads_mbps", c.gcm_all_mbps},
                             {"aes256gcm_threads", c.gcm_threads},
                             {"aes256xts_4k_mbps", c.xts_mbps},
                             {"hmac_sha256_4k_mbps", c.hmac_sector_mbps},
                             {"hmac_sha256_512k_mbps", c.hmac_block_mbps},
                             {"encrypted_per_core_mbps", c.per_core_mbps},
                             {"encrypted_limit_mbps", c.limit_mbps},
                             {"fetch_crypto_sec_per_byte", c.fetch_sec_per_byte},
                             {"fetch_extra_crypto_sec_per_byte", c.fetch_extra_sec_per_byte}};
  }
  j["full"] = FullJson(r.full);
  const IncrementalFigures& i = r.incremental;
  j["incremental"] = {{"blocks_changed", i.blocks_changed},
                      {"micros", i.micros},
                      {"chunks_stored", i.chunks_stored},
                      {"bytes_stored", i.bytes_stored}};
  for (const auto& u : r.unchanged)
    j["unchanged"].push_back({{"size", u.size}, {"micros", u.micros}});
  j["create_from_snapshot"] = RestoreJson(r.restore);
  j["lazy_read_micros"] = r.lazy.micros;
  j["hydrate"] = HydrateJson(r.lazy);
  const DedupFigures& d = r.dedup;
  j["dedup"] = {{"volumes", d.volumes},
                {"blocks_changed_each", d.blocks_changed_each},
                {"base_bytes", d.base_bytes},
                {"derived_bytes", d.derived_bytes},
                {"logical_bytes", d.logical_bytes},
                {"snapshot_micros_total", d.snapshot_micros_total}};
  if (r.peer) {
    j["restic"] = {{"version", r.peer->version},
                   {"settings", r.peer->settings},
                   {"full_micros", r.peer->full_micros},
                   {"full_repo_bytes", r.peer->full_repo_bytes},
                   {"incremental_micros", r.peer->incremental_micros},
                   {"incremental_repo_bytes", r.peer->incremental_repo_bytes}};
  }
  if (r.encrypted) {
    const EncryptedFigures& e = *r.encrypted;
    j["encrypted"] = {{"full", FullJson(e.full)},
                      {"full_time_ratio", Ratio(e.full.micros, r.full.micros)},
                      {"full_goal_ratio", kEncryptedGoal},
                      {"full_goal_met", Ratio(e.full.micros, r.full.micros) <= kEncryptedGoal},
                      {"create_from_snapshot", RestoreJson(e.restore)},
                      {"lazy_read_micros", e.lazy.micros},
                      {"hydrate", HydrateJson(e.lazy)}};
  }
  return WriteFileAtomic(fs, path, AsBytes(j.dump(2) + "\n"));
}

}  // namespace kiln::bench
