#include "bot/bridges/backoff.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace runbot::telegram {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, uint64_t seed)
    : base_(base), cap_(cap), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  // 2^20 times any sane base is past any sane cap; stop doubling there so
  // the product cannot overflow however long an outage lasts.
  int shift = std::min(failures_, 20);
  int64_t d = std::min<int64_t>(cap_.count(), base_.count() << shift);
  ++failures_;
  std::uniform_int_distribution<int64_t> pick(d / 2, d);
  return std::chrono::milliseconds(pick(rng_));
}

bool sleep_for(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace runbot::telegram
