#include "cli/format.h"

#include <gtest/gtest.h>

#include "cli/block_devices.h"
#include "cli/connect.h"
#include "cli/progress.h"

namespace kiln::cli {
namespace {

TEST(TableTest, AlignsColumnsAndShowsDashForEmpty) {
  Table t({"ID", "NAME", "STATE"});
  t.AddRow({"ami-1", "minimal", "available"});
  t.AddRow({"ami-22222", "", "pending"});
  EXPECT_EQ(t.Render(false),
            "ID         NAME     STATE\n"
            "ami-1      minimal  available\n"
            "ami-22222  -        pending\n");
}

TEST(TableTest, ColourDoesNotChangeAlignment) {
  Table t({"A", "B"});
  t.AddRow({Cell("x", Color::kGreen), "y"});
  const std::string out = t.Render(true);
  EXPECT_NE(out.find("\033[32mx\033[0m  y"), std::string::npos) << out;
  EXPECT_NE(out.find("\033[1mA\033[0m  \033[1mB\033[0m"), std::string::npos) << out;
}

TEST(TableTest, Utf8WidthAndShortRows) {
  Table t({"N", "X"});
  t.AddRow({"é", "1"});
  t.AddRow({"ab"});
  EXPECT_EQ(t.Render(false), "N   X\né   1\nab  -\n");
}

TEST(RelativeTimeTest, Units) {
  EXPECT_EQ(RelativeTime(1000, 1002), "just now");
  EXPECT_EQ(RelativeTime(1000, 1030), "30 seconds ago");
  EXPECT_EQ(RelativeTime(1000, 1060), "a minute ago");
  EXPECT_EQ(RelativeTime(1000, 1000 + 180), "3 minutes ago");
  EXPECT_EQ(RelativeTime(0, 3600), "an hour ago");
  EXPECT_EQ(RelativeTime(0, 5 * 3600 + 100), "5 hours ago");
  EXPECT_EQ(RelativeTime(0, 86400), "a day ago");
  EXPECT_EQ(RelativeTime(0, 3 * 86400), "3 days ago");
  EXPECT_EQ(RelativeTime(0, 65 * 86400), "2 months ago");
  EXPECT_EQ(RelativeTime(0, 800 * 86400), "2 years ago");
  EXPECT_EQ(RelativeTime(1000 + 120, 1000), "in 2 minutes");
}

TEST(RelativeTimeTest, IsoTimes) {
  EXPECT_EQ(ParseIsoTime("1970-01-01T00:01:00Z"), 60);
  EXPECT_EQ(ParseIsoTime("2026-11-27T10:53:21.538Z"), ParseIsoTime("2026-11-27T10:53:21Z"));
  // A long fraction overflowed an int (UBSan, found by cli_xml_fuzz).
  EXPECT_EQ(ParseIsoTime("2026-11-27T10:53:21.12345678901234567890Z"),
            ParseIsoTime("2026-11-27T10:53:21Z"));
  for (const char* bad : {"", "2026-11-27", "2026-11-27T10:53:21", "2026-13-27T10:53:21Z",
                          "2026-11-27T10:53:21.x8Z", "abcd-11-27T10:53:21Z"}) {
    EXPECT_FALSE(ParseIsoTime(bad).has_value()) << bad;
  }
  const int64_t now = *ParseIsoTime("2026-11-27T11:00:00Z");
  EXPECT_EQ(RelativeIsoTime("2026-11-27T10:57:00.000Z", now), "3 minutes ago");
  EXPECT_EQ(RelativeIsoTime("garbage", now), "garbage");
}

TEST(FormatTest, BytesBarsDollars) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1500), "1.5 kB");
  EXPECT_EQ(HumanBytes(12345678), "12.3 MB");
  EXPECT_EQ(HumanBytes(8000000000), "8.0 GB");
  EXPECT_EQ(HumanBytes(999999999), "1.0 GB");
  EXPECT_EQ(ProgressBar(50, 10), "[#####.....]");
  EXPECT_EQ(ProgressBar(150, 4), "[####]");
  EXPECT_EQ(ProgressBar(-3, 4), "[....]");
  EXPECT_EQ(Dollars(0), "$0.00");
  EXPECT_EQ(Dollars(1.234), "$1.23");
  EXPECT_EQ(Dollars(0.0004), "$0.0004");
}

TEST(StateColorTest, States) {
  EXPECT_EQ(StateColor("available"), Color::kGreen);
  EXPECT_EQ(StateColor("pending"), Color::kYellow);
  EXPECT_EQ(StateColor("failed"), Color::kRed);
  EXPECT_EQ(StateColor("stopped"), Color::kDim);
  EXPECT_EQ(StateColor("whatever"), Color::kNone);
}

TEST(BlockDevicesTest, ParsingAndParams) {
  EXPECT_EQ(*NormalizeDevice("--x", "sdf"), "/dev/sdf");
  EXPECT_EQ(*NormalizeDevice("--x", "/dev/xvdg"), "/dev/xvdg");
  for (const char* bad : {"", "/dev/", "sd f", "SDF", "../sdf"}) {
    EXPECT_EQ(NormalizeDevice("--x", bad).status().code(), Code::kInvalidArgument) << bad;
  }
  Result<MappingSpec> spec = ParseDeviceSize("--volume", "sdf:10");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->device, "/dev/sdf");
  EXPECT_EQ(spec->size_gib, 10);
  for (const char* bad : {"sdf", "sdf:", "sdf:0", "sdf:-1", "sdf:1x", ":5", "sdf:99999999"}) {
    Result<MappingSpec> r = ParseDeviceSize("--volume", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--volume"), std::string::npos);
  }
  const Params p = MappingParams({{MappingSpec::Kind::kEbsNew, "/dev/sdf", 2},
                                  {MappingSpec::Kind::kInstanceStore, "/dev/sdb", 0},
                                  {MappingSpec::Kind::kNoDevice, "/dev/sdg", 0}});
  const Params want = {{"BlockDeviceMapping.1.DeviceName", "/dev/sdf"},
                       {"BlockDeviceMapping.1.Ebs.VolumeSize", "2"},
                       {"BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true"},
                       {"BlockDeviceMapping.2.DeviceName", "/dev/sdb"},
                       {"BlockDeviceMapping.2.VirtualName", "ephemeral0"},
                       {"BlockDeviceMapping.3.DeviceName", "/dev/sdg"},
                       {"BlockDeviceMapping.3.NoDevice", ""}};
  EXPECT_EQ(p, want);
}

TEST(ProgressDisplayTest, PlainLinesOnlyOnChange) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buf, &size);
  ProgressDisplay d(out, /*in_place=*/false, /*color=*/false);
  d.Update({ProgressLine{"s", "snapshot snap-1 (/dev/xvda)", "10%", 10},
            ProgressLine{"i", "image ami-1 (x)", "pending", -1}});
  d.Update({ProgressLine{"s", "snapshot snap-1 (/dev/xvda)", "10%", 10},
            ProgressLine{"i", "image ami-1 (x)", "pending", -1}});
  d.Update({ProgressLine{"s", "snapshot snap-1 (/dev/xvda)", "100%", 100},
            ProgressLine{"i", "image ami-1 (x)", "available", -1}});
  std::fclose(out);
  EXPECT_EQ(std::string(buf, size),
            "snapshot snap-1 (/dev/xvda): 10%\nimage ami-1 (x): pending\n"
            "snapshot snap-1 (/dev/xvda): 100%\nimage ami-1 (x): available\n");
  free(buf);
}

TEST(ProgressDisplayTest, InPlaceRedrawsWithBars) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buf, &size);
  ProgressDisplay d(out, /*in_place=*/true, /*color=*/false);
  d.Update({ProgressLine{"s", "snap", "50%", 50}});
  d.Update({ProgressLine{"s", "snap", "60%", 60}});
  std::fclose(out);
  const std::string text(buf, size);
  free(buf);
  EXPECT_NE(text.find("\033[1A"), std::string::npos);  // cursor back up one line
  EXPECT_NE(text.find("[##################............] 60%"), std::string::npos) << text;
}

// Found by cli_connect_fuzz: a "type" that is not a string threw in the read handler, and an
// exit code past int's range wrapped.
TEST(ConnectFramesTest, ExitFramesAndRefusalsNeverThrow) {
  EXPECT_EQ(ParseExitFrame(R"({"type":"exit","code":3})"), 3);
  EXPECT_EQ(ParseExitFrame(R"({"type":0})"), std::nullopt);
  EXPECT_EQ(ParseExitFrame(R"({"type":"exit","code":4294967296})"), std::nullopt);
  EXPECT_EQ(ParseExitFrame(R"({"type":"exit","code":"3"})"), std::nullopt);
  EXPECT_EQ(ParseExitFrame("not json"), std::nullopt);
  const Status odd = ConnectRefusal(409, R"({"code":"X","message":1})");
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.ec2_code().value_or(""), "X");
  const Status empty = ConnectRefusal(404, R"({"code":""})");
  EXPECT_FALSE(empty.ok());
  EXPECT_NE(empty.ec2_code().value_or("none"), "");
}

}  // namespace
}  // namespace kiln::cli
