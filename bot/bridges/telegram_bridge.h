// The Telegram bridge (`runbot telegram`): relays Telegram chats to runbot
// over POST /api/message and runbot's replies back, quick replies as inline
// keyboard buttons. See bot/bridges/README.md for the guarantees (no update
// lost or answered twice across restarts, one slow chat never delays
// another) and how they are kept.
//
// Thread safety: run_telegram_bridge() blocks the calling thread; run it
// once at a time per process (it owns SIGINT and SIGTERM while it runs).
#ifndef RUNBOT_BOT_BRIDGES_TELEGRAM_BRIDGE_H_
#define RUNBOT_BOT_BRIDGES_TELEGRAM_BRIDGE_H_

#include <string>

namespace runbot {

struct TelegramOptions {
  // File holding the bot token from @BotFather, alone (surrounding
  // whitespace is ignored). A file, not a flag: flags show up in `ps`.
  std::string token_file;
  // runbot's HTTP address (`runbot serve`).
  std::string server_url = "http://127.0.0.1:8080";
  // The Bot API. https:// is verified against the system's trust store;
  // http:// is for a local fake in tests.
  std::string api_base = "https://api.telegram.org";
  // The bridge's SQLite file: getUpdates offset, unanswered updates, chat
  // sessions. Created (mode 0600) if missing.
  std::string state_db = "telegram.db";
  // Seconds Telegram holds a getUpdates open when there is nothing new.
  int poll_timeout_s = 25;
  // Chats answered at the same time (each waits on runbot and Telegram on
  // its own thread); more chats queue, each in its own order.
  int max_parallel_chats = 64;
};

// Runs the bridge until SIGINT or SIGTERM. Returns the exit code: 0 after a
// signal, 1 when Telegram rejects the token, 2 on bad options (unreadable
// token file, bad URL, unopenable database). Problems are logged to stderr
// as JSON lines; the token never appears in them.
int run_telegram_bridge(const TelegramOptions& options);

}  // namespace runbot

#endif  // RUNBOT_BOT_BRIDGES_TELEGRAM_BRIDGE_H_
