// The bridge end to end, against the fake Bot API and the fake runbot:
// replies, keyboards, buttons, commands, many chats, a slow chat, and the
// token kept out of stderr.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "bot/bridges/reply_format.h"
#include "tests/bridges/world.h"

namespace runbot::telegram::test {

using namespace std::chrono_literals;

TEST_SUITE("bridge") {
  TEST_CASE("each message is answered once, in order, in plain text, with the quick replies as buttons") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(1, "the back of my knee hurts");
    w.telegram.user_says(1, "after long runs");
    int64_t last = w.telegram.user_says(1, "quiet now");
    REQUIRE(w.telegram.wait_for_sent(3));
    auto sent = w.telegram.sent_to(1);
    REQUIRE(sent.size() == 3);
    CHECK(w.telegram.sent_texts(1) == said_all({"the back of my knee hurts", "after long runs", "quiet now"}));
    for (const auto& s : sent) CHECK(!s.parse_mode);
    REQUIRE(sent[0].keyboard.size() == 1);
    REQUIRE(sent[0].keyboard[0].size() == 2);
    CHECK(sent[0].keyboard[0][0].text == "Yes");
    CHECK(sent[0].keyboard[0][0].callback_data == "Yes");
    CHECK(sent[0].keyboard[0][1].text == "No");
    CHECK(sent[2].keyboard.empty());  // no quick replies, no keyboard

    // One session for the chat, from runbot's first reply; a stable id per update.
    auto bodies = w.runbot.bodies();
    REQUIRE(bodies.size() == 3);
    CHECK(bodies[0]["session"].is_null());
    CHECK(bodies[1]["session"] == "sess-1");
    CHECK(bodies[2]["session"] == "sess-1");
    CHECK(bodies[2]["id"] == str("tg:", last));

    // Telegram is told only after the batch is stored; then the offset passes all.
    CHECK(w.telegram.wait_until([&] { return w.telegram.confirmed_offset() == last + 1; }));
    CHECK(bridge.stop_and_wait() == 0);
    auto store = w.store();
    REQUIRE(store);
    CHECK(store->pending()->empty());
    CHECK(store->session(1) == "sess-1");
    CHECK(store->offset() == last + 1);
  }

  TEST_CASE("/start greets and /reset starts over") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(5, "/start");
    w.telegram.user_says(5, "/reset@runbot_bot");
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(5) == said_all({"hi", "start over"}));
  }

  TEST_CASE("a pressed button stops its spinner, then goes to runbot as the user's message") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(3, "hello");
    REQUIRE(w.telegram.wait_for_sent(1));
    w.telegram.user_presses(w.telegram.sent_to(3).at(0), 0, 1);  // "No"
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.telegram.sent_texts(3) == said_all({"hello", "No"}));
    CHECK(w.telegram.answered_callbacks().size() == 1);
    CHECK(w.runbot.turns().back().text == "No");
    CHECK(w.runbot.turns().back().session == "sess-1");
    // The spinner is stopped before the answer is worked out.
    auto calls = w.telegram.calls();
    auto answered = std::find_if(calls.begin(), calls.end(), [](const auto& c) { return c.method == "answerCallbackQuery"; });
    auto second_send = std::find_if(std::next(std::find_if(calls.begin(), calls.end(),
                                                           [](const auto& c) { return c.method == "sendMessage"; })),
                                    calls.end(), [](const auto& c) { return c.method == "sendMessage"; });
    CHECK(answered < second_send);
  }

  TEST_CASE("a quick reply longer than 64 bytes travels as an index and comes back as its text") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_says(4, "long story");
    REQUIRE(w.telegram.wait_for_sent(1));
    auto first = w.telegram.sent_to(4).at(0);
    REQUIRE(first.keyboard.size() == 2);
    CHECK(first.keyboard[1][0].text == kLongQuickReply);
    CHECK(first.keyboard[1][0].callback_data == "#qr1");
    w.telegram.user_presses(first, 1, 0);
    REQUIRE(w.telegram.wait_for_sent(2));
    CHECK(w.runbot.turns().back().text == kLongQuickReply);
    CHECK(w.telegram.sent_texts(4).back() == said(kLongQuickReply));
  }

  TEST_CASE("a message without text gets a short explanation and runbot is not asked") {
    World w;
    RunningBridge bridge(w.config());
    w.telegram.user_sends_photo(6);
    REQUIRE(w.telegram.wait_for_sent(1));
    CHECK(w.telegram.sent_texts(6) == std::vector<std::string>{std::string(kNotTextReply)});
    CHECK(w.runbot.requests() == 0);
  }

  TEST_CASE("many chats are served at once, each in its own order and its own session") {
    World w;
    RunningBridge bridge(w.config());
    constexpr int kChats = 20, kMessages = 5;
    for (int m = 0; m < kMessages; ++m)
      for (int c = 1; c <= kChats; ++c) w.telegram.user_says(1000 + c, str("chat ", c, " message ", m));
    REQUIRE(w.telegram.wait_for_sent(kChats * kMessages));
    std::set<std::string> sessions;
    for (int c = 1; c <= kChats; ++c) {
      std::vector<std::string> expected;
      for (int m = 0; m < kMessages; ++m) expected.push_back(said(str("chat ", c, " message ", m)));
      CAPTURE(c);
      CHECK(w.telegram.sent_texts(1000 + c) == expected);
    }
    for (const auto& t : w.runbot.turns()) sessions.insert(t.session);
    CHECK(sessions.size() == kChats);
    CHECK(w.runbot.turns().size() == kChats * kMessages);
  }

  TEST_CASE("a slow chat does not delay the other chats") {
    World w;
    BridgeConfig config = w.config();
    config.options.max_parallel_chats = 2;  // even with two workers
    config.runbot_timeout = 20s;            // the slow reply is slow, not lost
    RunningBridge bridge(config);
    w.runbot.hold("slow");
    w.telegram.user_says(100, "slow answer please");
    w.telegram.user_says(100, "and then this");
    REQUIRE(w.runbot.wait_until([&] { return turns_for(w.runbot, "slow answer please") == 1; }));
    for (int i = 0; i < 3; ++i) {
      w.telegram.user_says(200, str("b", i));
      w.telegram.user_says(300, str("c", i));
    }
    CHECK(w.telegram.wait_until([&] { return w.telegram.sent_to(200).size() == 3 && w.telegram.sent_to(300).size() == 3; }));
    CHECK(w.telegram.sent_to(100).empty());  // still waiting for runbot
    w.runbot.release();
    REQUIRE(w.telegram.wait_for_sent(8));
    CHECK(w.telegram.sent_texts(100) == said_all({"slow answer please", "and then this"}));
    CHECK(w.telegram.sent_texts(200) == said_all({"b0", "b1", "b2"}));
  }

  TEST_CASE("the token never appears in what the bridge writes to stderr, whatever fails") {
    StderrCapture capture;
    int rejected_code = 0;
    {
      World w;
      w.telegram.inject("getUpdates", FakeTelegram::Fault::kServerError);
      w.telegram.inject("getUpdates", FakeTelegram::Fault::kDrop);
      w.telegram.inject("getUpdates", FakeTelegram::Fault::kGarbage);
      w.telegram.inject("getUpdates", FakeTelegram::Fault::kTooManyRequests);
      w.telegram.inject("sendMessage", FakeTelegram::Fault::kServerError);
      w.telegram.inject("sendMessage", FakeTelegram::Fault::kDrop);
      w.telegram.inject("sendMessage", FakeTelegram::Fault::kTooManyRequests);
      w.telegram.inject("answerCallbackQuery", FakeTelegram::Fault::kGarbage);
      w.runbot.inject(FakeRunbot::Fault::kGarbage);
      {
        RunningBridge bridge(w.config(), /*keep_stderr=*/true);
        w.telegram.user_says(1, "hello");
        REQUIRE(w.telegram.wait_for_sent(1));
        w.telegram.user_presses(w.telegram.sent_to(1).at(0), 0, 0);
        REQUIRE(w.telegram.wait_for_sent(2));
      }
      // And a token Telegram rejects, with the URL logged.
      FakeTelegram other("111:another-bot-token-entirely");
      RunningBridge rejected(test_config(other.api_base(), w.runbot.url(), w.db()), /*keep_stderr=*/true);
      rejected_code = rejected.wait_exit();
    }
    const std::string log = capture.finish();
    const std::string token = kTestToken;
    CHECK(rejected_code == 1);
    CHECK(log.find(token) == std::string::npos);
    CHECK(log.find(token.substr(token.find(':') + 1)) == std::string::npos);
    CHECK(log.find("/bot<redacted>/getUpdates") != std::string::npos);
    CHECK(log.find("\"telegram_failed\"") != std::string::npos);
    CHECK(log.find("\"runbot_failed\"") != std::string::npos);
    CHECK(log.find("\"token_rejected\"") != std::string::npos);
    // And no message text either.
    CHECK(log.find("hello") == std::string::npos);
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      CAPTURE(line);
      CHECK(nlohmann::json::parse(line, nullptr, false).is_object());
    }
  }
}

}  // namespace runbot::telegram::test
