// The lineage key file format: round trip, and every kind of damage is Corruption.
#include "kms/lineage_key_file.h"

#include <gtest/gtest.h>

#include <cstring>

#include "crypto/sha256.h"

namespace kiln {
namespace {

constexpr char kKeyId[] = "00000000-0000-4000-8000-000000000001";

LineageId Lineage(uint8_t v) {
  LineageId l;
  l.fill(v);
  return l;
}

WrappedDataKey Sample() { return {kKeyId, Bytes(60, 0xab)}; }

Bytes Resign(Bytes file) {
  const Digest256 sum = Sha256(ByteView(file).first(file.size() - 32));
  std::memcpy(file.data() + file.size() - 32, sum.data(), 32);
  return file;
}

void ExpectCorrupt(const Bytes& file, const std::string& message_part) {
  Result<WrappedDataKey> w = ParseLineageKey(file, Lineage(7));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kCorruption);
  EXPECT_NE(w.status().message().find(message_part), std::string::npos) << w.status().message();
}

TEST(LineageKeyFileTest, RoundTrip) {
  Result<WrappedDataKey> back = ParseLineageKey(EncodeLineageKey(Lineage(7), Sample()), Lineage(7));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
}

TEST(LineageKeyFileTest, EveryTruncationAndFlipIsCorruption) {
  const Bytes file = EncodeLineageKey(Lineage(7), Sample());
  for (size_t n = 0; n < file.size(); ++n) {
    SCOPED_TRACE(n);
    ExpectCorrupt(Bytes(file.begin(), file.begin() + n), "");
  }
  for (size_t i = 0; i < file.size(); ++i) {
    SCOPED_TRACE(i);
    Bytes bad = file;
    bad[i] ^= 0x80;
    ExpectCorrupt(bad, "");
  }
}

TEST(LineageKeyFileTest, FieldsAreChecked) {
  const Bytes file = EncodeLineageKey(Lineage(7), Sample());
  ExpectCorrupt(EncodeLineageKey(Lineage(8), Sample()), "holds the key of another lineage");
  Bytes version = file;
  PutU32(version.data() + 4, 9);
  ExpectCorrupt(Resign(version), "unsupported version 9 (this build reads 1)");
  Bytes magic = file;
  magic[3] = 'K';
  ExpectCorrupt(magic, "bad magic");
  Bytes id = file;
  id[24 + 8] = 'z';
  ExpectCorrupt(Resign(id), "master key id is not a UUID");
  ExpectCorrupt(file.size() > 40 ? Bytes(file.begin(), file.end() - 1) : file, "");
  ExpectCorrupt(EncodeLineageKey(Lineage(7), {kKeyId, Bytes()}), "bad length");
  ExpectCorrupt(EncodeLineageKey(Lineage(7), {kKeyId, Bytes(4097, 1)}), "bad length");
  Bytes longer = file;
  PutU32(longer.data() + 60, 61);  // blob_len past the blob
  ExpectCorrupt(Resign(longer), "bad length");
  Bytes shorter = file;
  PutU32(shorter.data() + 60, 59);  // a byte left over
  ExpectCorrupt(Resign(shorter), "bad length");
}

TEST(LineageKeyFileTest, LargestBlobRoundTrips) {
  const WrappedDataKey w{kKeyId, Bytes(4096, 3)};
  Result<WrappedDataKey> back = ParseLineageKey(EncodeLineageKey(Lineage(1), w), Lineage(1));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, w);
}

}  // namespace
}  // namespace kiln
