#include "base/uri.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(UriEncodeTest, KeepsUnreservedAndEncodesEveryOtherByteInUpperCaseHex) {
  EXPECT_EQ(UriEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b/c~d*"), "a%20b%2Fc~d%2A");
  EXPECT_EQ(UriEncode("=&+%"), "%3D%26%2B%25");
  EXPECT_EQ(UriEncode(std::string("\x00\xff\xc3\xa9", 4)), "%00%FF%C3%A9");
  EXPECT_EQ(UriEncode(""), "");
}

TEST(UriEncodeTest, KeepsSlashOnlyWhenAsked) {
  EXPECT_EQ(UriEncode("/a b/", true), "/a%20b/");
  EXPECT_EQ(UriEncode("/a b/"), "%2Fa%20b%2F");
}

}  // namespace
}  // namespace kiln
