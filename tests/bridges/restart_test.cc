// Restarts: the bridge stopped in the middle of its work (a chat waiting
// on runbot, updates queued behind it, updates arriving while it is down)
// and started again on the same database loses no update and answers none
// twice; updates a dead run had stored are answered; an update Telegram
// sends again after it was answered is not answered again.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "tests/bridges/world.h"

namespace runbot::telegram::test {

using namespace std::chrono_literals;

namespace {

Update text_update(int64_t id, int64_t chat, std::string text) {
  Update u;
  u.update_id = id;
  u.chat_id = chat;
  u.kind = UpdateKind::kText;
  u.text = std::move(text);
  return u;
}

}  // namespace

TEST_SUITE("bridge restart") {
  TEST_CASE("a restart with the same database in the middle of the work loses and repeats nothing") {
    World w;
    std::map<int64_t, std::vector<std::string>> expected;
    auto say = [&](int64_t chat, const std::string& text) {
      w.telegram.user_says(chat, text);
      expected[chat].push_back(said(text));
    };
    {
      RunningBridge first(w.config());
      for (int m = 0; m < 3; ++m)
        for (int64_t chat : {1, 2, 3}) say(chat, str("before ", m, " in ", chat));
      REQUIRE(w.telegram.wait_for_sent(9));
      // Chat 1 waits on runbot with two more updates queued behind it,
      // chat 2 goes on, when the bridge is stopped.
      w.runbot.hold("slow");
      say(1, "slow one");
      say(1, "queued a");
      say(1, "queued b");
      REQUIRE(w.runbot.wait_until([&] { return turns_for(w.runbot, "slow one") == 1; }));
      say(2, "during");
      REQUIRE(w.telegram.wait_for_sent(10));
      CHECK(first.stop_and_wait() == 0);
    }
    CHECK(w.telegram.sent_to(1).size() == 3);
    w.runbot.release();
    // While the bridge is down.
    say(3, "while down");
    say(1, "while down too");

    RunningBridge second(w.config());
    REQUIRE(w.telegram.wait_for_sent(15));
    for (auto& [chat, texts] : expected) {
      // A named copy: CAPTURE is a lambda, and clang before 16 cannot capture
      // a structured binding (the sanitizer presets build with clang 14).
      const auto chat_id = chat;
      CAPTURE(chat_id);
      CHECK(w.telegram.sent_texts(chat) == texts);
    }
    // The turn cut off by the stop was asked again with the same id and
    // answered from runbot's store, not run a second time.
    CHECK(turns_for(w.runbot, "slow one") == 1);
    CHECK(w.runbot.replays() == 1);
    CHECK(w.runbot.turns().size() == 15);  // 15 answers, one of them the replay
    // Chat 1 kept its runbot session across the restart.
    std::set<std::string> chat1_sessions;
    for (const auto& t : w.runbot.turns())
      if (t.text.ends_with(" in 1") || t.text == "slow one" || t.text.starts_with("queued") || t.text == "while down too")
        chat1_sessions.insert(t.session);
    CHECK(chat1_sessions.size() == 1);
    CHECK(second.stop_and_wait() == 0);
    CHECK(w.telegram.sent().size() == 15);
    auto store = w.store();
    REQUIRE(store);
    CHECK(store->pending()->empty());
  }

  TEST_CASE("updates a dead run had stored but not answered are answered by the next run") {
    World w;
    {
      auto store = w.store();
      REQUIRE(store);
      // A run that took these in (and so told Telegram) and died.
      REQUIRE(store->accept({text_update(500, 7, "left over"), text_update(501, 7, "and this")}, 502));
    }
    RunningBridge bridge(w.config());
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(7) == said_all({"left over", "and this"}));
    CHECK(w.telegram.wait_until([&] { return w.telegram.confirmed_offset() >= 502; }));
  }

  TEST_CASE("an update Telegram sends again after it was answered is not answered again") {
    World w;
    {
      auto store = w.store();
      REQUIRE(store);
      // Answered by an earlier run, with the offset not yet past it (as if
      // Telegram had not been told before that run ended).
      REQUIRE(store->accept({text_update(700000001, 5, "hello")}, 0));
      REQUIRE(store->mark_answered(700000001));
    }
    int64_t again = w.telegram.user_says(5, "hello");  // the fake's first id: 700000001
    REQUIRE(again == 700000001);
    int64_t next = w.telegram.user_says(5, "new");
    RunningBridge bridge(w.config());
    REQUIRE(w.telegram.wait_for_sent(1));
    CHECK(w.telegram.wait_until([&] { return w.telegram.confirmed_offset() == next + 1; }));
    CHECK(w.telegram.sent_texts(5) == said_all({"new"}));
    CHECK(turns_for(w.runbot, "hello") == 0);
  }
}

}  // namespace runbot::telegram::test
