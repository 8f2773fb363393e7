// Commands, keyboards and message splitting.
#include <doctest/doctest.h>

#include "bot/bridges/reply_format.h"
#include "bot/bridges/telegram_types.h"

namespace runbot::telegram {

TEST_SUITE("reply format") {
  TEST_CASE("/start greets and /reset starts over, with @botname or arguments, and other text is unchanged") {
    CHECK(runbot_text_for("/start") == "hi");
    CHECK(runbot_text_for("/start@runbot_bot") == "hi");
    CHECK(runbot_text_for("/start deep-link-payload") == "hi");
    CHECK(runbot_text_for("/reset") == "start over");
    CHECK(runbot_text_for("  /reset@runbot_bot") == "start over");
    CHECK(runbot_text_for("/startle") == "/startle");
    CHECK(runbot_text_for("my knee /start") == "my knee /start");
    CHECK(runbot_text_for("the back of my knee hurts") == "the back of my knee hurts");
  }

  TEST_CASE("callback_data is the reply when it fits in 64 bytes, else an index") {
    CHECK(callback_data_for("Yes", 0) == "Yes");
    std::string exactly64(64, 'a');
    CHECK(callback_data_for(exactly64, 1) == exactly64);
    CHECK(callback_data_for(std::string(65, 'a'), 2) == "#qr2");
    // 22 three-byte characters: 22 characters but 66 bytes.
    std::string wide;
    for (int i = 0; i < 22; ++i) wide += "\xE2\x82\xAC";
    CHECK(callback_data_for(wide, 3) == "#qr3");
    // A reply that looks like the index form must not be mistaken for one.
    CHECK(callback_data_for("#qr1", 4) == "#qr4");
  }

  TEST_CASE("short quick replies share a row, long ones get their own, empty ones are left out") {
    auto kb = inline_keyboard({"Yes", "No", "", "It started after a long run on hills", "Not sure"});
    REQUIRE(kb.is_object());
    const auto& rows = kb["inline_keyboard"];
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].size() == 2);
    CHECK(rows[0][0]["text"] == "Yes");
    CHECK(rows[0][0]["callback_data"] == "Yes");
    CHECK(rows[1].size() == 1);
    CHECK(rows[2][0]["text"] == "Not sure");
    CHECK(rows[2][0]["callback_data"] == "Not sure");
    CHECK(inline_keyboard({}).is_null());
    CHECK(inline_keyboard({"", " "}).is_null());
  }

  TEST_CASE("no more than three buttons to a row") {
    auto kb = inline_keyboard({"1", "2", "3", "4", "5"});
    REQUIRE(kb["inline_keyboard"].size() == 2);
    CHECK(kb["inline_keyboard"][0].size() == 3);
  }

  TEST_CASE("length is counted in UTF-16 units as Telegram counts it") {
    CHECK(utf16_length("abc") == 3);
    CHECK(utf16_length("\xC3\xA9") == 1);          // é
    CHECK(utf16_length("\xF0\x9F\x8F\x83") == 2);  // runner emoji: a surrogate pair
  }

  TEST_CASE("a reply that fits is one message and a long one is cut at paragraphs within the limit") {
    CHECK(split_message("short reply") == std::vector<std::string>{"short reply"});
    CHECK(split_message("").empty());
    std::string para(30, 'a');
    std::string text = para + "\n\n" + para + "\n\n" + para;
    auto pieces = split_message(text, 70);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0] == para + "\n\n" + para);
    CHECK(pieces[1] == para);
  }

  TEST_CASE("splitting falls back to spaces, then to a hard cut, and never cuts a UTF-8 sequence") {
    auto words = split_message("alpha beta gamma delta", 11);
    CHECK(words == std::vector<std::string>{"alpha beta", "gamma delta"});
    std::string runners;
    for (int i = 0; i < 10; ++i) runners += "\xF0\x9F\x8F\x83";
    auto pieces = split_message(runners, 5);  // two emoji (4 units) per piece
    REQUIRE(pieces.size() == 5);
    for (const auto& p : pieces) CHECK(p.size() == 8);
    std::string big(10000, 'x');
    for (const auto& p : split_message(big)) CHECK(utf16_length(p) <= kMaxMessageUtf16);
  }
}

}  // namespace runbot::telegram
