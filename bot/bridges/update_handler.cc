#include "bot/bridges/update_handler.h"

#include "bot/bridges/reply_format.h"

namespace runbot::telegram {
namespace {

HttpClientOptions http_options(const BridgeConfig& config) {
  HttpClientOptions o;
  o.extra_ca_pem = config.extra_ca_pem;
  return o;
}

// The client id of the runbot turn for an update: the same on every retry
// and after a restart, so the server can answer a retry from its store.
std::string turn_id(const Update& u) {
  std::string id = "tg:";
  id += std::to_string(u.update_id);
  return id;
}

}  // namespace

UpdateHandler::UpdateHandler(const BridgeConfig& config, const Url& api_base, const Url& server, BridgeStore* store,
                             BridgeLog* log, std::function<void()> on_fatal)
    : config_(config),
      telegram_(api_base, config.token, http_options(config), log),
      runbot_(server, http_options(config)),
      store_(store),
      log_(log),
      on_fatal_(std::move(on_fatal)) {}

void UpdateHandler::handle(const Update& update, std::stop_token stop) {
  try {
    handle_update(update, std::move(stop));
  } catch (const std::exception& e) {
    log_->error("update_failed", {{"update_id", update.update_id}, {"error", e.what()}});
    store_->mark_answered(update.update_id);
  }
}

void UpdateHandler::handle_update(const Update& u, std::stop_token stop) {
  if (stop.stop_requested()) return;
  Answer answer;
  switch (u.kind) {
    case UpdateKind::kIgnored:
      return finish(u);
    case UpdateKind::kExpiredButton:
      if (answer_button(u, kExpiredButtonReply, stop)) finish(u);
      return;
    case UpdateKind::kNotText:
      answer.text = kNotTextReply;
      break;
    case UpdateKind::kButton:
    case UpdateKind::kText: {
      if (u.kind == UpdateKind::kButton && !answer_button(u, "", stop)) return;
      // A button's text is a quick reply, sent as it is; typed text may be a command.
      auto a = ask_runbot(u, u.kind == UpdateKind::kButton ? u.text : runbot_text_for(u.text), stop);
      if (!a) return;
      answer = std::move(*a);
      break;
    }
  }
  switch (deliver(u, answer, stop)) {
    case Delivery::kSent:
    case Delivery::kUndeliverable:
      return finish(u);
    case Delivery::kStopped:
      return;
    case Delivery::kFatal:
      return on_fatal_();
  }
}

bool UpdateHandler::answer_button(const Update& u, std::string_view notice, std::stop_token stop) {
  Backoff backoff = make_backoff();
  for (int attempt = 1; attempt <= config_.callback_max_attempts; ++attempt) {
    ApiCall c = telegram_.answer_callback_query(u.callback_id, notice, config_.telegram_timeout, stop);
    switch (c.outcome) {
      case Outcome::kOk:
      case Outcome::kRejected:  // too old, or answered by an earlier run: the spinner is gone either way
        return true;
      case Outcome::kCancelled:
        return false;
      case Outcome::kUnauthorized:
        on_fatal_();
        return false;
      case Outcome::kRetryAfter:
        if (!sleep_for(retry_after(c.retry_after), stop)) return false;
        break;
      case Outcome::kTransient:
        if (attempt < config_.callback_max_attempts && !sleep_for(backoff.next(), stop)) return false;
        break;
    }
  }
  log_->warn("callback_not_answered", {{"update_id", u.update_id}});
  return true;
}

std::optional<UpdateHandler::Answer> UpdateHandler::ask_runbot(const Update& u, const std::string& text,
                                                               std::stop_token stop) {
  const std::string id = turn_id(u);
  Backoff backoff = make_backoff();
  for (int attempt = 1; attempt <= config_.runbot_max_attempts; ++attempt) {
    // Read on every attempt: an earlier attempt may have stored a new session.
    std::optional<std::string> session = store_->session(u.chat_id);
    if (!session) {
      log_->error("store_failed", {{"update_id", u.update_id}, {"error", store_->error()}});
      if (!sleep_for(backoff.next(), stop)) return std::nullopt;
      continue;
    }
    RunbotCall c = runbot_.send(*session, text, id, config_.runbot_timeout, stop);
    switch (c.outcome) {
      case RunbotOutcome::kOk: {
        if (c.reply.session != *session && !store_->set_session(u.chat_id, c.reply.session))
          log_->error("store_failed", {{"update_id", u.update_id}, {"error", store_->error()}});
        Answer a{std::move(c.reply.text), std::move(c.reply.quick_replies)};
        return a;
      }
      case RunbotOutcome::kCancelled:
        return std::nullopt;
      case RunbotOutcome::kRejected:
        log_->warn("runbot_rejected", {{"update_id", u.update_id}, {"code", c.error_code}});
        return Answer{std::string(c.error_code == "too_long" ? kTooLongReply : kUnreadableReply), {}};
      case RunbotOutcome::kRetry:
        log_->warn("runbot_failed", {{"update_id", u.update_id}, {"attempt", attempt}, {"error", c.error_code}});
        if (attempt == config_.runbot_max_attempts) break;
        if (!sleep_for(c.retry_after ? retry_after(static_cast<int>(c.retry_after->count())) : backoff.next(), stop))
          return std::nullopt;
        break;
    }
  }
  log_->error("runbot_gave_up", {{"update_id", u.update_id}, {"attempts", config_.runbot_max_attempts}});
  return Answer{std::string(kUnavailableReply), {}};
}

UpdateHandler::Delivery UpdateHandler::deliver(const Update& u, const Answer& answer, std::stop_token stop) {
  std::vector<std::string> pieces = split_message(answer.text);
  if (pieces.empty()) pieces.emplace_back(kEmptyReply);
  for (size_t i = 0; i < pieces.size(); ++i) {
    // The buttons go under the last piece, where the question is.
    nlohmann::json keyboard = i + 1 == pieces.size() ? inline_keyboard(answer.quick_replies) : nlohmann::json();
    Delivery d = send_piece(u, pieces[i], std::move(keyboard), stop);
    if (d != Delivery::kSent) return d;
  }
  return Delivery::kSent;
}

UpdateHandler::Delivery UpdateHandler::send_piece(const Update& u, const std::string& piece, nlohmann::json keyboard,
                                                  std::stop_token stop) {
  Backoff backoff = make_backoff();
  for (;;) {
    // No stop token for the attempt itself: see the header.
    ApiCall c = telegram_.send_message(u.chat_id, piece, keyboard, config_.telegram_timeout, std::stop_token());
    switch (c.outcome) {
      case Outcome::kOk:
        return Delivery::kSent;
      case Outcome::kCancelled:
        return Delivery::kStopped;
      case Outcome::kUnauthorized:
        return Delivery::kFatal;
      case Outcome::kRejected:
        if (!keyboard.is_null()) {
          // Should never happen; if a button is what Telegram refuses, the
          // text alone still answers the user.
          log_->warn("keyboard_rejected", {{"update_id", u.update_id}});
          keyboard = nullptr;
          continue;
        }
        // The user blocked the bot, or the chat is gone: no one to answer.
        log_->warn("reply_undeliverable", {{"update_id", u.update_id}});
        return Delivery::kUndeliverable;
      case Outcome::kRetryAfter:
        if (!sleep_for(retry_after(c.retry_after), stop)) return Delivery::kStopped;
        break;
      case Outcome::kTransient:
        if (!sleep_for(backoff.next(), stop)) return Delivery::kStopped;
        break;
    }
  }
}

void UpdateHandler::finish(const Update& u) {
  if (store_->mark_answered(u.update_id)) {
    log_->debug("answered", {{"update_id", u.update_id}});
  } else {
    log_->error("store_failed", {{"update_id", u.update_id}, {"error", store_->error()}});
  }
}

}  // namespace runbot::telegram
