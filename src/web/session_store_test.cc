// SessionStore: ids and tokens, expiry on a manual clock, sign-out, the cap, what is kept.
#include "web/session_store.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace kiln {
namespace {

constexpr uint64_t kHour = 3600ull * 1000 * 1000;

TEST(SessionStoreTest, CreateGivesRandomHexIdsAndTokens) {
  ManualClock clock;
  SessionStore store(clock);
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto s = store.Create("123456789012", "AKIAEXAMPLE000000000");
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(std::regex_match(s->id, std::regex("[0-9a-f]{64}")));
    EXPECT_TRUE(std::regex_match(s->session.csrf_token, std::regex("[0-9a-f]{64}")));
    EXPECT_NE(s->id, s->session.csrf_token);
    EXPECT_EQ(s->session.expires_micros, clock.WallMicros() + 12 * kHour);
    EXPECT_TRUE(seen.insert(s->id).second);
    EXPECT_TRUE(seen.insert(s->session.csrf_token).second);
  }
}

TEST(SessionStoreTest, FindReturnsTheSessionUntilItExpires) {
  ManualClock clock;
  SessionStore store(clock);
  auto s = store.Create("123456789012", "AKIAEXAMPLE000000000");
  ASSERT_TRUE(s.ok());
  auto found = store.Find(s->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->account_id, "123456789012");
  EXPECT_EQ(found->access_key_id, "AKIAEXAMPLE000000000");
  EXPECT_EQ(found->csrf_token, s->session.csrf_token);
  clock.Advance(12 * kHour - 1);
  EXPECT_TRUE(store.Find(s->id));
  clock.Advance(1);
  EXPECT_FALSE(store.Find(s->id)) << "expired at exactly 12 h";
  EXPECT_EQ(store.size(), 0u) << "an expired session is dropped";
}

TEST(SessionStoreTest, BadIdsFindNothing) {
  ManualClock clock;
  SessionStore store(clock);
  auto s = store.Create("123456789012", "AKIAEXAMPLE000000000");
  ASSERT_TRUE(s.ok());
  std::string upper = s->id;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  for (const std::string& bad :
       {std::string(""), std::string("x"), s->id.substr(1), s->id + "0", upper,
        std::string(64, '0'), s->session.csrf_token, std::string(64, 'g')}) {
    EXPECT_FALSE(store.Find(bad)) << bad;
  }
  EXPECT_TRUE(store.Find(s->id));
}

TEST(SessionStoreTest, RemoveSignsOutOnlyThatSession) {
  ManualClock clock;
  SessionStore store(clock);
  auto a = store.Create("123456789012", "AKIAEXAMPLE000000000");
  auto b = store.Create("123456789012", "AKIAEXAMPLE000000000");
  ASSERT_TRUE(a.ok() && b.ok());
  store.Remove(a->id);
  EXPECT_FALSE(store.Find(a->id));
  EXPECT_TRUE(store.Find(b->id));
  store.Remove("not-an-id");
  store.Remove(a->id);  // twice is fine
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStoreTest, CsrfComparison) {
  WebSession s;
  s.csrf_token = std::string(64, 'a');
  EXPECT_TRUE(SessionStore::CsrfMatches(s, std::string(64, 'a')));
  EXPECT_FALSE(SessionStore::CsrfMatches(s, std::string(63, 'a')));
  EXPECT_FALSE(SessionStore::CsrfMatches(s, std::string(63, 'a') + "b"));
  EXPECT_FALSE(SessionStore::CsrfMatches(s, ""));
  WebSession none;
  EXPECT_FALSE(SessionStore::CsrfMatches(none, "")) << "an empty token never matches";
}

TEST(SessionStoreTest, TheCapEvictsTheOldest) {
  ManualClock clock;
  SessionStore store(clock, 12 * kHour, /*max_sessions=*/3);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock.Advance(1000);
    auto s = store.Create("123456789012", "AKIAEXAMPLE000000000");
    ASSERT_TRUE(s.ok());
    ids.push_back(s->id);
  }
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(ids[0]));
  EXPECT_FALSE(store.Find(ids[1]));
  EXPECT_TRUE(store.Find(ids[4]));
}

}  // namespace
}  // namespace kiln
