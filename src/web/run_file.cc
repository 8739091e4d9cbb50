#include "web/run_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kiln {
namespace {

std::string PathIn(const std::string& dir) { return dir + "/kilnd.json"; }

Status Errno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }

}  // namespace

std::string RunDir() {
  const char* env = std::getenv("KILN_RUN_DIR");
  return env && *env ? env : "/run/kiln";
}

std::string EndpointUrl(const std::string& host, uint16_t port) {
  std::string h = host;
  if (h == "0.0.0.0" || h.empty()) h = "127.0.0.1";
  if (h == "::") h = "::1";
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return "http://" + h + ":" + std::to_string(port);
}

Status WriteRunFile(const std::string& dir, const std::string& endpoint,
                    const std::string& data_dir, pid_t pid) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  const std::string text =
      nlohmann::json{{"endpoint", endpoint}, {"dataDir", data_dir}, {"pid", pid}}.dump() + "\n";
  const std::string tmp = PathIn(dir) + ".tmp." + std::to_string(pid);
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot write " + tmp);
  // The umask must not narrow it: every user's `kiln` reads it.
  bool ok = fchmod(fd, 0644) == 0 &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  const Status failed = ok ? Status::Ok() : Errno("cannot write " + tmp);
  close(fd);
  if (ok && rename(tmp.c_str(), PathIn(dir).c_str()) != 0) {
    const Status s = Errno("cannot rename " + tmp);
    unlink(tmp.c_str());
    return s;
  }
  if (!ok) unlink(tmp.c_str());
  return failed;
}

Status RemoveRunFile(const std::string& dir, pid_t pid) {
  std::ifstream in(PathIn(dir));
  if (!in) return Status::Ok();
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer() ||
      j["pid"].get<int64_t>() != pid) {
    return Status::Ok();  // not ours (or not a run file we wrote): leave it
  }
  if (unlink(PathIn(dir).c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove " + PathIn(dir));
  }
  return Status::Ok();
}

}  // namespace kiln
