#include "bot/session_state.h"

#include <doctest/doctest.h>

#include "tests/test_support.h"

using namespace runbot;

TEST_SUITE("session_state") {
  TEST_CASE("the state round-trips through JSON at every turn of a dialog") {
    SessionState s;
    for (const char* m : {"back of my knee hurts after running", "it's a bit swollen", "yes warm too",
                          "what's a baker's cyst?", "no locking", "three weeks", "start over"}) {
      s = test::engine().handle(s, m).state;
      bool ok = false;
      SessionState back = session_state_from_string(to_json(s).dump(), &ok);
      CHECK(ok);
      CHECK(back == s);
    }
  }
  TEST_CASE("corrupt or foreign state starts a fresh session") {
    for (const char* bad : {"", "not json", "[]", "{\"v\": 99}", "{\"v\":1,\"turns\":\"x\",\"dialog\":{}}",
                            "{\"v\":1,\"turns\":1,\"dialog\":{\"reprompts\":-5}}"}) {
      bool ok = true;
      SessionState s = session_state_from_string(bad, &ok);
      CHECK_FALSE(ok);
      CHECK(s == SessionState{});
    }
  }
  TEST_CASE("the state holds slots, never the user's words") {
    SessionState s = test::engine().handle(SessionState{}, "my secret knee pain after the zebra marathon").state;
    CHECK(to_json(s).dump().find("zebra") == std::string::npos);
  }
}
