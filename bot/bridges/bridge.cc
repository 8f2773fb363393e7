#include "bot/bridges/bridge.h"

#include <algorithm>

#include "bot/bridges/backoff.h"
#include "bot/bridges/bridge_store.h"
#include "bot/bridges/chat_scheduler.h"
#include "bot/bridges/telegram_api.h"
#include "bot/bridges/update_handler.h"

namespace runbot::telegram {

TelegramBridge::TelegramBridge(BridgeConfig config)
    : config_(std::move(config)), log_(token_secrets(config_.token), config_.log_sink, config_.log_level) {}

void TelegramBridge::stop() { stop_.request_stop(); }

int TelegramBridge::run() {
  const TelegramOptions& o = config_.options;
  auto api_base = parse_url(o.api_base);
  auto server = parse_url(o.server_url);
  if (!api_base || !server) {
    log_.error("bad_option", {{"option", !api_base ? "--api-base" : "--server"},
                              {"value", !api_base ? o.api_base : o.server_url},
                              {"expected", "http://host[:port][/path] or https://..."}});
    return 2;
  }
  if (config_.token.empty()) {
    log_.error("bad_option", {{"option", "--token-file"}, {"error", "no token"}});
    return 2;
  }
  std::string error;
  std::unique_ptr<BridgeStore> store = BridgeStore::open(o.state_db, &error);
  if (!store) {
    log_.error("db_open_failed", {{"db", o.state_db}, {"error", error}});
    return 2;
  }
  std::optional<std::vector<Update>> pending = store->pending();
  if (!pending) {
    log_.error("db_read_failed", {{"db", o.state_db}, {"error", store->error()}});
    return 2;
  }

  HttpClientOptions http;
  http.extra_ca_pem = config_.extra_ca_pem;
  TelegramApi api(*api_base, config_.token, http, &log_);
  const int parallel = std::max(1, o.max_parallel_chats);
  log_.info("starting", {{"api", api.redacted_url("getUpdates")},
                         {"server", server->to_string()},
                         {"db", o.state_db},
                         {"max_parallel_chats", parallel},
                         {"unanswered", pending->size()}});
  int code;
  {
    ChatScheduler scheduler(parallel, [&] {
      return std::make_unique<UpdateHandler>(config_, *api_base, *server, store.get(), &log_, [this] {
        token_rejected_ = true;
        stop();
      });
    });
    for (Update& u : *pending) scheduler.post(std::move(u));
    code = poll(api, *store, scheduler, stop_.get_token());
    scheduler.stop();
    scheduler.join();
  }
  if (token_rejected_) {
    log_.error("token_rejected", {{"api", api.redacted_url("sendMessage")}});
    code = 1;
  }
  auto left = store->pending();
  log_.info("stopped", {{"exit_code", code}, {"unanswered", left ? left->size() : 0}});
  return code;
}

int TelegramBridge::poll(TelegramApi& api, BridgeStore& store, ChatScheduler& scheduler, std::stop_token stop) {
  const int timeout_s = std::clamp(config_.options.poll_timeout_s, 0, 600);
  Backoff backoff(config_.backoff_base, config_.backoff_cap);
  int64_t offset = store.offset();
  auto wait = [&](std::chrono::milliseconds d) { return sleep_for(d, stop); };
  while (!stop.stop_requested()) {
    ApiCall c = api.get_updates(offset, timeout_s, stop);
    switch (c.outcome) {
      case Outcome::kCancelled:
        return 0;
      case Outcome::kUnauthorized:
        log_.error("token_rejected", {{"api", api.redacted_url("getUpdates")}});
        return 1;
      case Outcome::kRetryAfter:
        if (!wait(config_.retry_after_unit * c.retry_after)) return 0;
        continue;
      case Outcome::kTransient:
      case Outcome::kRejected:  // a 400 for getUpdates: nothing to do but try again later
        if (!wait(backoff.next())) return 0;
        continue;
      case Outcome::kOk:
        break;
    }
    if (!c.result.is_array()) {
      log_.warn("updates_malformed", {{"error", "result is not an array"}});
      if (!wait(backoff.next())) return 0;
      continue;
    }
    std::vector<Update> batch;
    int64_t next = offset;
    size_t unreadable = 0;
    for (const nlohmann::json& j : c.result) {
      std::optional<Update> u = parse_update(j);
      if (!u) {
        ++unreadable;
        continue;
      }
      next = std::max(next, u->update_id + 1);
      batch.push_back(std::move(*u));
    }
    if (unreadable > 0) log_.warn("updates_unreadable", {{"count", unreadable}});
    if (batch.empty()) {
      // Updates without ids cannot be passed over; waiting keeps a broken
      // peer from turning this loop into a busy one.
      if (unreadable > 0 && !wait(backoff.next())) return 0;
      continue;
    }
    std::optional<std::vector<Update>> fresh = store.accept(batch, next);
    if (!fresh) {
      // Nothing stored: the offset stays, so Telegram sends the batch again.
      log_.error("store_failed", {{"error", store.error()}});
      if (!wait(backoff.next())) return 0;
      continue;
    }
    offset = std::max(offset, next);
    backoff.reset();
    log_.debug("received", {{"updates", batch.size()}, {"new", fresh->size()}, {"offset", offset}});
    for (Update& u : *fresh) scheduler.post(std::move(u));
  }
  return 0;
}

}  // namespace runbot::telegram
