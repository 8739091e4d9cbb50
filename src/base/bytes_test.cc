#include "base/bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln {
namespace {

TEST(HexTest, EncodeLowerCase) {
  EXPECT_EQ(HexEncode(Bytes{}), "");
  EXPECT_EQ(HexEncode(Bytes{0x00, 0x01, 0xab, 0xff, 0x10}), "0001abff10");
}

TEST(HexTest, RoundTripsEveryByte) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  Result<Bytes> back = HexDecode(HexEncode(all));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, all);
}

TEST(HexTest, DecodesUpperAndMixedCase) {
  Result<Bytes> b = HexDecode("ABcdEf09");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Bytes{0xab, 0xcd, 0xef, 0x09}));
  Result<Bytes> empty = HexDecode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HexTest, RejectsOddLength) {
  for (const char* s : {"a", "abc", "0", "12345"}) {
    Result<Bytes> r = HexDecode(s);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << s;
  }
}

TEST(HexTest, RejectsNonHexDigits) {
  for (const char* s : {"0g", "g0", "zz", "0x12", " 1", "1 ", "-1", "12\n3", "ab:c"}) {
    Result<Bytes> r = HexDecode(s);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << s;
  }
  // Every byte value that is not a hex digit, in either nibble.
  for (int c = 0; c < 256; ++c) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    std::string hi = {static_cast<char>(c), '0'};
    std::string lo = {'0', static_cast<char>(c)};
    EXPECT_EQ(HexDecode(hi).ok(), hex) << c;
    EXPECT_EQ(HexDecode(lo).ok(), hex) << c;
  }
}

TEST(IsAllZeroTest, EveryLengthZeroTo200) {
  Bytes buf(256, 0);
  for (size_t len = 0; len <= 200; ++len) {
    EXPECT_TRUE(IsAllZero(ByteView(buf).first(len))) << len;
  }
}

TEST(IsAllZeroTest, OneNonZeroByteAtEveryPositionOfEveryLength) {
  Bytes buf(200, 0);
  for (size_t len = 1; len <= 200; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      buf[pos] = 0x01;
      ASSERT_FALSE(IsAllZero(ByteView(buf).first(len))) << "len " << len << " pos " << pos;
      buf[pos] = 0x80;
      ASSERT_FALSE(IsAllZero(ByteView(buf).first(len))) << "len " << len << " pos " << pos;
      buf[pos] = 0;
    }
  }
}

TEST(IsAllZeroTest, NonZeroOutsideTheViewIsIgnored) {
  Bytes buf(130, 0);
  buf[0] = 1;
  buf[129] = 1;
  for (size_t len = 0; len <= 128; ++len) {
    EXPECT_TRUE(IsAllZero(ByteView(buf).subspan(1, len))) << len;
  }
}

TEST(IsAllZeroTest, UnalignedStarts) {
  Bytes buf(300, 0);
  for (size_t start = 0; start < 16; ++start) {
    EXPECT_TRUE(IsAllZero(ByteView(buf).subspan(start, 200)));
    buf[start + 150] = 7;
    EXPECT_FALSE(IsAllZero(ByteView(buf).subspan(start, 200)));
    buf[start + 150] = 0;
  }
}

TEST(IsAllZeroTest, LargeBlock) {
  Bytes block(512 * 1024, 0);
  EXPECT_TRUE(IsAllZero(block));
  block.back() = 1;
  EXPECT_FALSE(IsAllZero(block));
}

TEST(BytesTest, AsBytesAndAsStringRoundTrip) {
  const std::string s("a\0b", 3);
  ByteView b = AsBytes(s);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(AsString(b), s);
}

TEST(BytesTest, LittleEndianPutGet) {
  uint8_t buf[8];
  PutU32(buf, 0x04030201u);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[3], 0x04);
  EXPECT_EQ(GetU32(buf), 0x04030201u);
  PutU64(buf, 0x0807060504030201ull);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[7], 0x08);
  EXPECT_EQ(GetU64(buf), 0x0807060504030201ull);
}

TEST(BytesTest, Append) {
  Bytes out;
  AppendU32(out, 0xdeadbeef);
  AppendU64(out, 1);
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(GetU32(out.data()), 0xdeadbeefu);
  EXPECT_EQ(GetU64(out.data() + 4), 1u);
  EXPECT_EQ(HexEncode(out), "efbeadde0100000000000000");
}

}  // namespace
}  // namespace kiln
