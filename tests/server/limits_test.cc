// The server's pure helpers: rate limiting, session tokens, the Origin
// rule, /healthz and /metrics bodies.
#include <doctest/doctest.h>

#include <set>

#include "bot/server/http_routes.h"
#include "bot/server/metrics.h"
#include "bot/server/rate_limiter.h"
#include "bot/server/token.h"

namespace runbot {

using namespace std::chrono_literals;

TEST_SUITE("limits") {

TEST_CASE("a token bucket allows the burst, then the rate") {
  auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket b(2.0, 20, t0);
  for (int i = 0; i < 20; ++i) CHECK(b.take(t0));
  CHECK_FALSE(b.take(t0));
  CHECK_FALSE(b.take(t0 + 400ms));
  CHECK(b.take(t0 + 500ms));
  CHECK_FALSE(b.take(t0 + 500ms));
  CHECK_FALSE(b.full(t0 + 5s));
  CHECK(b.full(t0 + 11s));
}

TEST_CASE("the rate limiter keeps one bucket per key and 0 turns it off") {
  auto t0 = RateLimiter::Clock::time_point{};
  RateLimiter limiter(1.0, 2);
  CHECK(limiter.allow("a", t0));
  CHECK(limiter.allow("a", t0));
  CHECK_FALSE(limiter.allow("a", t0));
  CHECK(limiter.allow("b", t0));
  RateLimiter off(0, 2);
  for (int i = 0; i < 100; ++i) CHECK(off.allow("a", t0));
}

TEST_CASE("the rate limiter forgets buckets that have refilled") {
  auto t0 = RateLimiter::Clock::time_point{};
  RateLimiter limiter(10.0, 1);
  for (int i = 0; i < 3000; ++i) limiter.allow(std::to_string(i), t0 + std::chrono::milliseconds(i));
  CHECK(limiter.size() < 1100);
}

TEST_CASE("session tokens are 32 base64url characters and never repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string t = new_session_token();
    CHECK(t.size() == 32);
    CHECK(is_well_formed_token(t));
    seen.insert(t);
  }
  CHECK(seen.size() == 1000);
  CHECK_FALSE(is_well_formed_token(""));
  CHECK_FALSE(is_well_formed_token(std::string(31, 'a')));
  CHECK_FALSE(is_well_formed_token(std::string(31, 'a') + "="));
  CHECK_FALSE(is_well_formed_token("../../../../etc/passwd/aaaaaaaaa"));
}

TEST_CASE("the Origin rule lets no Origin, the same host, localhost and the allow list pass, and nothing else") {
  const std::vector<std::string> none;
  CHECK(origin_allowed("", "bot.example.org", none));
  CHECK(origin_allowed("https://bot.example.org", "bot.example.org", none));
  CHECK(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", none));
  CHECK(origin_allowed("http://localhost:3000", "bot.example.org", none));
  CHECK(origin_allowed("http://[::1]:3000", "bot.example.org", none));
  CHECK_FALSE(origin_allowed("https://evil.example.com", "bot.example.org", none));
  CHECK_FALSE(origin_allowed("https://bot.example.org.evil.com", "bot.example.org", none));
  CHECK_FALSE(origin_allowed("http://localhost.evil.com", "bot.example.org", none));
  CHECK_FALSE(origin_allowed("null", "bot.example.org", none));
  CHECK(origin_allowed("https://Widget.Example.com", "bot.example.org", {"https://widget.example.com"}));
  CHECK(origin_allowed("https://anything.example.net", "bot.example.org", {"*"}));
}

TEST_CASE("healthz says down with the store's error when the store fails") {
  StoreHealth ok{true, "sqlite", "x.db", "", 0};
  CHECK(health_json(&ok, 3)["status"] == "ok");
  CHECK(health_json(&ok, 3)["connections"] == 3);
  CHECK(health_json(&ok, 3)["store"].count("detail") == 0);
  StoreHealth down{false, "sqlite", "x.db", "database is locked", 2};
  auto j = health_json(&down, 0);
  CHECK(j["status"] == "down");
  CHECK(j["store"]["last_error"] == "database is locked");
  CHECK(health_json(nullptr, 0)["store"]["kind"] == "none");
}

TEST_CASE("metrics render in the Prometheus text format") {
  Metrics m;
  m.count_message();
  m.count_reply("symptom_report", "");
  m.count_reply("symptom_report", "see_doctor");
  m.count_error(ErrorCode::kTooLong);
  m.count_drop(DropReason::kFlood);
  m.reply_latency().observe(0.003);
  m.reply_latency().observe(20);
  std::string out = m.render(2, true);
  CHECK(out.find("# TYPE runbot_open_connections gauge\nrunbot_open_connections 2\n") != std::string::npos);
  CHECK(out.find("runbot_messages_total 1\n") != std::string::npos);
  CHECK(out.find("runbot_replies_total{intent=\"symptom_report\",triage=\"none\"} 1\n") != std::string::npos);
  CHECK(out.find("runbot_replies_total{intent=\"symptom_report\",triage=\"see_doctor\"} 1\n") != std::string::npos);
  CHECK(out.find("runbot_errors_total{code=\"too_long\"} 1\n") != std::string::npos);
  CHECK(out.find("runbot_dropped_connections_total{reason=\"flood\"} 1\n") != std::string::npos);
  CHECK(out.find("runbot_reply_latency_seconds_bucket{le=\"0.0025\"} 0\n") != std::string::npos);
  CHECK(out.find("runbot_reply_latency_seconds_bucket{le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(out.find("runbot_reply_latency_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(out.find("runbot_reply_latency_seconds_count 2\n") != std::string::npos);
  CHECK(out.find("# TYPE runbot_store_write_latency_seconds histogram\n") != std::string::npos);
}

}  // TEST_SUITE
}  // namespace runbot
