#include "crypto/base64.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Base64, RoundTripsEveryLengthMod3) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const std::string enc = Base64Encode(B(s));
    EXPECT_EQ(Str(Base64Decode(enc).value()), s) << enc;
  }
  EXPECT_EQ(Base64Encode(B("foobar")), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(B("fo")), "Zm8=");
}

TEST(Base64, KeepsZeroBytesAndIgnoresLineBreaks) {
  Bytes zeros = {0, 0, 0, 0, 1};
  EXPECT_EQ(Base64Decode(Base64Encode(zeros)).value(), zeros);
  EXPECT_EQ(Str(Base64Decode("Zm9v\nYmFy\r\n").value()), "foobar");
}

TEST(Base64, RefusesMalformedText) {
  for (std::string_view bad : {"Zm9", "Zm9v!", "Z=9v", "Zm=v", "====", "Zm9vYmFy=", "Zg==Zg=="}) {
    EXPECT_EQ(Base64Decode(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kiln
