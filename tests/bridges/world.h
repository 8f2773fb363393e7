// World: what an end-to-end bridge test runs against: a temporary folder
// for the bridge's database, a FakeTelegram and a FakeRunbot, plus the
// checks the tests share.
#ifndef RUNBOT_TESTS_BRIDGES_WORLD_H_
#define RUNBOT_TESTS_BRIDGES_WORLD_H_

#include <string>
#include <vector>

#include "bot/bridges/bridge_store.h"
#include "tests/bridges/bridge_harness.h"
#include "tests/bridges/fake_runbot.h"
#include "tests/bridges/fake_telegram.h"

namespace runbot::telegram::test {

struct World {
  TempDir dir;
  FakeTelegram telegram{kTestToken};
  FakeRunbot runbot;

  std::string db() const { return (dir.path / "telegram.db").string(); }
  BridgeConfig config() const { return test_config(telegram.api_base(), runbot.url(), db()); }
  // The bridge's database, opened after the bridge has stopped.
  std::unique_ptr<BridgeStore> store() const {
    std::string error;
    return BridgeStore::open(db(), &error);
  }
};

// The parts strung together: str("chat ", 3) == "chat 3". (Also keeps
// `"literal" + std::string` out of the tests: GCC 12 warns falsely on it
// at -O2, bug 105329.)
inline void append(std::string& s, const std::string& part) { s += part; }
inline void append(std::string& s, const char* part) { s += part; }
inline void append(std::string& s, long long n) { s += std::to_string(n); }
template <class... Parts>
std::string str(const Parts&... parts) {
  std::string s;
  (append(s, parts), ...);
  return s;
}

// "you said: <text>", the fake runbot's answer.
inline std::string said(const std::string& text) {
  std::string s = "you said: ";
  s += text;
  return s;
}

inline std::vector<std::string> said_all(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  for (const auto& t : texts) out.push_back(said(t));
  return out;
}

// How many turns the fake runbot ran for `text`.
inline size_t turns_for(const FakeRunbot& runbot, const std::string& text) {
  size_t n = 0;
  for (const auto& t : runbot.turns()) n += t.text == text;
  return n;
}

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_WORLD_H_
