#include "bot/server/shared_state.h"

#include <vector>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bot/server/websocket_session.h"

namespace runbot {

SharedState::SharedState(ServerOptions options, std::shared_ptr<SessionStore> store, Conversations::Defer defer)
    : options_(std::move(options)),
      store_(std::move(store)),
      rate_limiter_(options_.rate_limit, options_.rate_burst),
      address_limiter_(options_.connection_rate, options_.connection_burst),
      defer_(std::move(defer)) {}

void SharedState::set_engine(std::shared_ptr<const Engine> engine) {
  if (conversations_)
    conversations_->set_engine(std::move(engine));
  else
    conversations_ = std::make_unique<Conversations>(store_, std::move(engine), &metrics_, defer_);
}

bool SharedState::store_overloaded() {
  return store_ && store_->pending_writes() >= options_.store_backlog_max;
}

bool SharedState::reserve() {
  std::lock_guard lock(mu_);
  if (stopping_ || reserved_ >= options_.max_connections) return false;
  ++reserved_;
  return true;
}

void SharedState::release() {
  std::unique_lock lock(mu_);
  --reserved_;
  maybe_drained(lock);
}

void SharedState::add(WebsocketSession* session, std::weak_ptr<WebsocketSession> weak) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session, std::move(weak));
}

void SharedState::remove(WebsocketSession* session) {
  std::unique_lock lock(mu_);
  sessions_.erase(session);
  --reserved_;
  maybe_drained(lock);
}

void SharedState::connection_opened() {
  const size_t now = live_connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  size_t peak = peak_connections_.load(std::memory_order_relaxed);
  while (now > peak && !peak_connections_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void SharedState::connection_closed() {
  const size_t now = live_connections_.fetch_sub(1, std::memory_order_relaxed) - 1;
  size_t peak = peak_connections_.load(std::memory_order_relaxed);
  // The exchange lets one thread trim per drop; the next trim needs a new
  // drop to an eighth of what is left.
  if (peak >= kTrimAfterPeak && now <= peak / 8 &&
      peak_connections_.compare_exchange_strong(peak, now, std::memory_order_relaxed)) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
}

size_t SharedState::open_connections() const {
  std::lock_guard lock(mu_);
  return reserved_;
}

void SharedState::begin_request() {
  std::lock_guard lock(mu_);
  ++requests_;
}

void SharedState::end_request() {
  std::unique_lock lock(mu_);
  --requests_;
  maybe_drained(lock);
}

bool SharedState::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void SharedState::begin_shutdown(std::function<void()> drained) {
  std::vector<std::shared_ptr<WebsocketSession>> live;
  {
    std::unique_lock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    drained_ = std::move(drained);
    for (auto& [raw, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
    maybe_drained(lock);
  }
  // Outside the lock: shutdown() posts to each session's strand, and a
  // session may finish (and call remove()) at any moment.
  for (auto& s : live) s->shutdown();
}

void SharedState::forget_drained() {
  std::lock_guard lock(mu_);
  drained_ = nullptr;
}

void SharedState::maybe_drained(std::unique_lock<std::mutex>& lock) {
  if (!stopping_ || reserved_ != 0 || requests_ != 0 || !drained_) return;
  auto drained = std::move(drained_);
  drained_ = nullptr;
  lock.unlock();
  drained();
}

}  // namespace runbot
