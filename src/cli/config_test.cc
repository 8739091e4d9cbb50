#include "cli/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "env/env_testing.h"

namespace kiln::cli {
namespace {

constexpr char kCreds[] =
    "# comment\n[default]\naws_access_key_id = AKIADEFAULT\n"
    "aws_secret_access_key=secretdefault\n\n; other\n[dev]\n"
    "aws_access_key_id = AKIADEV\naws_secret_access_key = secretdev\naccount_id = 1\n";

TEST(ParseIniTest, ProfilesAndKeys) {
  Result<IniFile> ini = ParseIni(kCreds, "f");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  Result<AwsCredentials> dev = ProfileCredentials(*ini, "dev", "f");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->access_key_id, "AKIADEV");
  EXPECT_EQ(dev->secret_access_key, "secretdev");
  EXPECT_EQ(ProfileCredentials(*ini, "default", "f")->secret_access_key, "secretdefault");
}

TEST(ParseIniTest, BadInput) {
  for (const char* text : {"[default\nx=1\n", "aws_access_key_id = x\n", "[a]\njust words\n",
                           "[a]\n = value\n", "[]\n"}) {
    Result<IniFile> ini = ParseIni(text, "creds");
    ASSERT_FALSE(ini.ok()) << text;
    EXPECT_EQ(ini.status().code(), Code::kInvalidArgument);
    EXPECT_NE(ini.status().message().find("creds:"), std::string::npos) << ini.status().message();
  }
}

TEST(ParseIniTest, MissingProfileOrKey) {
  Result<IniFile> ini = ParseIni("[a]\naws_access_key_id = X\n[b]\n", "f");
  ASSERT_TRUE(ini.ok());
  EXPECT_EQ(ProfileCredentials(*ini, "zzz", "f").status().code(), Code::kNotFound);
  EXPECT_NE(ProfileCredentials(*ini, "a", "f").status().message().find("aws_secret_access_key"),
            std::string::npos);
  EXPECT_FALSE(ProfileCredentials(*ini, "b", "f").ok());
}

TEST(ParseKilndJsonTest, GoodAndBad) {
  Result<KilndInfo> info =
      ParseKilndJson(R"({"endpoint": "http://127.0.0.1:8787", "dataDir": "/d", "pid": 42})", "k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->endpoint, "http://127.0.0.1:8787");
  EXPECT_EQ(info->data_dir, "/d");
  EXPECT_EQ(info->pid, 42);
  for (const char* text :
       {"", "{", "[]", R"({"endpoint": 1, "dataDir": "/d", "pid": 1})",
        R"({"endpoint": "x", "pid": 1})", R"({"endpoint": "x", "dataDir": "/d"})",
        // Found by cli_config_fuzz's review: 4294967338 used to wrap to pid 42.
        R"({"endpoint": "x", "dataDir": "/d", "pid": 4294967338})",
        R"({"endpoint": "x", "dataDir": "/d", "pid": 0})",
        R"({"endpoint": "x", "dataDir": "/d", "pid": -1})"}) {
    EXPECT_FALSE(ParseKilndJson(text, "k").ok()) << text;
  }
}

class ResolveConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(dir_.path() + "/home/.aws/credentials",
          "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = home\n"
          "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n");
    Write(dir_.path() + "/data/credentials",
          "[default]\naws_access_key_id = AKIAKILND\naws_secret_access_key = kilnd\n");
    Write(dir_.path() + "/run/kilnd.json",
          R"({"endpoint": "http://127.0.0.1:9999/", "dataDir": ")" + dir_.path() +
              R"(/data", "pid": 4242})");
    vars_ = {{"HOME", dir_.path() + "/home"}, {"KILN_RUN_DIR", dir_.path() + "/run"}};
  }
  static void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
  }
  Environment Env() {
    Environment env;
    env.get = [this](const std::string& n) -> std::optional<std::string> {
      auto it = vars_.find(n);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    env.pid_alive = [this](int pid) { return alive_ && pid == 4242; };
    return env;
  }
  env_testing::TempDir dir_;
  std::map<std::string, std::string> vars_;
  bool alive_ = true;
};

TEST_F(ResolveConfigTest, KilndJsonUsesItsDataDirCredentials) {
  Result<ResolvedConfig> c = ResolveConfig({}, Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:9999");
  EXPECT_EQ(c->endpoint_source, EndpointSource::kKilndJson);
  EXPECT_EQ(c->credentials.access_key_id, "AKIAKILND");
  EXPECT_EQ(c->region, "us-east-1");
}

TEST_F(ResolveConfigTest, ExplicitProfileOrFileOrKeysWin) {
  Result<ResolvedConfig> c = ResolveConfig({"", "other", ""}, Env());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->credentials.access_key_id, "AKIAOTHER");
  vars_["AWS_PROFILE"] = "default";
  EXPECT_EQ(ResolveConfig({}, Env())->credentials.access_key_id, "AKIAHOME");
  vars_.erase("AWS_PROFILE");
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = dir_.path() + "/home/.aws/credentials";
  EXPECT_EQ(ResolveConfig({}, Env())->credentials.access_key_id, "AKIAHOME");
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  EXPECT_EQ(ResolveConfig({}, Env())->credentials.access_key_id, "AKIAENV");
  vars_.erase("AWS_SECRET_ACCESS_KEY");
  EXPECT_FALSE(ResolveConfig({}, Env()).ok());
}

TEST_F(ResolveConfigTest, FlagAndEnvironmentEndpointUseHomeCredentials) {
  vars_["KILN_ENDPOINT_URL"] = "http://10.0.0.1:1234";
  vars_["AWS_DEFAULT_REGION"] = "eu-west-1";
  Result<ResolvedConfig> c = ResolveConfig({}, Env());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://10.0.0.1:1234");
  EXPECT_EQ(c->credentials.access_key_id, "AKIAHOME");
  EXPECT_EQ(c->region, "eu-west-1");
  c = ResolveConfig({"http://flag:1", "", "ap-south-1"}, Env());
  EXPECT_EQ(c->endpoint, "http://flag:1");
  EXPECT_EQ(c->region, "ap-south-1");
}

TEST_F(ResolveConfigTest, DeadKilndOrNoneIsAClearError) {
  alive_ = false;
  Result<ResolvedConfig> c = ResolveConfig({}, Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("4242"), std::string::npos);
  vars_["KILN_RUN_DIR"] = dir_.path() + "/nowhere";
  c = ResolveConfig({}, Env());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("--endpoint-url"), std::string::npos);
}

TEST_F(ResolveConfigTest, MalformedCredentialsFile) {
  Write(dir_.path() + "/data/credentials", "[default\n");
  Result<ResolvedConfig> c = ResolveConfig({}, Env());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("credentials:1"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
