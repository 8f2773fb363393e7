// UpdateHandler: answers one update from start to end. For a button: stop
// its spinner (answerCallbackQuery). Then one runbot turn, retried with the
// same id ("tg:<update_id>") so the server never runs it twice; then the
// reply to Telegram, retried until sent; then the update marked answered
// in the store. The chat's runbot session is stored as soon as runbot
// hands it out, so a retry after a restart lands in the same session.
//
// Stopping: a runbot call in flight is cancelled (safe: the retry in the
// next run is deduplicated by its id). A sendMessage in flight is not: it
// finishes (within telegram_timeout) and is recorded, since a message
// Telegram took but the store missed would be sent again by the next run.
//
// Thread safety: one per worker thread; the store and log are shared.
#ifndef RUNBOT_BOT_BRIDGES_UPDATE_HANDLER_H_
#define RUNBOT_BOT_BRIDGES_UPDATE_HANDLER_H_

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "bot/bridges/backoff.h"
#include "bot/bridges/bridge_config.h"
#include "bot/bridges/bridge_log.h"
#include "bot/bridges/bridge_store.h"
#include "bot/bridges/chat_scheduler.h"
#include "bot/bridges/runbot_client.h"
#include "bot/bridges/telegram_api.h"
#include "bot/bridges/url.h"

namespace runbot::telegram {

class UpdateHandler : public UpdateWorker {
 public:
  // `store` and `log` must outlive the handler. `on_fatal` runs (on this
  // thread) when Telegram rejects the token: nothing can be sent any more.
  UpdateHandler(const BridgeConfig& config, const Url& api_base, const Url& server, BridgeStore* store,
                BridgeLog* log, std::function<void()> on_fatal);

  // Never throws: an unexpected error is logged and the update is marked
  // answered, so that one poisonous update cannot stall its chat forever.
  void handle(const Update& update, std::stop_token stop) override;

 private:
  struct Answer {
    std::string text;
    std::vector<std::string> quick_replies;
  };
  enum class Delivery { kSent, kUndeliverable, kStopped, kFatal };

  void handle_update(const Update& u, std::stop_token stop);
  // False when the bridge is stopping or the token was rejected.
  bool answer_button(const Update& u, std::string_view notice, std::stop_token stop);
  // nullopt when stopped before runbot answered.
  std::optional<Answer> ask_runbot(const Update& u, const std::string& text, std::stop_token stop);
  Delivery deliver(const Update& u, const Answer& answer, std::stop_token stop);
  Delivery send_piece(const Update& u, const std::string& piece, nlohmann::json keyboard, std::stop_token stop);
  void finish(const Update& u);
  std::chrono::milliseconds retry_after(int seconds) const { return config_.retry_after_unit * seconds; }
  Backoff make_backoff() const { return Backoff(config_.backoff_base, config_.backoff_cap); }

  const BridgeConfig& config_;
  TelegramApi telegram_;
  RunbotClient runbot_;
  BridgeStore* const store_;
  BridgeLog* const log_;
  const std::function<void()> on_fatal_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_UPDATE_HANDLER_H_
