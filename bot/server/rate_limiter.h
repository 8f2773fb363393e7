// Per-session rate limit: a token bucket per key (the session token, or a
// connection or address while there is no session yet). `rate` tokens a
// second refill a bucket of `burst`; a message takes one. Time is passed in,
// so tests need no clock.
//
// Thread safety: RateLimiter is safe to call from any thread (one mutex;
// the critical section is a map lookup). TokenBucket is a plain value.
#ifndef RUNBOT_BOT_SERVER_RATE_LIMITER_H_
#define RUNBOT_BOT_SERVER_RATE_LIMITER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace runbot {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, double burst, Clock::time_point now) : tokens_(burst), last_(now), rate_(rate), burst_(burst) {}

  // Takes one token if there is one.
  bool take(Clock::time_point now);
  // True iff the bucket has refilled completely (it can be forgotten).
  bool full(Clock::time_point now) const;

 private:
  double tokens_;
  Clock::time_point last_;
  double rate_;
  double burst_;
};

class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;
  // rate <= 0 disables the limit: allow() is always true.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // True iff the message keyed `key` may go through now.
  bool allow(const std::string& key, Clock::time_point now);

  // Buckets currently remembered (full ones are dropped as the map grows).
  size_t size() const;

 private:
  const double rate_;
  const double burst_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, TokenBucket> buckets_;  // GUARDED_BY(mu_)
  size_t prune_at_ = 1024;                                // GUARDED_BY(mu_)
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_RATE_LIMITER_H_
