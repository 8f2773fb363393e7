#include "bot/server/rate_limiter.h"

#include <algorithm>

namespace runbot {

bool TokenBucket::take(Clock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::full(Clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - last_).count();
  return tokens_ + std::max(0.0, elapsed) * rate_ >= burst_;
}

bool RateLimiter::allow(const std::string& key, Clock::time_point now) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  auto it = buckets_.try_emplace(key, rate_, burst_, now).first;
  bool ok = it->second.take(now);
  // A full bucket is the same as no bucket, so dropping full ones keeps the
  // map to the sessions active in the last burst/rate seconds. Doubling the
  // threshold keeps the sweeps amortised O(1) per call.
  if (buckets_.size() >= prune_at_) {
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.full(now); });
    prune_at_ = std::max<size_t>(1024, 2 * buckets_.size());
  }
  return ok;
}

size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace runbot
