// What a Bot API or runbot response means for the bridge's next step.
#include <doctest/doctest.h>

#include "bot/bridges/runbot_client.h"
#include "bot/bridges/telegram_api.h"

namespace runbot::telegram {

TEST_SUITE("response classification") {
  TEST_CASE("Telegram: ok, 429 with retry_after, 5xx, 409, 4xx, bad token") {
    auto ok = classify_api_response(200, R"({"ok":true,"result":{"message_id":1}})");
    CHECK(ok.outcome == Outcome::kOk);
    CHECK(ok.result["message_id"] == 1);
    auto flood = classify_api_response(429, R"({"ok":false,"error_code":429,"parameters":{"retry_after":12}})");
    CHECK(flood.outcome == Outcome::kRetryAfter);
    CHECK(flood.retry_after == 12);
    CHECK(classify_api_response(429, R"({"ok":false,"error_code":429})").retry_after == 1);
    CHECK(classify_api_response(500, R"({"ok":false,"error_code":500})").outcome == Outcome::kTransient);
    CHECK(classify_api_response(502, "<html>Bad Gateway</html>").outcome == Outcome::kTransient);
    CHECK(classify_api_response(409, R"({"ok":false,"error_code":409,"description":"Conflict"})").outcome ==
          Outcome::kTransient);
    CHECK(classify_api_response(403, R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked"})")
              .outcome == Outcome::kRejected);
    CHECK(classify_api_response(400, R"({"ok":false,"error_code":400})").outcome == Outcome::kRejected);
    CHECK(classify_api_response(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})").outcome ==
          Outcome::kUnauthorized);
    CHECK(classify_api_response(404, "Not Found").outcome == Outcome::kUnauthorized);
  }

  TEST_CASE("Telegram: a 200 that is not the Bot API's JSON is retried, never taken as success") {
    CHECK(classify_api_response(200, R"({"ok":true,"result":[{"update_id":)").outcome == Outcome::kTransient);
    CHECK(classify_api_response(200, "").outcome == Outcome::kTransient);
    CHECK(classify_api_response(200, R"({"ok":false})").outcome == Outcome::kTransient);
  }

  TEST_CASE("runbot: a reply, its session and its quick replies") {
    auto c = classify_runbot_response(
        200, R"({"type":"reply","text":"Hello","quick_replies":["Yes",3,"No"],"session":"tok"})", "");
    REQUIRE(c.outcome == RunbotOutcome::kOk);
    CHECK(c.reply.text == "Hello");
    CHECK(c.reply.session == "tok");
    CHECK(c.reply.quick_replies == std::vector<std::string>{"Yes", "No"});
  }

  TEST_CASE("runbot: 400 is final with its code, while 5xx, 429 and malformed replies are retried") {
    auto too_long = classify_runbot_response(400, R"({"type":"error","code":"too_long","message":"..."})", "");
    CHECK(too_long.outcome == RunbotOutcome::kRejected);
    CHECK(too_long.error_code == "too_long");
    CHECK(classify_runbot_response(400, "garbage", "").error_code == "bad_request");
    auto busy = classify_runbot_response(503, R"({"type":"error","code":"overloaded"})", "3");
    CHECK(busy.outcome == RunbotOutcome::kRetry);
    CHECK(busy.error_code == "overloaded");
    CHECK(busy.retry_after == std::chrono::seconds(3));
    CHECK(!classify_runbot_response(429, "", "Wed, 21 Oct 2015 07:28:00 GMT").retry_after);
    CHECK(classify_runbot_response(502, "<html>", "").error_code == "http_502");
    for (const char* bad : {"", "[]", R"({"text":"x"})", R"({"session":"s"})", R"({"text":1,"session":"s"})",
                            R"({"text":"x","session":""})", "{\"text\":\"x\",\"session\":\"s\""}) {
      CAPTURE(bad);
      CHECK(classify_runbot_response(200, bad, "").outcome == RunbotOutcome::kRetry);
    }
  }
}

}  // namespace runbot::telegram
