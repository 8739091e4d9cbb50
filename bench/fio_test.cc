#include "bench/fio.h"

#include <gtest/gtest.h>

namespace kiln::bench {
namespace {

// The shape of fio 3.33's --output-format=json, trimmed to the fields the parser reads and a
// few it must skip.
constexpr char kReport[] = R"({
  "fio version" : "fio-3.33",
  "jobs" : [
    {
      "jobname" : "seqwrite",
      "error" : 0,
      "read" : {"io_bytes" : 0, "bw_bytes" : 0, "iops" : 0.0, "runtime" : 0,
                "lat_ns" : {"min" : 0, "max" : 0, "mean" : 0.0}},
      "write" : {"io_bytes" : 2147483648, "bw_bytes" : 412316860, "iops" : 393.21,
                 "runtime" : 5209, "lat_ns" : {"min" : 1000, "max" : 90000000,
                 "mean" : 40660123.5}, "clat_ns" : {"percentile" : {"99.000000" : 1}}}
    }
  ]
})";

TEST(FioTest, ParsesTheWriteFigures) {
  auto r = ParseFioJson(kReport, /*write=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes, 2147483648u);
  EXPECT_EQ(r->runtime_ms, 5209u);
  EXPECT_DOUBLE_EQ(r->mbps, 412.31686);
  EXPECT_DOUBLE_EQ(r->iops, 393.21);
  EXPECT_NEAR(r->mean_latency_us, 40660.1235, 1e-6);
}

TEST(FioTest, ASectionWithNoBytesIsAnError) {
  // A job that moved nothing in the asked direction is the wrong job, not a zero figure.
  EXPECT_EQ(ParseFioJson(kReport, /*write=*/false).status().code(), Code::kInvalidArgument);
}

TEST(FioTest, BadReports) {
  EXPECT_EQ(ParseFioJson("fio: note: both iodepth >= 1 and synchronous", true).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ParseFioJson(R"({"jobs": []})", true).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseFioJson(R"([1, 2])", true).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseFioJson(R"({"jobs": [{"error": 0}]})", true).status().code(),
            Code::kInvalidArgument);
  // Mistyped fields read as absent rather than throwing.
  EXPECT_EQ(ParseFioJson(R"({"jobs": [{"write": {"io_bytes": "many"}}]})", true).status().code(),
            Code::kInvalidArgument);
}

TEST(FioTest, AJobErrorIsReported) {
  auto r = ParseFioJson(R"({"jobs": [{"error": 5, "write": {"io_bytes": 4096}}]})", true);
  EXPECT_EQ(r.status().code(), Code::kInternal);
  EXPECT_NE(r.status().message().find("5"), std::string::npos);
}

}  // namespace
}  // namespace kiln::bench
