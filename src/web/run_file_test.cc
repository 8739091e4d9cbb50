// kilnd.json: written atomically with its fields and mode, removed only by its own pid.
#include "web/run_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "env/env_testing.h"

namespace kiln {
namespace {

nlohmann::json Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

TEST(RunFileTest, WritesAndRemovesOnlyItsOwn) {
  env_testing::TempDir tmp("kiln_run");
  const std::string dir = tmp.path() + "/run/kiln";  // created as needed
  const mode_t old = umask(077);
  ASSERT_TRUE(WriteRunFile(dir, "http://127.0.0.1:8787", "/data/dir", 1234).ok());
  umask(old);
  const auto j = Read(dir + "/kilnd.json");
  EXPECT_EQ(j["endpoint"], "http://127.0.0.1:8787");
  EXPECT_EQ(j["dataDir"], "/data/dir");
  EXPECT_EQ(j["pid"], 1234);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/kilnd.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1)
      << "no temporary file left";

  EXPECT_TRUE(RemoveRunFile(dir, 999).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/kilnd.json")) << "another pid's file stays";
  EXPECT_TRUE(RemoveRunFile(dir, 1234).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/kilnd.json"));
  EXPECT_TRUE(RemoveRunFile(dir, 1234).ok()) << "absent is fine";
  std::ofstream(dir + "/kilnd.json") << "garbage";
  EXPECT_TRUE(RemoveRunFile(dir, 1234).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/kilnd.json"));
}

TEST(RunFileTest, EndpointUrls) {
  EXPECT_EQ(EndpointUrl("127.0.0.1", 8787), "http://127.0.0.1:8787");
  EXPECT_EQ(EndpointUrl("0.0.0.0", 80), "http://127.0.0.1:80");
  EXPECT_EQ(EndpointUrl("::", 80), "http://[::1]:80");
  EXPECT_EQ(EndpointUrl("::1", 80), "http://[::1]:80");
  EXPECT_EQ(EndpointUrl("10.1.2.3", 1), "http://10.1.2.3:1");
}

TEST(RunFileTest, RunDirComesFromTheEnvironment) {
  setenv("KILN_RUN_DIR", "/tmp/somewhere", 1);
  EXPECT_EQ(RunDir(), "/tmp/somewhere");
  unsetenv("KILN_RUN_DIR");
  EXPECT_EQ(RunDir(), "/run/kiln");
}

}  // namespace
}  // namespace kiln
