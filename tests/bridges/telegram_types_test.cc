// parse_update and parse_api_result: Telegram's JSON, well-formed or not.
#include <doctest/doctest.h>

#include "bot/bridges/telegram_types.h"

namespace runbot::telegram {

using json = nlohmann::json;

TEST_SUITE("telegram types") {
  TEST_CASE("a text message becomes a kText update for its chat, without the sender's name") {
    json j = json::parse(R"({"update_id": 1001, "message": {"message_id": 5, "from": {"id": 77, "first_name": "Ann"},
                              "chat": {"id": 77, "type": "private"}, "date": 1, "text": "my knee hurts"}})");
    auto u = parse_update(j);
    REQUIRE(u);
    CHECK(u->update_id == 1001);
    CHECK(u->chat_id == 77);
    CHECK(u->kind == UpdateKind::kText);
    CHECK(u->text == "my knee hurts");
  }

  TEST_CASE("a pressed button carries its callback data as the reply text") {
    json j = json::parse(R"({"update_id": 1002, "callback_query": {"id": "q1", "from": {"id": 77},
                              "message": {"message_id": 9, "chat": {"id": -100123}}, "data": "Yes"}})");
    auto u = parse_update(j);
    REQUIRE(u);
    CHECK(u->kind == UpdateKind::kButton);
    CHECK(u->chat_id == -100123);
    CHECK(u->callback_id == "q1");
    CHECK(u->text == "Yes");
  }

  TEST_CASE("an index button is read back from the keyboard Telegram sends with the query") {
    json j = json::parse(R"({"update_id": 1003, "callback_query": {"id": "q2", "from": {"id": 77},
      "message": {"message_id": 9, "chat": {"id": 77}, "reply_markup": {"inline_keyboard": [
        [{"text": "Yes", "callback_data": "Yes"}],
        [{"text": "A very long quick reply that does not fit", "callback_data": "#qr1"}]]}},
      "data": "#qr1"}})");
    auto u = parse_update(j);
    REQUIRE(u);
    CHECK(u->kind == UpdateKind::kButton);
    CHECK(u->text == "A very long quick reply that does not fit");
  }

  TEST_CASE("an index button without its keyboard, or without a message, has expired") {
    json no_markup = json::parse(R"({"update_id": 1, "callback_query": {"id": "q", "from": {"id": 5},
                                     "message": {"chat": {"id": 5}}, "data": "#qr3"}})");
    json no_message = json::parse(R"({"update_id": 2, "callback_query": {"id": "q", "from": {"id": 5}, "data": "Yes"}})");
    json no_data = json::parse(R"({"update_id": 3, "callback_query": {"id": "q", "from": {"id": 5},
                                   "message": {"chat": {"id": 5}}}})");
    for (const json& j : {no_markup, no_message, no_data}) {
      auto u = parse_update(j);
      REQUIRE(u);
      CHECK(u->kind == UpdateKind::kExpiredButton);
      CHECK(u->chat_id == 5);
      CHECK(u->callback_id == "q");
    }
  }

  TEST_CASE("a message without text is kNotText and other update types are ignored") {
    auto photo = parse_update(json::parse(R"({"update_id": 4, "message": {"chat": {"id": 8}, "photo": []}})"));
    REQUIRE(photo);
    CHECK(photo->kind == UpdateKind::kNotText);
    auto edit = parse_update(json::parse(R"({"update_id": 5, "edited_message": {"chat": {"id": 8}, "text": "x"}})"));
    REQUIRE(edit);
    CHECK(edit->kind == UpdateKind::kIgnored);
  }

  TEST_CASE("malformed updates never throw: no usable id gives nullopt, bad fields give kIgnored") {
    for (const char* text : {R"(null)", R"([])", R"("x")", R"({})", R"({"update_id": "7"})", R"({"update_id": 1.5})",
                             R"({"update_id": -1})", R"({"update_id": 9007199254740993})"}) {
      CAPTURE(text);
      CHECK(!parse_update(json::parse(text)));
    }
    for (const char* text : {R"({"update_id": 6, "message": {"chat": {"id": "77"}, "text": "hi"}})",
                             R"({"update_id": 6, "message": {"chat": 77, "text": "hi"}})",
                             R"({"update_id": 6, "message": "hi"})",
                             R"({"update_id": 6, "callback_query": {"id": 12, "data": "Yes"}})",
                             R"({"update_id": 6, "callback_query": []})"}) {
      CAPTURE(text);
      auto u = parse_update(json::parse(text));
      REQUIRE(u);
      CHECK(u->kind == UpdateKind::kIgnored);
    }
    auto number_text = parse_update(json::parse(R"({"update_id": 6, "message": {"chat": {"id": 1}, "text": 5}})"));
    REQUIRE(number_text);
    CHECK(number_text->kind == UpdateKind::kNotText);
  }

  TEST_CASE("the result envelope: success, errors with retry_after, and garbage") {
    auto ok = parse_api_result(R"({"ok":true,"result":[{"update_id":1}]})");
    REQUIRE(ok);
    CHECK(ok->ok);
    CHECK(ok->result.is_array());

    auto flood = parse_api_result(
        R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})");
    REQUIRE(flood);
    CHECK(!flood->ok);
    CHECK(flood->error_code == 429);
    CHECK(flood->retry_after == 7);
    CHECK(flood->description == "Too Many Requests: retry after 7");

    for (const char* bad : {"", "<html>", R"({"ok":true})", R"({"ok":"yes","result":1})", R"({"ok":true,"result":[)",
                            "[]", "null"}) {
      CAPTURE(bad);
      CHECK(!parse_api_result(bad));
    }
    auto odd = parse_api_result(R"({"ok":false,"error_code":"x","parameters":{"retry_after":-3}})");
    REQUIRE(odd);
    CHECK(odd->error_code == 0);
    CHECK(!odd->retry_after);
  }
}

}  // namespace runbot::telegram
