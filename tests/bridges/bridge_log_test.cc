// BridgeLog: JSON lines, and the token scrubbed from whatever a caller logs.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "bot/bridges/bridge_log.h"

namespace runbot::telegram {

TEST_SUITE("bridge log") {
  TEST_CASE("the token and its secret part are scrubbed from every field") {
    const std::string token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678";
    std::vector<std::string> lines;
    BridgeLog log(token_secrets(token), [&](std::string_view line) { lines.emplace_back(line); });
    std::string url = "https://api.telegram.org/bot";
    url += token;
    url += "/getUpdates";
    std::string encoded = "123456%3A";
    encoded += token.substr(7);
    log.warn("x", {{"url", url}, {"detail", encoded}, {"nested", {{"t", token}}}});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(token.substr(7)) == std::string::npos);
    CHECK(lines[0].find("bot<redacted>/getUpdates") != std::string::npos);
    auto j = nlohmann::json::parse(lines[0]);
    CHECK(j["level"] == "warn");
    CHECK(j["event"] == "x");
    CHECK(j["detail"] == "123456%3A<redacted>");
    CHECK(j.contains("ts"));
  }

  TEST_CASE("redact replaces every occurrence and ignores empty secrets") {
    CHECK(redact("a-SECRET-b-SECRET", {"", "SECRET"}) == "a-<redacted>-b-<redacted>");
    CHECK(redact("nothing here", {}) == "nothing here");
  }

  TEST_CASE("a token without a long secret part is scrubbed whole only") {
    CHECK(token_secrets("1:ab") == std::vector<std::string>{"1:ab"});
    CHECK(token_secrets("").empty());
  }

  TEST_CASE("lines below the level are dropped and bytes that are not UTF-8 do not throw") {
    std::vector<std::string> lines;
    BridgeLog log({}, [&](std::string_view line) { lines.emplace_back(line); }, Level::kWarn);
    log.info("quiet");
    log.error("loud", {{"detail", std::string("\xff\xfe broken")}});
    REQUIRE(lines.size() == 1);
    CHECK(nlohmann::json::parse(lines[0])["event"] == "loud");
  }
}

}  // namespace runbot::telegram
