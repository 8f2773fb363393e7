// abuse_bench: the figures behind issue 6's "other clients' latency stays
// within 2x" and "memory returns to baseline". Starts `runbot serve` (the
// test suite's ServerProcess), then
//   1. for each kind of abuse, a well-behaved client's round trips
//      (message to reply) just before and during it: median, p90, ratio;
//   2. N TCP connections held silent, then N WebSocket handshakes held
//      silent: the server's RSS and descriptors at baseline, with them
//      open, and after its timeouts dropped them.
// Prints figures and never fails on them (leveldb's db_bench style); it
// exits 1 only when it cannot run.
//
//   build/tests/abuse_bench [--samples 200] [--connections 10000] [--only latency|memory]
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/abuse/abuse_support.h"
#include "tests/server/server_process.h"

using namespace runbot::abuse;
using runbot::test::ServerProcess;
using runbot::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

void die(const char* what) {
  std::fprintf(stderr, "abuse_bench: %s\n", what);
  std::exit(1);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One row: the probe's round trips just before and during the abuse.
void latency_row(unsigned short port, Probe& probe, AbuseKind kind, int samples, const std::string& label) {
  std::vector<double> before = probe.sample(samples);
  Abuser abuser(kind, port);
  wait_until([&] { return abuser.actions() >= 5; }, 10s);
  const long a0 = abuser.actions();
  const auto t0 = Clock::now();
  std::vector<double> during = probe.sample(samples);
  const double rate = static_cast<double>(abuser.actions() - a0) / seconds_since(t0);
  abuser.stop();
  if (before.empty() || during.empty()) die("a round trip failed");
  std::printf("%-62s %8.3f %8.3f %8.3f %8.3f %6.2fx %12.0f\n", label.c_str(), median(before),
              percentile(before, 0.9), median(during), percentile(during, 0.9), median(during) / median(before), rate);
  std::fflush(stdout);
}

void latency(int samples) {
  const std::vector<std::string> args = {"--rate-limit", "0", "--handshake-timeout", "2", "--idle-timeout", "10"};
  TempDir dir;
  ServerProcess server(runbot::test::serve_options(args, (dir.path / "db").string()));
  Probe probe;
  if (!probe.open(server.port())) die("no handshake");
  if (probe.sample(100).empty()) die("no reply");
  std::printf("latency of a well-behaved client, %d round trips per window (message -> reply, ms)\n", samples);
  std::printf("%-62s %8s %8s %8s %8s %7s %12s\n", "abuse", "p50 off", "p90 off", "p50 on", "p90 on", "ratio",
              "actions/s");
  for (AbuseKind kind : all_abuse_kinds()) latency_row(server.port(), probe, kind, samples, abuse_name(kind));

  // Churn again against a server with a per-address connection rate: the
  // abuser's connections beyond it are closed at accept, unread. (The
  // probe's one connection was admitted before the churn began.)
  std::vector<std::string> limited = args;
  limited.insert(limited.end(), {"--connection-rate", "50", "--connection-burst", "100"});
  TempDir dir2;
  ServerProcess server2(runbot::test::serve_options(limited, (dir2.path / "db").string()));
  Probe probe2;
  if (!probe2.open(server2.port()) || probe2.sample(100).empty()) die("no reply (--connection-rate server)");
  latency_row(server2.port(), probe2, AbuseKind::kChurn, samples, "churn flat out, server with --connection-rate 50");
}

// Holds n connections (WebSocket handshakes when `ws`), reports the server's
// RSS and descriptors, then waits for its timeouts to drop them.
void memory(size_t n, bool ws) {
  TempDir dir;
  std::vector<std::string> args = {"--rate-limit", "0", "--handshake-timeout", "2", "--idle-timeout", "10",
                                   "--max-connections", std::to_string(n)};
  ServerProcess server(runbot::test::serve_options(args, (dir.path / "db").string()));
  const pid_t pid = server.pid();
  for (int i = 0; i < 20; ++i) {
    Probe p;
    if (!p.open(server.port()) || p.sample(1).empty()) die("warm-up failed");
  }
  // The warm-up connections are closing: wait until the count stops changing.
  const int base_fds = static_cast<int>(settled([pid] { return fd_count(pid); }, 10, 10s));
  const long base = rss_kib(pid);
  std::vector<RawWs> conns(n);
  const auto t0 = Clock::now();
  for (auto& c : conns)
    if (!(ws ? c.open(server.port()) : c.connect(server.port()))) die("cannot open a connection");
  const double open_s = seconds_since(t0);
  wait_until([&] { return fd_count(pid) >= base_fds + static_cast<int>(n); }, 30s);
  const long peak = rss_kib(pid);
  const int peak_fds = fd_count(pid);
  const auto t1 = Clock::now();
  const bool dropped = wait_until([&] { return fd_count(pid) <= base_fds; }, 60s);
  const double drop_s = seconds_since(t1);
  for (auto& c : conns) c.abort();
  conns.clear();
  // The allocator gives freed pages back over a second or two: the RSS
  // once it has stopped falling (three samples 500 ms apart alike).
  const long after = settled([pid] { return rss_kib(pid); }, 3, 15s, 500ms);
  const int after_fds = fd_count(pid);
  Probe p;
  const bool serves = p.open(server.port()) && !p.sample(1).empty();
  std::printf("%zu %s: opened in %.2f s; fds %d -> %d -> %d (dropped %s %.1f s after); "
              "RSS %.1f MB -> %.1f MB (%.1f KiB each) -> %.1f MB (+%.1f MB); serves after: %s\n",
              n, ws ? "WebSocket handshakes held silent" : "TCP connections held silent", open_s, base_fds, peak_fds,
              after_fds, dropped ? "in" : "NOT within", drop_s, base / 1024.0, peak / 1024.0,
              static_cast<double>(peak - base) / static_cast<double>(n), after / 1024.0, (after - base) / 1024.0,
              serves ? "yes" : "NO");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context;
  context.setAsDefaultForAssertsOutOfTestCases();
  context.setAssertHandler([](const doctest::AssertData& ad) {
    std::fprintf(stderr, "abuse_bench: %s:%d: %s (%s)\n", ad.m_file, ad.m_line, ad.m_expr,
                 ad.m_decomp.c_str());
    std::exit(1);
  });
  int samples = 200;
  size_t connections = 10000;
  std::string only;  // "latency" or "memory": one half of the figures
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--samples")) samples = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--connections")) connections = std::strtoul(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else die("usage: abuse_bench [--samples N] [--connections N] [--only latency|memory]");
  }
  const long limit = raise_fd_limit();
  if (static_cast<long>(connections) > limit - 100) connections = static_cast<size_t>(limit - 100);
  if (only != "memory") latency(samples);
  if (only == "latency") return 0;
  std::printf("\nmemory and descriptors of the server (RLIMIT_NOFILE %ld)\n", limit);
  memory(connections, false);
  memory(connections, true);
  return 0;
}
