// Backoff and sleep_for: exponential, jittered, capped; interruptible.
#include <doctest/doctest.h>

#include <thread>

#include "bot/bridges/backoff.h"

namespace runbot::telegram {

using namespace std::chrono_literals;

TEST_SUITE("backoff") {
  TEST_CASE("delays double from the base, are jittered within [d/2, d] and never pass the cap") {
    Backoff b(100ms, 1000ms, 42);
    const int64_t expected[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int64_t d : expected) {
      auto got = b.next().count();
      CAPTURE(d);
      CHECK(got >= d / 2);
      CHECK(got <= d);
    }
    CHECK(b.failures() == 7);
  }

  TEST_CASE("two backoffs with different seeds spread out") {
    Backoff a(1000ms, 60000ms, 1), c(1000ms, 60000ms, 2);
    bool differ = false;
    for (int i = 0; i < 5; ++i) differ = differ || a.next() != c.next();
    CHECK(differ);
  }

  TEST_CASE("a long outage neither overflows nor passes the cap") {
    Backoff b(500ms, 30000ms, 7);
    for (int i = 0; i < 200; ++i) {
      auto d = b.next();
      REQUIRE(d >= 0ms);
      REQUIRE(d <= 30000ms);
    }
  }

  TEST_CASE("reset starts again from the base") {
    Backoff b(100ms, 10000ms, 3);
    for (int i = 0; i < 6; ++i) b.next();
    b.reset();
    CHECK(b.failures() == 0);
    CHECK(b.next() <= 100ms);
  }

  TEST_CASE("sleep_for returns false at once when stop is requested") {
    std::stop_source source;
    std::thread stopper([&] { source.request_stop(); });
    auto start = std::chrono::steady_clock::now();
    CHECK(!sleep_for(std::chrono::minutes(5), source.get_token()));
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    stopper.join();
  }

  TEST_CASE("sleep_for returns true after the whole time") {
    auto start = std::chrono::steady_clock::now();
    CHECK(sleep_for(10ms, std::stop_token()));
    CHECK(std::chrono::steady_clock::now() - start >= 10ms);
  }
}

}  // namespace runbot::telegram
