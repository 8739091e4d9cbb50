#include "store/lineage_keys.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

LineageId Lineage(uint8_t first) {
  LineageId id;
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(first + i);
  return id;
}

Key256 DataKey(uint8_t first) {
  Key256 key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(first + i);
  return key;
}

// Expected values computed independently (Python hmac/hashlib, RFC 5869 by hand) with
// IKM = 00..1f, salt = a0..af and the info strings of lineage_keys.h. They pin the derivation:
// if they change, every existing encrypted lineage becomes unreadable.
TEST(LineageKeysTest, KnownAnswer) {
  Result<LineageKeys> keys = LineageKeys::Derive(Lineage(0xa0), DataKey(0));
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->lineage, Lineage(0xa0));
  EXPECT_EQ(HexEncode(keys->id_key),
            "dbde9ff3c3d98ab2401e69be37881c45451b7b32a188411d49f6acdecb3d7ad5");
  EXPECT_EQ(HexEncode(keys->seal_key),
            "e6648da9889fa73c6a5764ad8a52ccb85be4bcf6d6296bdf8641432514347879");
  EXPECT_EQ(HexEncode(keys->xts_key),
            "a42a5f934f770be96d5d1653acae738dcb86384c255d93e3808e9fe040a83e02"
            "50daca42800cf964504f81d64b6187c9c369263e1c669939c7aebc254d498661");
  EXPECT_EQ(HexEncode(keys->sector_mac_key),
            "7c7a259ad52ae5bfcb58e15ebd36f26ec08c8b0256ebe7985aac9b761944f4cf");
  EXPECT_EQ(HexEncode(keys->check_key),
            "67a915ed1d5a6bd0ade31ff312e8732d28e7f62f02e678da2289538bff51752f");
}

TEST(LineageKeysTest, EveryInputChangesEveryKey) {
  const LineageKeys base = *LineageKeys::Derive(Lineage(1), DataKey(1));
  const LineageKeys other_lineage = *LineageKeys::Derive(Lineage(2), DataKey(1));
  const LineageKeys other_key = *LineageKeys::Derive(Lineage(1), DataKey(2));
  for (const LineageKeys* k : {&other_lineage, &other_key}) {
    EXPECT_NE(k->id_key, base.id_key);
    EXPECT_NE(k->seal_key, base.seal_key);
    EXPECT_NE(k->xts_key, base.xts_key);
    EXPECT_NE(k->sector_mac_key, base.sector_mac_key);
    EXPECT_NE(k->check_key, base.check_key);
  }
  EXPECT_NE(base.id_key, base.seal_key) << "one data key never serves two purposes";
  const LineageKeys again = *LineageKeys::Derive(Lineage(1), DataKey(1));
  EXPECT_EQ(again.id_key, base.id_key);
  EXPECT_EQ(again.seal_key, base.seal_key);
  EXPECT_EQ(again.xts_key, base.xts_key);
}

}  // namespace
}  // namespace kiln
