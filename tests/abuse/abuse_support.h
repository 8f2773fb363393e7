// What the abuse tests and abuse_bench share: a server process's resident
// memory and open descriptors from /proc, the descriptor limit, a
// well-behaved client that times its round trips, and the abusers, each a
// loop that misbehaves against a port until told to stop.
//
// Nothing here asserts (the benchmark uses it too); failures come back as
// values. Thread safety: an Abuser runs on its own thread; the rest is
// used by one thread at a time.
#ifndef RUNBOT_TESTS_ABUSE_ABUSE_SUPPORT_H_
#define RUNBOT_TESTS_ABUSE_ABUSE_SUPPORT_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/abuse/raw_ws.h"

namespace runbot::abuse {

// VmRSS of `pid` in KiB (0 when unreadable).
long rss_kib(pid_t pid);
// Entries of /proc/PID/fd (-1 when unreadable).
int fd_count(pid_t pid);

// Raises this process's soft RLIMIT_NOFILE to its hard limit (children
// inherit it); returns the new soft limit.
long raise_fd_limit();

// Polls `done` every `every` until it holds or `timeout` passes; returns
// whether it held. For conditions only /proc shows (a child's descriptor
// count), which no event announces.
bool wait_until(const std::function<bool()>& done, Millis timeout, Millis every = 20ms);

// Samples `read` every `every` until `alike` samples in a row are equal (or
// `timeout` passes) and returns the last: a figure that has settled, such
// as a server's descriptors while connections close or its RSS while the
// allocator gives pages back.
long settled(const std::function<long()>& read, int alike, Millis timeout, Millis every = 20ms);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double p);

// A client that follows the protocol: one connection, a message, its reply,
// the next message. Round trips are timed from the send to the reply.
class Probe {
 public:
  // Opens the WebSocket; false when the handshake fails.
  bool open(unsigned short port);
  // Sends one message and waits for its reply; the round trip in
  // milliseconds, or nullopt when no reply to it came within `timeout`.
  std::optional<double> round_trip_ms(Millis timeout = 10s);
  // `n` round trips; empty when one failed.
  std::vector<double> sample(int n, Millis timeout = 10s);

 private:
  RawWs ws_;
  long next_id_ = 0;
};

// The kinds of abuse, each of which a well-behaved client must not feel.
enum class AbuseKind {
  kPingFlood,       // connections sending pings as fast as the server answers
  kSlowloris,       // connections sending the upgrade request a byte at a time
  kBadFrames,       // connect, send a frame that breaks RFC 6455, get closed, again
  kChurn,           // TCP connections and handshakes opened and abandoned (RST), flat out
  kChurnPaced,      // the same at 1,000 connections per second
  kBigTexts,        // 16 KiB frames of one letter (error too_long each)
  kDeepJson,        // 16 KiB of '[' (error bad_json each)
};
const char* abuse_name(AbuseKind kind);
std::vector<AbuseKind> all_abuse_kinds();
// All but kChurn: the kinds whose cost to other clients a loaded 2-core
// machine can bound (abuse_bench shows kChurn's, which it cannot).
std::vector<AbuseKind> bounded_abuse_kinds();

// Runs one kind of abuse against `port` on a thread of its own until
// stop() (or the destructor). `actions()` counts what it did (pings, bytes,
// connections, frames), to show it was really happening.
class Abuser {
 public:
  Abuser(AbuseKind kind, unsigned short port);
  ~Abuser();
  Abuser(const Abuser&) = delete;
  Abuser& operator=(const Abuser&) = delete;
  void stop();
  long actions() const { return actions_.load(); }

 private:
  void run();
  AbuseKind kind_;
  unsigned short port_;
  std::atomic<bool> stop_{false};
  std::atomic<long> actions_{0};
  std::thread thread_;
};

}  // namespace runbot::abuse

#endif  // RUNBOT_TESTS_ABUSE_ABUSE_SUPPORT_H_
