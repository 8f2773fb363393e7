#include "bot/engine.h"

#include <doctest/doctest.h>

#include "tests/test_support.h"

using namespace runbot;
using runbot::test::engine;

TEST_SUITE("engine") {
  TEST_CASE("handle returns every reply field of the protocol") {
    auto r = engine().handle(SessionState{}, "what is a baker's cyst?");
    auto j = to_json(r.reply, "c1");
    CHECK(j["type"] == "reply");
    CHECK(j["reply_to"] == "c1");
    CHECK(j["intent"] == "condition_info");
    CHECK(j["entities"]["condition"] == "bakers_cyst");
    CHECK(j["confidence"].get<double>() > 0);
    CHECK(j["confidence"].get<double>() <= 1);
    CHECK(j["triage"].is_null());
    CHECK(j["expecting"].is_null());
    CHECK(j["quick_replies"].is_array());
    CHECK(j["sources"][0] == "conditions.bakers_cyst");
    CHECK(r.state.turns == 1);
  }
  TEST_CASE("reply text is plain text") {
    for (const char* m : {"help", "why does the back of my knee hurt?", "back of knee hurts after running"}) {
      auto r = engine().handle(SessionState{}, m);
      CHECK(r.reply.text.find('<') == std::string::npos);
      CHECK_FALSE(r.reply.text.empty());
    }
  }
  TEST_CASE("never throws on user text and always replies") {
    std::vector<std::string> inputs = {"", std::string(50000, 'x'), "\xc3\x28 invalid utf8 \xff",
                                       std::string("nul\0byte", 8), "{\"json\": true}", "😀😀😀",
                                       "no no no not not never", "? ? ? ?"};
    for (const auto& in : inputs) {
      auto r = engine().handle(SessionState{}, in);
      CHECK_FALSE(r.reply.text.empty());
      CHECK_FALSE(r.reply.intent.empty());
      CHECK_NOTHROW(to_json(r.reply).dump());
    }
  }
  TEST_CASE("invalid UTF-8 never reaches the reply") {
    auto r = engine().handle(SessionState{}, "\xff\xfe my knee hurts behind after running \xc0");
    CHECK_NOTHROW(to_json(r.reply).dump());
    CHECK(r.reply.intent == "symptom_report");
  }
  TEST_CASE("out of scope answers list what the bot can do") {
    auto r = engine().handle(SessionState{}, "what's the capital of France");
    CHECK(r.reply.intent == "out_of_scope");
    CHECK(r.reply.text.find("knee") != std::string::npos);
    CHECK_FALSE(r.reply.quick_replies.empty());
  }
}
