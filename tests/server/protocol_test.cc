// The wire protocol as pure functions: every client frame shape, every row
// of the error table, and the server frames.
#include "bot/server/protocol.h"

#include <doctest/doctest.h>

namespace runbot {
namespace {

using json = nlohmann::json;

ClientFrame parse(std::string_view frame) { return parse_client_frame(frame, ProtocolLimits{}); }

WireError error_of(std::string_view frame) {
  ClientFrame f = parse(frame);
  REQUIRE(std::holds_alternative<WireError>(f));
  return std::get<WireError>(f);
}

std::string code_of(std::string_view frame) { return std::string(error_info(error_of(frame).code).name); }

}  // namespace

TEST_SUITE("protocol") {

TEST_CASE("a message frame parses with its text and id") {
  auto f = parse(R"({"type":"message","text":"the back of my knee hurts","id":"m1"})");
  REQUIRE(std::holds_alternative<MessageRequest>(f));
  CHECK(std::get<MessageRequest>(f).text == "the back of my knee hurts");
  CHECK(std::get<MessageRequest>(f).id == "m1");
  CHECK(std::get<MessageRequest>(parse(R"({"type":"message","text":"hi","id":7})")).id == 7);
  CHECK(std::get<MessageRequest>(parse(R"({"type":"message","text":"hi"})")).id.is_null());
  CHECK(std::get<MessageRequest>(parse(R"({"type":"message","text":"hi","id":null,"extra":[1]})")).id.is_null());
}

TEST_CASE("hello parses with or without a session and client") {
  auto h = std::get<HelloRequest>(parse(R"({"type":"hello","session":"abc","client":"test"})"));
  CHECK(h.session == "abc");
  CHECK(h.client == "test");
  CHECK_FALSE(std::get<HelloRequest>(parse(R"({"type":"hello"})")).session.has_value());
  CHECK_FALSE(std::get<HelloRequest>(parse(R"({"type":"hello","session":null})")).session.has_value());
  CHECK(std::holds_alternative<ResetRequest>(parse(R"({"type":"reset"})")));
}

TEST_CASE("malformed JSON is bad_json with the byte where it broke") {
  CHECK(code_of("{\"type\":") == "bad_json");
  CHECK(code_of("hello") == "bad_json");
  CHECK(code_of("") == "bad_json");
  CHECK(error_of("{\"type\":").message == "not valid JSON (at byte 9)");
}

TEST_CASE("wrong shapes and field types are bad_request with a message naming the field") {
  CHECK(error_of(R"([1,2])").message == "a frame must be a JSON object");
  CHECK(error_of(R"({"text":"hi"})").message == "type is missing or not a string");
  CHECK(error_of(R"({"type":5})").message == "type is missing or not a string");
  CHECK(error_of(R"({"type":"shout"})").message == "unknown type; expected hello, message or reset");
  CHECK(error_of(R"({"type":"message"})").message == "text is missing");
  CHECK(error_of(R"({"type":"message","text":42})").message == "text must be a string");
  CHECK(error_of(R"({"type":"message","text":"  "})").message == "text is empty");
  CHECK(error_of(R"({"type":"message","text":"hi","id":1.5})").message == "id must be a string or an integer");
  CHECK(error_of(R"({"type":"message","text":"hi","id":{}})").message == "id must be a string or an integer");
  CHECK(error_of(R"({"type":"hello","session":7})").message == "session must be a string");
  CHECK(error_of(R"({"type":"hello","client":[]})").message == "client must be a string");
  json long_id = {{"type", "message"}, {"text", "hi"}, {"id", std::string(129, 'x')}};
  CHECK(error_of(long_id.dump()).message == "id is longer than 128 bytes");
  CHECK(code_of(R"({"type":"shout"})") == "bad_request");
}

TEST_CASE("text over 2,000 characters is too_long and 2,000 is fine, counted in characters") {
  json ok = {{"type", "message"}, {"text", std::string(2000, 'a')}};
  CHECK(std::holds_alternative<MessageRequest>(parse(ok.dump())));
  // 2,000 two-byte characters: 4,000 bytes, still within the limit.
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "\xC3\xA9";
  CHECK(std::holds_alternative<MessageRequest>(parse(json{{"type", "message"}, {"text", accents}}.dump())));
  json over = {{"type", "message"}, {"text", std::string(2001, 'a')}};
  CHECK(code_of(over.dump()) == "too_long");
  CHECK(error_of(over.dump()).message == "text is longer than 2000 characters");
}

TEST_CASE("invalid UTF-8 inside a JSON string is bad_json, not a crash") {
  CHECK(code_of("{\"type\":\"message\",\"text\":\"\xff\xfe\"}") == "bad_json");
}

TEST_CASE("issue 6: a number beyond a double's range is bad_json, not an exception") {
  CHECK(code_of(R"({"type":"hello","session":1e999})") == "bad_json");
  CHECK(code_of(R"({"type":"message","text":"hi","id":-1e999})") == "bad_json");
  CHECK(std::get<WireError>(parse_api_message(R"({"text":"hi","n":1e400})", {})).code == ErrorCode::kBadJson);
}

TEST_CASE("deeply nested JSON is parsed or refused without exhausting the stack") {
  std::string deep = std::string(8000, '[') + std::string(8000, ']');
  CHECK(code_of(deep) == "bad_request");
}

TEST_CASE("POST /api/message bodies parse with an optional session") {
  auto r = parse_api_message(R"({"session":"tok","text":"hi","id":"a"})", {});
  REQUIRE(std::holds_alternative<ApiMessageRequest>(r));
  CHECK(std::get<ApiMessageRequest>(r).session == "tok");
  CHECK(std::get<ApiMessageRequest>(r).message.text == "hi");
  CHECK(std::get<ApiMessageRequest>(r).message.id == "a");
  CHECK(std::get<WireError>(parse_api_message(R"({"text":1})", {})).message == "text must be a string");
  CHECK(std::get<WireError>(parse_api_message("nope", {})).code == ErrorCode::kBadJson);
}

TEST_CASE("the error table has one row per code, in order, with HTTP statuses") {
  const char* names[] = {"bad_json", "bad_request", "too_long", "rate_limited", "overloaded", "internal"};
  const int statuses[] = {400, 400, 400, 429, 503, 500};
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    const ErrorInfo& info = error_info(static_cast<ErrorCode>(i));
    CHECK(info.code == static_cast<ErrorCode>(i));
    CHECK(info.name == names[i]);
    CHECK(info.http_status == statuses[i]);
    CHECK_FALSE(info.message.empty());
  }
}

TEST_CASE("server frames have the shapes of spec/protocol.md") {
  CHECK(json::parse(session_frame("tok", true)) == json{{"type", "session"}, {"session", "tok"}, {"resumed", true}});
  CHECK(json::parse(session_frame("tok", false, true))["reset"] == true);
  CHECK(json::parse(error_frame(ErrorCode::kRateLimited)) ==
        json{{"type", "error"}, {"code", "rate_limited"}, {"message", "too many messages; slow down"}});
  CHECK(json::parse(error_frame(WireError{ErrorCode::kBadRequest, "text is missing"}))["message"] == "text is missing");
}

}  // TEST_SUITE
}  // namespace runbot
