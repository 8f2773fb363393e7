// The bridge when things fail: Telegram's 429s, 5xx, dropped connections
// and garbage; runbot failing, slow, refusing or gone; malformed updates;
// a blocked user; a rejected token; bad options. Every update is still
// answered exactly once, in order.
#include <doctest/doctest.h>

#include "bot/bridges/reply_format.h"
#include "tests/bridges/world.h"

namespace runbot::telegram::test {

using namespace std::chrono_literals;
using Fault = FakeTelegram::Fault;
using Clock = std::chrono::steady_clock;

namespace {

// The time between the call of `method` that got `fault` and the next call of `method`.
std::optional<Clock::duration> wait_after(const std::vector<FakeTelegram::Call>& calls, const std::string& method,
                                          Fault fault) {
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].method != method || calls[i].fault != fault) continue;
    for (size_t j = i + 1; j < calls.size(); ++j)
      if (calls[j].method == method) return calls[j].at - calls[i].at;
  }
  return std::nullopt;
}

}  // namespace

TEST_SUITE("bridge faults") {
  TEST_CASE("429s are obeyed: nothing is retried before retry_after has passed") {
    World w;
    // retry_after 5 s is 100 ms in tests (retry_after_unit = 20 ms).
    w.telegram.inject("getUpdates", Fault::kTooManyRequests, 1, 5);
    w.telegram.inject("sendMessage", Fault::kTooManyRequests, 1, 5);
    RunningBridge bridge(w.config());
    w.telegram.user_says(1, "a");
    REQUIRE(w.telegram.wait_for_sent(1));
    auto calls = w.telegram.calls();
    auto poll_wait = wait_after(calls, "getUpdates", Fault::kTooManyRequests);
    auto send_wait = wait_after(calls, "sendMessage", Fault::kTooManyRequests);
    REQUIRE(poll_wait);
    REQUIRE(send_wait);
    CHECK(*poll_wait >= 100ms);
    CHECK(*send_wait >= 100ms);
    CHECK(w.telegram.sent_texts(1) == said_all({"a"}));
  }

  TEST_CASE("5xx, dropped connections and garbage from Telegram are retried, and every update is answered exactly once, in order") {
    World w;
    for (const char* method : {"getUpdates", "sendMessage"}) {
      w.telegram.inject(method, Fault::kServerError, 2);
      w.telegram.inject(method, Fault::kDrop, 2);
      w.telegram.inject(method, Fault::kGarbage, 1);
      w.telegram.inject(method, Fault::kTooManyRequests, 1, 1);
    }
    // Within callback_max_attempts (3): a spinner is not worth more.
    w.telegram.inject("answerCallbackQuery", Fault::kServerError, 1);
    w.telegram.inject("answerCallbackQuery", Fault::kDrop, 1);
    RunningBridge bridge(w.config());
    std::map<int64_t, std::vector<std::string>> expected;
    for (int m = 0; m < 4; ++m) {
      for (int64_t chat : {11, 12, 13}) {
        std::string text = str("m", m, " in ", chat);
        w.telegram.user_says(chat, text);
        expected[chat].push_back(said(text));
      }
    }
    REQUIRE(w.telegram.wait_for_sent(12));
    w.telegram.user_presses(w.telegram.sent_to(12).back(), 0, 0);
    expected[12].push_back(said("Yes"));
    REQUIRE(w.telegram.wait_for_sent(13));
    for (auto& [chat, texts] : expected) {
      // A named copy: CAPTURE is a lambda, and clang before 16 cannot capture
      // a structured binding (the sanitizer presets build with clang 14).
      const auto chat_id = chat;
      CAPTURE(chat_id);
      CHECK(w.telegram.sent_texts(chat) == texts);
    }
    CHECK(w.telegram.answered_callbacks().size() == 1);
    CHECK(w.runbot.turns().size() == 13);
    CHECK(bridge.stop_and_wait() == 0);
    CHECK(bridge.events("telegram_failed") >= 14);
    CHECK(w.telegram.sent().size() == 13);  // nothing more went out on the way down
  }

  TEST_CASE("runbot failures are retried with the same id, and a turn whose reply was lost is not run again") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(1, "first");
    REQUIRE(w.telegram.wait_for_sent(1));
    w.runbot.inject(FakeRunbot::Fault::kServerError);
    w.runbot.inject(FakeRunbot::Fault::kOverloaded);
    w.runbot.inject(FakeRunbot::Fault::kDropBeforeTurn);
    w.runbot.inject(FakeRunbot::Fault::kGarbage);
    w.runbot.inject(FakeRunbot::Fault::kDropAfterTurn);
    int64_t id = w.telegram.user_says(1, "second");
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(1) == said_all({"first", "second"}));
    CHECK(turns_for(w.runbot, "second") == 1);
    CHECK(w.runbot.replays() == 1);
    size_t attempts = 0;
    for (const auto& body : w.runbot.bodies()) {
      if (body["text"] != "second") continue;
      ++attempts;
      CHECK(body["id"] == str("tg:", id));
      CHECK(body["session"] == "sess-1");
    }
    CHECK(attempts == 6);
  }

  TEST_CASE("a runbot slower than the timeout is asked again with the same id, and its turn runs once") {
    World w;
    BridgeConfig config = w.config();
    config.runbot_timeout = 300ms;
    RunningBridge bridge(config);
    w.telegram.user_says(1, "first");
    REQUIRE(w.telegram.wait_for_sent(1));
    w.runbot.hold("stall");
    w.telegram.user_says(1, "stall here");
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(1).back() == said("stall here"));
    CHECK(turns_for(w.runbot, "stall here") == 1);
    CHECK(w.runbot.replays() >= 1);
    w.runbot.release();
  }

  TEST_CASE("when runbot stays down the user is told to try later, and the next message is answered normally") {
    World w;
    BridgeConfig config = w.config();
    config.runbot_max_attempts = 3;
    RunningBridge bridge(config);
    w.runbot.inject(FakeRunbot::Fault::kServerError, 3);
    w.telegram.user_says(1, "a");
    w.telegram.user_says(1, "b");
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(1) == std::vector<std::string>{std::string(kUnavailableReply), said("b")});
    CHECK(bridge.events("runbot_gave_up") == 1);
  }

  TEST_CASE("a message runbot refuses as too long gets a short explanation") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(1, std::string(2500, 'x'));
    REQUIRE(w.telegram.wait_for_sent(1));
    CHECK(w.telegram.sent_texts(1) == std::vector<std::string>{std::string(kTooLongReply)});
    CHECK(w.runbot.turns().empty());
  }

  TEST_CASE("malformed updates are skipped without holding up the rest") {
    World w;
    // Ids just below the fake's first (700000001), so that the store still
    // keeps them as answered (it prunes far below the offset).
    w.telegram.push_raw({{"update_id", 699999990}, {"message", "not an object"}});
    w.telegram.push_raw({{"no_update_id", true}});
    w.telegram.push_raw("just a string");
    w.telegram.push_raw({{"update_id", 699999991}, {"callback_query", nlohmann::json::array()}});
    w.telegram.push_raw({{"update_id", 699999992}, {"edited_message", {{"chat", {{"id", 1}}}, {"text", "x"}}}});
    RunningBridge bridge(w.config());
    w.telegram.user_says(1, "after the garbage");
    REQUIRE(w.telegram.wait_for_sent(1));
    CHECK(w.telegram.sent_texts(1) == said_all({"after the garbage"}));
    CHECK(w.telegram.sent().size() == 1);
    CHECK(bridge.stop_and_wait() == 0);
    CHECK(bridge.events("updates_unreadable") >= 1);
    auto store = w.store();
    REQUIRE(store);
    CHECK(store->pending()->empty());
    CHECK(store->answered(699999991));
  }

  TEST_CASE("a user who blocked the bot is passed over and the other chats go on") {
    World w;
    w.telegram.block(9);
    RunningBridge bridge(w.config());
    int64_t blocked = w.telegram.user_says(9, "x");
    w.telegram.user_says(1, "y");
    REQUIRE(w.telegram.wait_for_sent(1));
    CHECK(w.telegram.sent_texts(1) == said_all({"y"}));
    CHECK(bridge.wait_for_event("reply_undeliverable"));
    CHECK(bridge.stop_and_wait() == 0);
    auto store = w.store();
    REQUIRE(store);
    CHECK(store->answered(blocked));
  }

  TEST_CASE("Telegram rejecting the token stops the bridge with exit code 1") {
    World w;
    FakeTelegram other("111:another-bot-token-entirely");
    RunningBridge bridge(test_config(other.api_base(), w.runbot.url(), w.db()));
    CHECK(bridge.wait_exit() == 1);
    CHECK(bridge.events("token_rejected") >= 1);
    CHECK(other.unauthorized_calls() == 1);
  }

  TEST_CASE("bad options stop the bridge with exit code 2 before anything is sent") {
    World w;
    BridgeConfig bad_api = w.config();
    bad_api.options.api_base = "ftp://api.telegram.org";
    BridgeConfig bad_server = w.config();
    bad_server.options.server_url = "localhost:8080";
    BridgeConfig bad_db = w.config();
    bad_db.options.state_db = (w.dir.path / "missing" / "t.db").string();
    BridgeConfig no_token = w.config();
    no_token.token.clear();
    for (BridgeConfig* c : {&bad_api, &bad_server, &bad_db, &no_token}) {
      RunningBridge bridge(*c);
      CHECK(bridge.wait_exit() == 2);
    }
    CHECK(w.telegram.calls().empty());
  }
}

}  // namespace runbot::telegram::test
