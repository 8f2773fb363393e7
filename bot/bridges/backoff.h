// Backoff: how long to wait before the next retry after a failure that may
// pass (HTTP 5xx, a dropped connection, a timeout): exponential, jittered so
// that many chats failing together do not retry together, and capped so a
// long outage is retried at a steady pace rather than ever more slowly.
//
// Thread safety: a Backoff belongs to one thread. sleep_for() is safe anywhere.
#ifndef RUNBOT_BOT_BRIDGES_BACKOFF_H_
#define RUNBOT_BOT_BRIDGES_BACKOFF_H_

#include <chrono>
#include <cstdint>
#include <random>
#include <stop_token>

namespace runbot::telegram {

class Backoff {
 public:
  // REQUIRES: 0 < base <= cap.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, uint64_t seed = std::random_device{}());

  // The wait after one more failure: d = min(cap, base * 2^failures), then a
  // uniform pick in [d/2, d] ("equal jitter": spread out, yet never near zero).
  std::chrono::milliseconds next();
  // After a success: the next failure waits about `base` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

// Waits `d`, or less when `stop` is requested first. True iff the whole
// time passed (false: stop now).
bool sleep_for(std::chrono::milliseconds d, std::stop_token stop);

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_BACKOFF_H_
