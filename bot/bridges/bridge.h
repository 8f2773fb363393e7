// TelegramBridge: the bridge as one object. Its run() is the poller: it
// long-polls getUpdates, commits each batch and the offset past it to the
// store, and posts the new updates to the ChatScheduler, whose
// UpdateHandlers answer them chat by chat. Updates left unanswered by an
// earlier run are posted first.
//
// Thread safety: run() on one thread, once; stop() from any thread (a
// signal-waiting thread, a test).
#ifndef RUNBOT_BOT_BRIDGES_BRIDGE_H_
#define RUNBOT_BOT_BRIDGES_BRIDGE_H_

#include <atomic>
#include <stop_token>

#include "bot/bridges/bridge_config.h"
#include "bot/bridges/bridge_log.h"

namespace runbot::telegram {

class BridgeStore;
class ChatScheduler;
class TelegramApi;

class TelegramBridge {
 public:
  explicit TelegramBridge(BridgeConfig config);
  TelegramBridge(const TelegramBridge&) = delete;
  TelegramBridge& operator=(const TelegramBridge&) = delete;

  // Runs until stop() or a fatal error. Returns the exit code: 0 stopped,
  // 1 Telegram rejected the token, 2 bad configuration (URL, database).
  // After stop(), returns once in-flight runbot calls are cancelled and any
  // sendMessage in flight has finished (at most telegram_timeout).
  int run();
  // Returns at once. Before run(), run() returns without polling.
  void stop();

 private:
  int poll(TelegramApi& api, BridgeStore& store, ChatScheduler& scheduler, std::stop_token stop);

  const BridgeConfig config_;
  BridgeLog log_;
  std::stop_source stop_;
  std::atomic<bool> token_rejected_{false};
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_BRIDGE_H_
