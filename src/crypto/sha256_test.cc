#include "crypto/sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace kiln {
namespace {

std::string Hex(const Digest256& d) { return HexEncode(d); }

// FIPS 180-2 / NIST CAVP example vectors.
TEST(Sha256Test, Empty) {
  EXPECT_EQ(Hex(Sha256(AsBytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(Hex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessage448Bits) {
  EXPECT_EQ(Hex(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, OneMillionA) {
  const std::string a(1000000, 'a');
  EXPECT_EQ(Hex(Sha256(AsBytes(a))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, HasherOfNothingIsEmptyDigest) {
  Sha256Hasher h;
  EXPECT_EQ(h.Finish(), Sha256(AsBytes("")));
}

TEST(Sha256Test, OneMillionAInPieces) {
  Sha256Hasher h;
  const std::string piece(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.Update(AsBytes(piece));
  EXPECT_EQ(Hex(h.Finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalEqualsOneShotAtEverySplit) {
  Bytes data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  const Digest256 want = Sha256(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    Sha256Hasher h;
    h.Update(ByteView(data).first(split));
    h.Update(ByteView(data).subspan(split));
    ASSERT_EQ(h.Finish(), want) << "split at " << split;
  }
}

TEST(Sha256Test, IncrementalInUnevenPieces) {
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ (i >> 7));
  Sha256Hasher h;
  size_t pos = 0;
  for (size_t len = 1; pos < data.size(); ++len) {
    const size_t n = std::min(len, data.size() - pos);
    h.Update(ByteView(data).subspan(pos, n));
    pos += n;
  }
  EXPECT_EQ(h.Finish(), Sha256(data));
}

TEST(Sha256Test, HasherIsReusableAfterFinish) {
  Sha256Hasher h;
  h.Update(AsBytes("first message"));
  (void)h.Finish();
  h.Update(AsBytes("abc"));
  EXPECT_EQ(Hex(h.Finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, DifferentInputsDiffer) {
  EXPECT_NE(Sha256(AsBytes("a")), Sha256(AsBytes("b")));
  EXPECT_NE(Sha256(AsBytes("")), Sha256(Bytes{0}));
}

}  // namespace
}  // namespace kiln
