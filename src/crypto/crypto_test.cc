#include "crypto/crypto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "crypto/crypto_internal.h"

namespace kiln {
namespace {

Bytes Hex(std::string_view hex) {
  Result<Bytes> b = HexDecode(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return b.ok() ? *b : Bytes();
}

// A Key256 from up to 32 bytes, zero-padded. HMAC pads every key shorter than the hash block
// (64 bytes) with zeros, so HMAC under the padded 32-byte key equals HMAC under the short key:
// this lets the RFC 4231 vectors with 4..25-byte keys check our 32-byte-key HmacSha256.
Key256 PaddedKey(ByteView k) {
  Key256 key{};
  std::copy(k.begin(), k.end(), key.begin());
  return key;
}

Key256 KeyFromHex(std::string_view hex) { return PaddedKey(Hex(hex)); }

Bytes Repeat(uint8_t byte, size_t n) { return Bytes(n, byte); }

// --- HMAC-SHA-256: RFC 4231 test cases 1-5 (6 and 7 use 131-byte keys, which a Key256 cannot
// hold). ---

TEST(HmacSha256Test, Rfc4231Vectors) {
  EXPECT_EQ(HexEncode(HmacSha256(PaddedKey(Repeat(0x0b, 20)), AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(
      HexEncode(HmacSha256(PaddedKey(AsBytes("Jefe")), AsBytes("what do ya want for nothing?"))),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(HmacSha256(PaddedKey(Repeat(0xaa, 20)), Repeat(0xdd, 50))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  EXPECT_EQ(HexEncode(HmacSha256(KeyFromHex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                                 Repeat(0xcd, 50))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 truncates the output to 128 bits.
  const Digest256 tc5 = HmacSha256(PaddedKey(Repeat(0x0c, 20)), AsBytes("Test With Truncation"));
  EXPECT_EQ(HexEncode(ByteView(tc5).first(16)), "a3b6167473100ee06e0c796c2955552b");
}

// Any key length: RFC 4231 test cases 2, 6 and 7 (7 and 6 hash their 131-byte key first).
TEST(HmacSha256Test, AnyKeyRfc4231Vectors) {
  EXPECT_EQ(HexEncode(HmacSha256AnyKey(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(
      HexEncode(HmacSha256AnyKey(
          Repeat(0xaa, 131), AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexEncode(HmacSha256AnyKey(
                Repeat(0xaa, 131),
                AsBytes("This is a test using a larger than block-size key and a larger than "
                        "block-size data. The key needs to be hashed before being used by the "
                        "HMAC algorithm."))),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(ConstantTimeEqualTest, EqualOnlyForTheSameBytes) {
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_TRUE(ConstantTimeEqual(AsBytes(""), AsBytes("")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abcd")));
}

TEST(HmacSha256Test, PrefixFormEqualsTheJoinedMessage) {
  const Key256 key = PaddedKey(AsBytes("Jefe"));
  EXPECT_EQ(HexEncode(HmacSha256(key, AsBytes("what do ya "), AsBytes("want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256(key, {}, AsBytes("abc")), HmacSha256(key, AsBytes("abc")));
  EXPECT_NE(HmacSha256(key, AsBytes("a"), AsBytes("bc")), HmacSha256(key, AsBytes("bc")));
}

TEST(HmacSha256Test, KeyChangesAreNotCachedWrongly) {
  const Key256 a = PaddedKey(Repeat(0x0b, 20));
  const Key256 b = PaddedKey(AsBytes("Jefe"));
  const Digest256 a1 = HmacSha256(a, AsBytes("Hi There"));
  const Digest256 b1 = HmacSha256(b, AsBytes("Hi There"));
  EXPECT_NE(a1, b1);
  EXPECT_EQ(HmacSha256(a, AsBytes("Hi There")), a1);
  EXPECT_EQ(HmacSha256(a, AsBytes("Hi There")), a1);  // same key twice in a row
  EXPECT_EQ(HmacSha256(b, AsBytes("Hi There")), b1);
  EXPECT_EQ(HexEncode(HmacSha256(a, AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_NE(HmacSha256(a, AsBytes("")), HmacSha256(b, AsBytes("")));
}

// --- HKDF-SHA-256: RFC 5869 test cases 1 and 3. ---

TEST(HkdfSha256Test, Rfc5869Case1) {
  Bytes okm(42);
  ASSERT_TRUE(HkdfSha256(Repeat(0x0b, 22), Hex("000102030405060708090a0b0c"),
                         Hex("f0f1f2f3f4f5f6f7f8f9"), okm)
                  .ok());
  EXPECT_EQ(HexEncode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256Test, Rfc5869Case3EmptySaltAndInfo) {
  Bytes okm(42);
  ASSERT_TRUE(HkdfSha256(Repeat(0x0b, 22), ByteView(), ByteView(), okm).ok());
  EXPECT_EQ(HexEncode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256Test, RejectsImpossibleLengths) {
  Bytes none;
  EXPECT_EQ(HkdfSha256(Repeat(1, 32), ByteView(), ByteView(), none).code(), Code::kInvalidArgument);
  Bytes too_long(255 * 32 + 1);
  EXPECT_EQ(HkdfSha256(Repeat(1, 32), ByteView(), ByteView(), too_long).code(),
            Code::kInvalidArgument);
  Bytes longest(255 * 32);
  EXPECT_TRUE(HkdfSha256(Repeat(1, 32), ByteView(), ByteView(), longest).ok());
}

TEST(RandomTest, KeysDiffer) {
  Result<Key256> a = RandomKey();
  Result<Key256> b = RandomKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(RandomBytes(MutableByteView()).ok());
}

// --- AES-256-GCM: test cases 13-16 of McGrew and Viega, "The Galois/Counter Mode of Operation"
// (the 256-bit-key cases NIST's GCM specification uses). ---

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

constexpr const char* kFeffe = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr const char* kZeroKey = "0000000000000000000000000000000000000000000000000000000000000000";

const GcmVector kGcmVectors[] = {
    {"13", kZeroKey, "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", kZeroKey, "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", kFeffe, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", kFeffe, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmTest, KnownAnswerVectors) {
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(std::string("test case ") + v.name);
    const Key256 key = KeyFromHex(v.key);
    Bytes sealed = {0xee};  // SealWithNonce appends: the byte before must stay
    ASSERT_TRUE(crypto_internal::AesGcmSealWithNonce(key, Hex(v.nonce), Hex(v.plaintext),
                                                     Hex(v.aad), sealed)
                    .ok());
    EXPECT_EQ(HexEncode(sealed), std::string("ee") + v.nonce + v.ciphertext + v.tag);
    Result<Bytes> opened = AesGcmOpen(key, ByteView(sealed).subspan(1), Hex(v.aad));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(HexEncode(*opened), v.plaintext);
  }
}

TEST(AesGcmTest, RejectsWrongNonceSize) {
  Bytes out;
  EXPECT_EQ(crypto_internal::AesGcmSealWithNonce(Key256{}, Bytes(11), AsBytes("x"), ByteView(), out)
                .code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST(AesGcmTest, RoundTripWithFreshNonces) {
  const Key256 key = *RandomKey();
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{4096}, size_t{524288}}) {
    Bytes data(size);
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
    Result<Bytes> a = AesGcmSeal(key, data, AsBytes("ad"));
    Result<Bytes> b = AesGcmSeal(key, data, AsBytes("ad"));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->size(), size + kGcmNonceSize + kGcmTagSize);
    EXPECT_NE(*a, *b) << "each seal draws a new nonce";
    EXPECT_EQ(*AesGcmOpen(key, *a, AsBytes("ad")), data);
    EXPECT_EQ(*AesGcmOpen(key, *b, AsBytes("ad")), data);
    Bytes appended = {1, 2, 3};
    ASSERT_TRUE(AesGcmSealTo(key, data, AsBytes("ad"), appended).ok());
    EXPECT_EQ(appended.size(), 3 + a->size());
    EXPECT_EQ(*AesGcmOpen(key, ByteView(appended).subspan(3), AsBytes("ad")), data);
    Bytes in_place = *a;
    Result<MutableByteView> opened = AesGcmOpenInPlace(key, in_place, AsBytes("ad"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->data(), in_place.data() + kGcmNonceSize);
    EXPECT_TRUE(std::equal(opened->begin(), opened->end(), data.begin(), data.end()));
  }
}

void ExpectCorrupt(const Result<Bytes>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << ": tampered data opened";
  EXPECT_EQ(r.status().code(), Code::kCorruption) << what << ": " << r.status().ToString();
}

TEST(AesGcmTest, EveryTamperingIsCorruption) {
  const Key256 key = *RandomKey();
  const std::string ad_text = "chunk id || lineage";
  const Bytes ad(ad_text.begin(), ad_text.end());
  const Bytes data(100, 0x42);
  const Bytes sealed = *AesGcmSeal(key, data, ad);
  for (size_t pos = 0; pos < sealed.size(); ++pos) {  // nonce, ciphertext, tag
    for (uint8_t mask : {0x01, 0x80}) {
      Bytes bad = sealed;
      bad[pos] ^= mask;
      ExpectCorrupt(AesGcmOpen(key, bad, ad), "flip byte " + std::to_string(pos));
    }
  }
  for (size_t len = 0; len < sealed.size(); ++len) {
    ExpectCorrupt(AesGcmOpen(key, ByteView(sealed).first(len), ad),
                  "truncated to " + std::to_string(len));
  }
  Bytes longer = sealed;
  longer.push_back(0);
  ExpectCorrupt(AesGcmOpen(key, longer, ad), "byte appended");
  Bytes wrong_ad = ad;
  wrong_ad.back() ^= 1;
  ExpectCorrupt(AesGcmOpen(key, sealed, wrong_ad), "wrong associated data");
  ExpectCorrupt(AesGcmOpen(key, sealed, ByteView(ad).first(ad.size() - 1)), "shorter AD");
  ExpectCorrupt(AesGcmOpen(key, sealed, ByteView()), "no AD");
  Key256 other = key;
  other[31] ^= 1;
  ExpectCorrupt(AesGcmOpen(other, sealed, ad), "wrong key");
  for (size_t pos : {size_t{0}, size_t{20}, sealed.size() - 1}) {
    Bytes bad = sealed;
    bad[pos] ^= 0x04;
    Result<MutableByteView> r = AesGcmOpenInPlace(key, bad, ad);
    ASSERT_FALSE(r.ok()) << "in place, flip byte " << pos;
    EXPECT_EQ(r.status().code(), Code::kCorruption);
    const ByteView body = ByteView(bad).subspan(kGcmNonceSize, data.size());
    EXPECT_TRUE(std::all_of(body.begin(), body.end(), [](uint8_t b) { return b == 0; }))
        << "unauthenticated plaintext must be wiped";
  }
  Bytes tiny(kGcmNonceSize + kGcmTagSize - 1);
  EXPECT_EQ(AesGcmOpenInPlace(key, tiny, ad).status().code(), Code::kCorruption);
  EXPECT_EQ(*AesGcmOpen(key, sealed, ad), data) << "the context recovers after failures";
  EXPECT_EQ(AesGcmOpen(key, sealed, ad).status().code(), Code::kOk);
}

// --- AES-256-XTS: IEEE P1619/D16 (IEEE 1619-2007) Annex B, XTS-AES-256 vector 10: Key1 and
// Key2 of 32 bytes each, data unit sequence number 0xff, 512 bytes of 00 01 .. ff twice. ---

constexpr const char* kXtsKey1 = "2718281828459045235360287471352662497757247093699959574966967627";
constexpr const char* kXtsKey2 = "3141592653589793238462643383279502884197169399375105820974944592";
constexpr const char* kXtsVector10Ciphertext =
    "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
    "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
    "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
    "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
    "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
    "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
    "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
    "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
    "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
    "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
    "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
    "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
    "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
    "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
    "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
    "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";

XtsKey XtsKeyFromHex(std::string_view key1, std::string_view key2) {
  XtsKey key{};
  const Bytes k1 = Hex(key1), k2 = Hex(key2);
  std::copy(k1.begin(), k1.end(), key.begin());
  std::copy(k2.begin(), k2.end(), key.begin() + 32);
  return key;
}

Bytes Counting(size_t size) {
  Bytes b(size);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}

TEST(AesXtsTest, Ieee1619Vector10) {
  const XtsKey key = XtsKeyFromHex(kXtsKey1, kXtsKey2);
  Bytes data = Counting(512);
  ASSERT_TRUE(AesXtsEncrypt(key, 0xff, data).ok());
  EXPECT_EQ(HexEncode(data), kXtsVector10Ciphertext);
  ASSERT_TRUE(AesXtsDecrypt(key, 0xff, data).ok());
  EXPECT_EQ(data, Counting(512));
}

TEST(AesXtsTest, RejectsEqualKeyHalvesAndBadSizes) {
  XtsKey same{};
  const Bytes k1 = Hex(kXtsKey1);
  std::copy(k1.begin(), k1.end(), same.begin());
  std::copy(k1.begin(), k1.end(), same.begin() + 32);
  Bytes data(4096, 7);
  EXPECT_EQ(AesXtsEncrypt(same, 0, data).code(), Code::kInvalidArgument);
  EXPECT_EQ(AesXtsDecrypt(same, 0, data).code(), Code::kInvalidArgument);
  EXPECT_EQ(data, Bytes(4096, 7)) << "a rejected call leaves the data alone";
  const XtsKey key = XtsKeyFromHex(kXtsKey1, kXtsKey2);
  for (size_t size :
       {size_t{0}, size_t{8}, size_t{15}, size_t{17}, size_t{4095}, (size_t{16} << 20) + 16}) {
    Bytes d(size);
    EXPECT_EQ(AesXtsEncrypt(key, 0, d).code(), Code::kInvalidArgument) << size;
    EXPECT_EQ(AesXtsDecrypt(key, 0, d).code(), Code::kInvalidArgument) << size;
  }
  Bytes biggest(size_t{16} << 20);
  EXPECT_TRUE(AesXtsEncrypt(key, 0, biggest).ok());
  Bytes smallest(16);
  EXPECT_TRUE(AesXtsEncrypt(key, 0, smallest).ok());
}

TEST(AesXtsTest, RoundTripAndSectorDependence) {
  XtsKey key{};
  ASSERT_TRUE(RandomBytes(key).ok());
  const Bytes plain = Counting(4096);
  std::vector<Bytes> seen;
  for (uint64_t sector : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{0xff}, uint64_t{1} << 32,
                          uint64_t{1} << 56, ~uint64_t{0}}) {
    Bytes data = plain;
    ASSERT_TRUE(AesXtsEncrypt(key, sector, data).ok());
    EXPECT_NE(data, plain);
    for (const Bytes& other : seen) EXPECT_NE(data, other) << "sector " << sector;
    seen.push_back(data);
    // Equal plaintext blocks inside one sector encrypt differently (the tweak advances).
    EXPECT_FALSE(std::equal(data.begin(), data.begin() + 16, data.begin() + 256));
    Bytes wrong = data;
    ASSERT_TRUE(AesXtsDecrypt(key, sector + 1, wrong).ok());
    EXPECT_NE(wrong, plain) << "decrypting under another sector must not give the data";
    ASSERT_TRUE(AesXtsDecrypt(key, sector, data).ok());
    EXPECT_EQ(data, plain) << "sector " << sector;
  }
}

TEST(AesXtsTest, AlternatingKeysGiveEachKeysResult) {
  const XtsKey a = XtsKeyFromHex(kXtsKey1, kXtsKey2);
  const XtsKey b = XtsKeyFromHex(kXtsKey2, kXtsKey1);
  Bytes under_a = Counting(512), under_b = Counting(512);
  ASSERT_TRUE(AesXtsEncrypt(a, 0xff, under_a).ok());
  ASSERT_TRUE(AesXtsEncrypt(b, 0xff, under_b).ok());
  EXPECT_NE(under_a, under_b);
  for (int i = 0; i < 3; ++i) {
    Bytes d = Counting(512);
    ASSERT_TRUE(AesXtsEncrypt(i % 2 ? b : a, 0xff, d).ok());
    EXPECT_EQ(d, i % 2 ? under_b : under_a) << i;
  }
  EXPECT_EQ(HexEncode(under_a), kXtsVector10Ciphertext);
}

// Each thread has its own contexts: many threads with different keys never see each other's.
TEST(CryptoThreadsTest, ConcurrentUseUnderDifferentKeys) {
  constexpr int kThreads = 6;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&failures, t] {
      Key256 gcm_key{};
      gcm_key[0] = static_cast<uint8_t>(t);
      XtsKey xts_key{};
      xts_key[0] = static_cast<uint8_t>(t);
      xts_key[63] = 1;
      const Bytes data = Counting(4096);
      const Digest256 mac = HmacSha256(gcm_key, data);
      for (int i = 0; i < 200; ++i) {
        Result<Bytes> sealed = AesGcmSeal(gcm_key, data, AsBytes("ad"));
        if (!sealed.ok()) ++failures[t];
        Result<Bytes> opened = sealed.ok() ? AesGcmOpen(gcm_key, *sealed, AsBytes("ad")) : sealed;
        if (!opened.ok() || *opened != data) ++failures[t];
        Bytes sector = data;
        if (!AesXtsEncrypt(xts_key, i, sector).ok() || !AesXtsDecrypt(xts_key, i, sector).ok() ||
            sector != data) {
          ++failures[t];
        }
        if (HmacSha256(gcm_key, data) != mac) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace kiln
