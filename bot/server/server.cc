#include "bot/server/server.h"

#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "bot/data_files.h"
#include "bot/server/listener.h"
#include "bot/server/log.h"
#include "bot/server/net.h"
#include "bot/server/shared_state.h"
#include "bot/store/redis_store.h"
#include "bot/store/sqlite_store.h"

namespace runbot {
namespace {

class Server {
 public:
  explicit Server(const ServerOptions& options)
      : options_(options),
        threads_(options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        ioc_(static_cast<int>(threads_)),
        signals_(ioc_, SIGINT, SIGTERM, SIGHUP),
        grace_(ioc_) {}

  ~Server() {
    if (reload_thread_.joinable()) reload_thread_.join();
  }

  int run() {
    // A closed stderr (the log reader gone) must not kill the server
    // mid-write; sockets already use MSG_NOSIGNAL.
    std::signal(SIGPIPE, SIG_IGN);
    std::shared_ptr<const Engine> engine;
    if (!options_.echo) {
      LoadErrors errors;
      engine = load_engine(options_.data_root, &errors);
      if (!engine) {
        for (const auto& e : errors) log_event(LogLevel::kError, "load_error", {{"error", e.to_string()}});
        return 2;
      }
      if (int rc = open_store(); rc != 0) return rc;
    }
    // Turns redone after a store write conflict run on the io threads, off
    // the store's own thread (Conversations::Defer).
    state_ = std::make_shared<SharedState>(options_, store_,
                                           [this](std::function<void()> work) { net::post(ioc_, std::move(work)); });
    if (engine) state_->set_engine(std::move(engine));
    state_->set_static_files(StaticFiles::load(options_.data_root + "/web"));

    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    listener_ = std::make_shared<Listener>(ioc_, state_);
    if (!ec && endpoints.empty()) ec = net::error::host_not_found;
    if (!ec) ec = listener_->open(endpoints.begin()->endpoint());
    if (ec) {
      log_event(LogLevel::kError, "listen_failed",
                {{"host", options_.host}, {"port", options_.port}, {"error", ec.message()}});
      return 1;
    }
    listener_->run();
    wait_for_signal();
    const StoreHealth health = options_.echo ? StoreHealth{} : store_->health();
    log_event(LogLevel::kInfo, "listening",
              {{"host", options_.host},
               {"port", listener_->port()},
               {"threads", threads_},
               {"mode", options_.echo ? "echo" : "bot"},
               {"store", health.kind},
               {"db", health.detail}});

    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([this] { run_io(); });
    run_io();
    for (auto& t : pool) t.join();

    // Every thread has stopped: no handler can queue another write now.
    state_->forget_drained();
    if (store_) store_->flush();
    log_event(LogLevel::kInfo, "stopped", {{"open_connections", state_->open_connections()}});
    return 0;
  }

 private:
  // 0, or the exit code: 2 for a malformed store URL, 1 for a SQLite file
  // that cannot be opened. An unreachable Redis is not fatal: the server
  // starts, /healthz says 503 and turns fail with `internal` until Redis
  // answers, so instances and Redis can start in any order.
  int open_store() {
    std::string error;
    if (!options_.store_url.empty()) {
      auto ro = parse_redis_url(options_.store_url, &error);
      if (!ro) {
        log_event(LogLevel::kError, "store_open_failed", {{"error", error}});
        return 2;
      }
      ro->idle_expiry = options_.session_expiry;
      store_ = RedisStore::open(*ro);
      StoreHealth h = store_->health();
      if (!h.ok) log_event(LogLevel::kWarn, "store_unavailable", {{"store", h.detail}, {"error", h.last_error}});
      return 0;
    }
    SqliteStoreOptions so;
    so.path = options_.db_path;
    so.idle_expiry = options_.session_expiry;
    so.busy_timeout = options_.db_busy_timeout;
    store_ = SqliteStore::open(so, &error);
    if (!store_) {
      log_event(LogLevel::kError, "store_open_failed", {{"error", error}});
      return 1;
    }
    return 0;
  }

  // Exceptions stop here: one escaping a handler is logged and the thread
  // goes back to serving.
  void run_io() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        log_event(LogLevel::kError, "handler_exception", {{"error", e.what()}});
      }
    }
  }

  void wait_for_signal() {
    signals_.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
      } else if (!stopping_) {
        stopping_ = true;
        begin_stop(signal);
      } else {
        log_event(LogLevel::kWarn, "stop_now", {{"signal", signal}});
        ioc_.stop();
        return;
      }
      wait_for_signal();
    });
  }

  void begin_stop(int signal) {
    log_event(LogLevel::kInfo, "stopping",
              {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}, {"open_connections", state_->open_connections()}});
    listener_->stop();
    grace_.expires_after(options_.shutdown_grace);
    grace_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      log_event(LogLevel::kWarn, "shutdown_grace_expired", {{"open_connections", state_->open_connections()}});
      ioc_.stop();
    });
    state_->begin_shutdown([this] { net::post(ioc_, [this] { ioc_.stop(); }); });
  }

  // Loads on a thread of its own so that no connection waits for it; the
  // swap itself is one pointer assignment under a mutex.
  void reload() {
    if (options_.echo) return log_event(LogLevel::kInfo, "reload_skipped", {{"reason", "echo mode"}});
    if (reload_thread_.joinable()) reload_thread_.join();
    reload_thread_ = std::thread([this] {
      LoadErrors errors;
      auto engine = load_engine(options_.data_root, &errors);
      if (!engine) {
        for (const auto& e : errors) log_event(LogLevel::kError, "reload_error", {{"error", e.to_string()}});
        log_event(LogLevel::kError, "reload_refused", {{"errors", errors.size()}});
        state_->metrics().count_reload(false);
        return;
      }
      state_->set_engine(std::move(engine));
      state_->set_static_files(StaticFiles::load(options_.data_root + "/web"));
      state_->metrics().count_reload(true);
      log_event(LogLevel::kInfo, "reloaded", {{"data", options_.data_root}});
    });
  }

  const ServerOptions options_;
  const unsigned threads_;
  // Declared before the io_context so that they outlive it: handlers the
  // io_context destroys still reach the store and the shared state.
  std::shared_ptr<SessionStore> store_;
  std::shared_ptr<SharedState> state_;
  net::io_context ioc_;
  net::signal_set signals_;
  net::steady_timer grace_;
  std::shared_ptr<Listener> listener_;
  bool stopping_ = false;  // only touched by the signal handler
  std::thread reload_thread_;
};

}  // namespace

int run_server(const ServerOptions& options) {
  Server server(options);
  return server.run();
}

}  // namespace runbot
