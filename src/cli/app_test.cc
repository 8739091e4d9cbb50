#include "cli/app.h"

#include <gtest/gtest.h>

#include <map>

#include "cli/connect.h"
#include "cli/output.h"

namespace kiln::cli {
namespace {

struct KilnRun {
  int status;
  std::string out;
  std::string err;
};

// Runs kiln with only `vars` in its environment.
KilnRun Kiln(const std::vector<std::string>& args, std::map<std::string, std::string> vars = {}) {
  Environment env;
  env.get = [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.pid_alive = [](int) { return false; };
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  size_t out_size = 0, err_size = 0;
  std::FILE* out = open_memstream(&out_buf, &out_size);
  std::FILE* err = open_memstream(&err_buf, &err_size);
  KilnRun r;
  r.status = RunKilnWith(args, env, out, err, false);
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_buf, out_size);
  r.err.assign(err_buf, err_size);
  free(out_buf);
  free(err_buf);
  return r;
}

// An endpoint nothing listens on, and keys: commands get as far as their first call.
const std::map<std::string, std::string> kRefused = {{"KILN_ENDPOINT_URL", "http://127.0.0.1:1"},
                                                     {"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"},
                                                     {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                     {"KILN_RUN_DIR", "/nonexistent"}};

TEST(AppTest, UsageErrorsExit2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"images", "--bogus"},
                                             {"launch"},
                                             {"create-image", "i-1"},  // --name is required
                                             {"images", "--output", "yaml"},
                                             {"usage", "--price-per-gb-month", "-1"},
                                             {"stop"}}) {
    KilnRun r = Kiln(args, kRefused);
    EXPECT_EQ(r.status, kExitUsage) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(r.err.rfind("kiln: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  }
}

TEST(AppTest, BadFlagValuesExit2BeforeAnyCall) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"launch", "ami-1", "--volume", "sdf"},
           {"launch", "ami-1", "--volume", "sdf:0"},
           {"launch", "ami-1", "--instance-store", "/dev/"},
           {"create-image", "i-1", "--name", "x", "--root-size", "big"},
           {"create-image", "i-1", "--name", "x", "--add-volume", "sdg"},
           {"launch", "ami-1", "--user-data", "/nonexistent/file"}}) {
    KilnRun r = Kiln(args, kRefused);
    EXPECT_EQ(r.status, kExitUsage) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(r.err.find("connect"), std::string::npos) << r.err;
  }
}

TEST(AppTest, HelpAndVersion) {
  KilnRun r = Kiln({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("create-image"), std::string::npos);
  r = Kiln({"create-image", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--no-reboot"), std::string::npos);
  r = Kiln({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("kiln "), std::string::npos);
}

TEST(AppTest, NoEndpointSaysHowToStartKilnd) {
  KilnRun r = Kiln({"images"}, {{"KILN_RUN_DIR", "/nonexistent"}, {"HOME", "/nonexistent"}});
  EXPECT_EQ(r.status, kExitApiError);
  EXPECT_NE(r.err.find("kiln: no kilnd endpoint"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("make run"), std::string::npos) << r.err;
}

TEST(AppTest, ConnectionRefusedHint) {
  KilnRun r = Kiln({"images", "--owner", "self"}, kRefused);
  EXPECT_EQ(r.status, kExitApiError);
  EXPECT_NE(r.err.find("kiln: cannot connect to http://127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: is kilnd running?"), std::string::npos) << r.err;
}

TEST(AppTest, BadEndpointUrlIsAUsageError) {
  auto vars = kRefused;
  vars["KILN_ENDPOINT_URL"] = "ftp://x";
  EXPECT_EQ(Kiln({"images"}, vars).status, kExitUsage);
}

TEST(ConnectRefusalTest, JsonBodyOrStatus) {
  Status s = ConnectRefusal(409, R"({"code": "IncorrectInstanceState", "message": "not running"})");
  EXPECT_EQ(s.ec2_code(), "IncorrectInstanceState");
  EXPECT_EQ(s.message(), "not running");
  EXPECT_EQ(ErrorText(s),
            "kiln: IncorrectInstanceState: not running\n"
            "hint: see the instance's state with `kiln instances`\n");
  EXPECT_FALSE(ConnectRefusal(404, "<html>").ec2_code().has_value());
  EXPECT_NE(ConnectRefusal(200, "<xml/>").message().find("no connect endpoint"), std::string::npos);
  EXPECT_EQ(ConnectRefusal(401, "").ec2_code(), "AuthFailure");
  EXPECT_EQ(ErrorText(ConnectRefusal(502, "")).find("is kilnd running"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
