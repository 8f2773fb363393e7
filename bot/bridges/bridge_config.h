// BridgeConfig: everything a TelegramBridge runs with: the command-line
// options plus the knobs that have fixed defaults in production and that
// tests turn down (timeouts, backoff) or point elsewhere (log sink, CA).
//
// Thread safety: a plain value, copied into the bridge.
#ifndef RUNBOT_BOT_BRIDGES_BRIDGE_CONFIG_H_
#define RUNBOT_BOT_BRIDGES_BRIDGE_CONFIG_H_

#include <chrono>
#include <string>

#include "bot/bridges/bridge_log.h"
#include "bot/bridges/telegram_bridge.h"

namespace runbot::telegram {

struct BridgeConfig {
  TelegramOptions options;
  std::string token;  // the bot token itself, read from options.token_file

  // One sendMessage or answerCallbackQuery, connecting included. Telegram
  // answers in well under a second; a stuck connection should not hold a
  // chat for long.
  std::chrono::milliseconds telegram_timeout{15000};
  // One POST /api/message. runbot answers in milliseconds; this covers a
  // server under load without leaving a user waiting forever.
  std::chrono::milliseconds runbot_timeout{20000};
  // Backoff after a transient failure (5xx, dropped connection, timeout).
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  // Attempts at one runbot turn before the user is told to try again later
  // (about two minutes with the default backoff). Telegram calls are
  // retried until they succeed or the bridge stops: a reply runbot gave
  // must reach the user.
  int runbot_max_attempts = 8;
  // Attempts at answerCallbackQuery: it only stops a spinner, so it is
  // not worth holding the chat for.
  int callback_max_attempts = 3;
  // What one second of Telegram's retry_after (or a Retry-After header)
  // is. One second, except in tests that must not take seconds.
  std::chrono::milliseconds retry_after_unit{1000};

  // PEM certificates trusted besides the system's (tests' TLS server).
  std::string extra_ca_pem;
  // Where log lines go; empty: stderr. Lines below log_level are dropped.
  LogSink log_sink;
  Level log_level = Level::kInfo;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_BRIDGE_CONFIG_H_
