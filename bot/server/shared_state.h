// SharedState: what every connection of one server shares (the shape of
// Beast's chat-multi example): options, the conversations (engine + store),
// metrics, the rate limiter, and the registry of open WebSocket sessions
// that graceful shutdown walks.
//
// Thread safety: safe from any thread. Sessions are held by weak_ptr, so the
// registry never keeps a connection alive.
#ifndef RUNBOT_BOT_SERVER_SHARED_STATE_H_
#define RUNBOT_BOT_SERVER_SHARED_STATE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "bot/server/conversations.h"
#include "bot/server/metrics.h"
#include "bot/server/rate_limiter.h"
#include "bot/server/server_options.h"
#include "bot/server/static_files.h"
#include "bot/store/session_store.h"

namespace runbot {

class WebsocketSession;

class SharedState {
 public:
  // `store` and `conversations` are null in echo mode. `defer` runs the
  // redo of a turn after a store write conflict (Conversations::Defer).
  SharedState(ServerOptions options, std::shared_ptr<SessionStore> store, Conversations::Defer defer = nullptr);

  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  RateLimiter& rate_limiter() { return rate_limiter_; }
  // Keyed by client IP address (--connection-rate); the listener asks it.
  RateLimiter& address_limiter() { return address_limiter_; }
  Conversations* conversations() { return conversations_.get(); }
  SessionStore* store() { return store_.get(); }
  // True when the store has store_backlog_max writes waiting: new turns
  // get error overloaded.
  bool store_overloaded();
  // REQUIRES: not echo mode. Called once before serving.
  void set_engine(std::shared_ptr<const Engine> engine);
  // The widget's files; replaced as a whole on reload.
  std::shared_ptr<const StaticFiles> static_files() const { return std::atomic_load(&static_files_); }
  void set_static_files(std::shared_ptr<const StaticFiles> files) { std::atomic_store(&static_files_, std::move(files)); }

  // Takes one of options().max_connections WebSocket slots; false when full
  // or shutting down. A successful reserve() is followed by add() or release().
  bool reserve();
  void release();
  void add(WebsocketSession* session, std::weak_ptr<WebsocketSession> weak);
  // Removes and releases the slot.
  void remove(WebsocketSession* session);
  size_t open_connections() const;

  // Every connection object (HttpSession, WebsocketSession) calls these
  // from its constructor and destructor. When the count falls to an eighth
  // of a peak of at least kTrimAfterPeak, freed memory goes back to the
  // system (malloc_trim): glibc otherwise keeps it in its arenas, and a
  // burst of 10,000 abandoned connections would hold ~70 MB of RSS for
  // the life of the process. Runs at most a few times per burst.
  static constexpr size_t kTrimAfterPeak = 1000;
  void connection_opened();
  void connection_closed();

  // In-flight POST /api/message turns, which shutdown also waits for.
  void begin_request();
  void end_request();

  bool stopping() const;
  // Stops taking new work and asks every session to close with 1001 once its
  // turn in flight is answered. `drained` runs once (on some thread) when no
  // session or request is left.
  void begin_shutdown(std::function<void()> drained);
  // Forgets `drained` (call before tearing the io_context down).
  void forget_drained();

 private:
  std::shared_ptr<const StaticFiles> static_files_ = std::make_shared<StaticFiles>();
  void maybe_drained(std::unique_lock<std::mutex>& lock);

  const ServerOptions options_;
  std::shared_ptr<SessionStore> store_;
  Metrics metrics_;
  RateLimiter rate_limiter_;
  RateLimiter address_limiter_;
  Conversations::Defer defer_;
  std::unique_ptr<Conversations> conversations_;

  std::atomic<size_t> live_connections_{0};
  std::atomic<size_t> peak_connections_{0};  // since the last trim

  mutable std::mutex mu_;
  std::unordered_map<WebsocketSession*, std::weak_ptr<WebsocketSession>> sessions_;  // GUARDED_BY(mu_)
  size_t reserved_ = 0;                                                                // GUARDED_BY(mu_)
  size_t requests_ = 0;                                                                // GUARDED_BY(mu_)
  bool stopping_ = false;                                                              // GUARDED_BY(mu_)
  std::function<void()> drained_;                                                      // GUARDED_BY(mu_)
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_SHARED_STATE_H_
