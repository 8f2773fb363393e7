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
  TEST_CASE("issue 6: numbers that are not counts in int range are corrupt state, not undefined behaviour") {
    for (const char* bad : {"{\"v\":1e300,\"turns\":1,\"dialog\":{}}", "{\"v\":1,\"turns\":1.5,\"dialog\":{}}",
                            "{\"v\":1,\"turns\":4294967296,\"dialog\":{}}",
                            "{\"v\":1,\"turns\":18446744073709551615,\"dialog\":{}}",
                            "{\"v\":1,\"turns\":1,\"dialog\":{\"reprompts\":1e300}}"}) {
      bool ok = true;
      CHECK(session_state_from_string(bad, &ok) == SessionState{});
      CHECK_FALSE(ok);
    }
  }
  TEST_CASE("issue 6: the turn count saturates instead of overflowing") {
    bool ok = false;
    SessionState s = session_state_from_string("{\"v\":1,\"turns\":2147483647,\"dialog\":{}}", &ok);
    REQUIRE(ok);
    CHECK(test::engine().handle(s, "hello").state.turns == 2147483647);
  }
  TEST_CASE("issue 6: a stored duration that is not a number of days raises no flag and does not throw") {
    bool ok = false;
    SessionState s = session_state_from_string(
        "{\"v\":1,\"turns\":3,\"dialog\":{\"active\":true,\"pending\":\"onset\",\"slots\":{\"duration\":\"no\"}}}", &ok);
    REQUIRE(ok);
    for (const char* duration : {"no", "99999999999", "12abc", "-3"}) {
      s.dialog.slots["duration"] = duration;
      auto r = test::engine().handle(s, "it came on gradually");
      CHECK_FALSE(r.reply.text.empty());
      CHECK(r.state.dialog.triage == Triage::kNone);
    }
  }
  TEST_CASE("the state holds slots, never the user's words") {
    SessionState s = test::engine().handle(SessionState{}, "my secret knee pain after the zebra marathon").state;
    CHECK(to_json(s).dump().find("zebra") == std::string::npos);
  }
}
