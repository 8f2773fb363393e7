// Connection-level abuse: half-open handshakes (slowloris), 10,000
// connections opened and abandoned (TCP only, and WebSocket handshakes that
// then fall silent), connections reset mid-request. The server must drop
// them at its timeouts, give back every descriptor and its memory, and keep
// serving a normal client meanwhile.
//
// The server's descriptors and memory are read from /proc/PID; no event
// announces that a count went down, so those waits poll /proc with a
// deadline (wait_until). Waiting for a timeout to fire is what these cases
// test, so their deadlines are the timeouts plus a generous slack.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "tests/abuse/abuse_test_util.h"

namespace runbot::abuse {

namespace {

using Clock = std::chrono::steady_clock;

// How many connections this machine lets the test hold at once: the issue
// asks for 10,000; the test process and the server (which inherits the
// limit) each need one descriptor per connection plus a few.
// Built with ASan or TSan (tests/sanitize), as the server under test is:
// there the bursts check memory safety while thousands of connections are
// dropped, not memory figures. ASan keeps freed memory in quarantine (RSS
// says nothing about reuse), and the unoptimised, instrumented server
// accepts several times slower than the release build.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RUNBOT_ABUSE_SANITIZED 1
#endif
#endif
#ifdef RUNBOT_ABUSE_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

size_t connections_allowed() {
  const long limit = raise_fd_limit();
  const size_t wanted = kSanitized ? 1000 : 10000;
  const size_t n = std::min<long>(wanted, limit - 100);
  if (n < wanted) MESSAGE("RLIMIT_NOFILE is " << limit << ": using " << n << " connections instead of " << wanted);
  if (kSanitized) MESSAGE("sanitizer build: " << n << " connections, timeouts x2, no RSS check (the release build makes it)");
  return n;
}

// Timeouts in seconds, longer in a sanitizer build (see kSanitized).
std::string timeout_s(int seconds) { return std::to_string(kSanitized ? 2 * seconds : seconds); }

// The server's descriptors once it is idle: waits until the count stops
// changing (connections of earlier steps may still be closing).
int settled_fds(pid_t pid) { return static_cast<int>(settled([pid] { return fd_count(pid); }, 10, 10s)); }

// Serves one client and lets it go, so that lazily allocated state (the
// engine's caches, SQLite's pages, the thread arenas) is in the baseline.
void warm_up(unsigned short port) {
  for (int i = 0; i < 20; ++i) check_serves(port);
}

// Closes every client socket without a FIN (RST): the client side keeps no
// TIME_WAIT, so 10,000 ports are free again at once for the next case.
void abort_all(std::vector<RawWs>& conns) {
  for (auto& c : conns) c.abort();
  conns.clear();
}

// Memory after a burst: the server's allocator (jemalloc, see
// bot/cli/allocator.cc) gives freed pages back about a second after they
// fall idle, so the RSS returns to its baseline within this slack (the
// engine's caches and Asio's pooled per-socket records stay: ~3 MB measured
// after 10,000). And a second identical burst must end no higher than the
// first, within kReuseSlackKiB (a leak of 400 bytes per connection would
// exceed it).
constexpr long kBaselineSlackKiB = 8 * 1024;
constexpr long kReuseSlackKiB = 4 * 1024;

struct Burst {
  long peak_rss = 0, after_rss = 0;
  int peak_fds = 0;
  double open_s = 0;
};

// Opens n connections (WebSocket handshakes when `ws`) that then say
// nothing, checks the server drops every one while the client still holds
// it, and that every descriptor comes back.
Burst burst(Server& s, size_t n, bool ws, int base_fds, long base_rss) {
  Burst b;
  std::vector<RawWs> conns(n);
  const auto start = Clock::now();
  for (auto& c : conns) REQUIRE((ws ? c.open(s.port()) : c.connect(s.port())));
  b.open_s = std::chrono::duration<double>(Clock::now() - start).count();
  const bool all_held = wait_until([&] { return fd_count(s.pid()) >= base_fds + static_cast<int>(n); }, 30s);
  b.peak_rss = rss_kib(s.pid());
  b.peak_fds = fd_count(s.pid());
  CHECK_MESSAGE(all_held, "the server held " << b.peak_fds - base_fds << " of " << n);
  if (ws) {
    // --max-connections is reached: one more gets HTTP 503.
    RawWs extra;
    REQUIRE(extra.connect(s.port()));
    CHECK(extra.handshake(s.port()) == 503);
  }
  // The client keeps every socket open and never reads: only the server's
  // timeouts can end them.
  CHECK(wait_until([&] { return fd_count(s.pid()) == base_fds; }, kSanitized ? 120s : 40s));
  size_t hung_up = 0;
  for (auto& c : conns) hung_up += c.wait_hangup(0ms);
  CHECK(hung_up == n);
  abort_all(conns);
  check_serves(s.port());
  CHECK(settled_fds(s.pid()) == base_fds);
  // Freed pages go back over a second or two (jemalloc's decay).
  wait_until([&] { return rss_kib(s.pid()) <= base_rss + kBaselineSlackKiB; }, 15s);
  b.after_rss = rss_kib(s.pid());
  return b;
}

void check_two_bursts(Server& s, size_t n, bool ws) {
  warm_up(s.port());
  const int base_fds = settled_fds(s.pid());
  const long base_rss = rss_kib(s.pid());
  const Burst first = burst(s, n, ws, base_fds, base_rss);
  const Burst second = burst(s, n, ws, base_fds, base_rss);
  MESSAGE(n << std::string(ws ? " WebSocket handshakes" : " TCP connections") << " held silent, opened in " << first.open_s
            << " s; fds " << base_fds << " -> " << first.peak_fds << " -> " << base_fds << "; RSS KiB: baseline "
            << base_rss << ", burst 1 peak " << first.peak_rss << " after " << first.after_rss << ", burst 2 peak "
            << second.peak_rss << " after " << second.after_rss);
  // Only the settled RSS guards against a leak. The peak is sampled while
  // the server is still accepting and timing out connections on two
  // threads, so it depends on timing: a clean-clone CI run saw peaks of 53
  // then 64 MB with the settled RSS 53.0 then 53.4 MB.
  if (!kSanitized) {
    CHECK(first.after_rss <= base_rss + kBaselineSlackKiB);
    CHECK(second.after_rss <= base_rss + kBaselineSlackKiB);
    CHECK(second.after_rss <= first.after_rss + kReuseSlackKiB);
  }
}

}  // namespace

TEST_SUITE("abuse: connections") {

TEST_CASE("half-open handshakes are closed at --handshake-timeout, never before, and do not block a normal client") {
  Server s({"--handshake-timeout", "3"});
  warm_up(s.port());
  const int base_fds = settled_fds(s.pid());
  const std::string request = RawWs::upgrade_request(s.port());
  // 300 connections of each kind: silent, part of the request line, all
  // headers but the blank line ending them.
  std::vector<RawWs> conns;
  const auto opened = Clock::now();
  for (int i = 0; i < 900; ++i) {
    RawWs c;
    REQUIRE(c.connect(s.port()));
    if (i % 3 == 1) REQUIRE(c.send("GET /chat HTTP/1.1\r\nHo"));
    if (i % 3 == 2) REQUIRE(c.send(request.substr(0, request.size() - 2)));
    conns.push_back(std::move(c));
  }
  // One more that sends its headers a byte at a time: the deadline is for
  // the whole request, so trickling does not extend it.
  std::atomic<size_t> trickled{0};
  std::atomic<bool> trickle_cut{false};
  std::thread trickler([&] {
    RawWs t;
    if (!t.connect(s.port())) return;
    for (size_t i = 0; i < request.size() - 2; ++i) {
      if (!t.send(request.substr(i, 1), 1s)) break;
      trickled = i + 1;
      // One byte per 100 ms: the pace of the attack.
      if (t.wait_hangup(100ms)) break;
    }
    trickle_cut = t.wait_hangup(20s);
  });
  REQUIRE(wait_until([&] { return fd_count(s.pid()) >= base_fds + 900; }, 10s));

  // While all of them are held, a normal client is served.
  check_serves(s.port());
  const bool all_held = fd_count(s.pid()) >= base_fds + 900;
  MESSAGE("900 half-open connections still held while the normal client was served: " << all_held);

  // Then every one is closed, none before the timeout.
  std::vector<double> closed_after;
  for (auto& c : conns) {
    REQUIRE(c.wait_hangup(20s));
    closed_after.push_back(std::chrono::duration<double>(Clock::now() - opened).count());
  }
  trickler.join();
  CHECK(trickle_cut);
  CHECK(trickled < request.size() - 2);
  MESSAGE("trickler sent " << trickled.load() << " of " << request.size() << " bytes before it was cut");
  CHECK(*std::min_element(closed_after.begin(), closed_after.end()) >= 2.9);
  conns.clear();
  CHECK(wait_until([&] { return fd_count(s.pid()) == base_fds; }, 10s));
  check_serves(s.port());
}

TEST_CASE("an upgrade without a key or with another version is refused with HTTP 400 or 426 and closed") {
  Server s;
  RawWs no_key;
  REQUIRE(no_key.connect(s.port()));
  no_key.send("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n");
  CHECK(no_key.read_http_header().rfind("HTTP/1.1 400", 0) == 0);
  CHECK(no_key.wait_eof(10s));
  RawWs old_version;
  REQUIRE(old_version.connect(s.port()));
  old_version.send("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  const std::string refused = old_version.read_http_header();
  CHECK(refused.rfind("HTTP/1.1 426", 0) == 0);
  CHECK(refused.find("Sec-WebSocket-Version: 13") != std::string::npos);
  CHECK(old_version.wait_eof(10s));
  check_serves(s.port());
}

TEST_CASE("10,000 TCP connections opened and abandoned are dropped at the handshake timeout, descriptors and memory return") {
  const size_t n = connections_allowed();
  Server s({"--handshake-timeout", timeout_s(2), "--rate-limit", "0"});
  check_two_bursts(s, n, /*ws=*/false);
}

TEST_CASE("10,000 WebSocket handshakes that then fall silent are dropped at the idle timeout and memory returns to baseline") {
  const size_t n = connections_allowed();
  // The idle timeout is long enough for all handshakes to finish first, so
  // that all n are open at once (about 5 s on a loaded 2-core machine).
  Server s({"--idle-timeout", timeout_s(10), "--rate-limit", "0", "--max-connections", std::to_string(n)});
  check_two_bursts(s, n, /*ws=*/true);
}

TEST_CASE("connections reset mid-request, mid-handshake or mid-frame are freed at once, not at a timeout") {
  // Timeouts far longer than the test: only the resets can free these.
  Server s({"--handshake-timeout", "60", "--idle-timeout", "60", "--rate-limit", "0"});
  warm_up(s.port());
  const int base_fds = settled_fds(s.pid());
  const std::string request = RawWs::upgrade_request(s.port());
  std::vector<RawWs> conns;
  for (int i = 0; i < 3000; ++i) {
    RawWs c;
    REQUIRE(c.connect(s.port()));
    if (i % 3 == 0) REQUIRE(c.send(request.substr(0, 40)));
    if (i % 3 == 1) {
      REQUIRE(c.handshake(s.port()) == 101);
    }
    if (i % 3 == 2) {
      REQUIRE(c.handshake(s.port()) == 101);
      // Half a frame: the header promises 1,000 bytes, 10 come.
      REQUIRE(c.send(encode(FrameSpec{.opcode = kText, .payload = std::string(10, 'x'), .declared_length = 1000})));
    }
    conns.push_back(std::move(c));
  }
  REQUIRE(wait_until([&] { return fd_count(s.pid()) >= base_fds + 3000; }, 20s));
  abort_all(conns);
  CHECK(wait_until([&] { return fd_count(s.pid()) == base_fds; }, 20s));
  check_serves(s.port());
}

}  // TEST_SUITE

}  // namespace runbot::abuse
