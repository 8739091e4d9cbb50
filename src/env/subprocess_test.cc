#include "env/subprocess.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(SubprocessTest, CapturesOutputAndExitStatus) {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_NE(r->output.find("out"), std::string::npos);
  EXPECT_NE(r->output.find("err"), std::string::npos);
}

TEST(SubprocessTest, ExtraEnvironmentOverrides) {
  auto r = RunCommand({"sh", "-c", "printf %s \"$KILN_X\""}, {"KILN_X=42"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "42");
}

TEST(SubprocessTest, CheckedFailureQuotesTheCommandAndItsOutput) {
  auto r = RunChecked({"sh", "-c", "echo broken; exit 1"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("broken"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(*RunChecked({"echo", "fine"}), "fine\n");
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  EXPECT_FALSE(RunCommand({"kiln-no-such-program"}).ok());
  EXPECT_FALSE(RunCommand({}).ok());
}

}  // namespace
}  // namespace kiln
