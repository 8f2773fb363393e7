// runbot: one executable, subcommands in the manner of git or rasa.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "bot/bridges/telegram_bridge.h"
#include "bot/cli/commands.h"
#include "bot/data_files.h"
#include "bot/server/server.h"

int main(int argc, char** argv) {
  using namespace runbot;
  CLI::App app{"runbot: a chat assistant for runners with pain at the back of the knee"};
  app.require_subcommand(1);
  std::string data_root = default_data_root();
  app.add_option("--data", data_root,
                 "Folder holding intents/, dialogs/ and bot/knowledge/ (env RUNBOT_DATA)")
      ->envname("RUNBOT_DATA");

  ChatOptions chat;
  auto* chat_cmd = app.add_subcommand("chat", "Chat in the terminal, with a runbot server or in-process");
  chat_cmd->add_option("url", chat.url, "Server to talk to (env RUNBOT_URL)")
      ->envname("RUNBOT_URL")
      ->capture_default_str();
  chat_cmd->add_flag("--local", chat.local, "Run the engine in this process (no server)");
  chat_cmd->add_flag("--debug", chat.debug, "Show intent, confidence, entities and the concepts that fired");
  bool no_color = false;
  chat_cmd->add_flag("--no-color", no_color, "Plain text even on a terminal");

  TelegramOptions telegram;
  auto* telegram_cmd = app.add_subcommand("telegram", "Bridge a Telegram bot to a runbot server");
  telegram_cmd->add_option("--token-file", telegram.token_file, "File holding the bot token (never logged)")
      ->envname("RUNBOT_TELEGRAM_TOKEN_FILE")
      ->required();
  telegram_cmd->add_option("--server", telegram.server_url, "runbot server's HTTP address")
      ->envname("RUNBOT_SERVER")
      ->capture_default_str();
  telegram_cmd->add_option("--api-base", telegram.api_base, "Bot API base URL (https, certificates checked)")
      ->envname("RUNBOT_TELEGRAM_API")
      ->capture_default_str();
  telegram_cmd->add_option("--db", telegram.state_db, "SQLite file for offsets and chat sessions")
      ->envname("RUNBOT_TELEGRAM_DB")
      ->capture_default_str();
  telegram_cmd->add_option("--poll-timeout", telegram.poll_timeout_s, "Seconds a getUpdates long poll waits")
      ->capture_default_str();
  telegram_cmd->add_option("--parallel-chats", telegram.max_parallel_chats, "Chats answered at the same time")
      ->capture_default_str();

  EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "Run evaluation sets (JSON Lines) through the engine");
  eval_cmd->add_option("files", eval.files, "Evaluation files (single messages and/or conversations)")
      ->required()
      ->check(CLI::ExistingFile);
  eval_cmd->add_option("--show-failures", eval.show_failures, "How many failures to list")
      ->capture_default_str();
  eval_cmd->add_flag("--json", eval.json, "Print a JSON report before the EVAL line");

  // Every serve flag also comes from RUNBOT_<FLAG> and from --config.
  ServerOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the chat protocol over WebSocket and HTTP (spec/protocol.md)");
  // CLI11 reads config files at the top level only: --config belongs to the
  // app and `serve` falls through to it, so `runbot serve --config FILE`
  // works; in the file, serve's options sit under [serve]. CLI11 also reads
  // the file before it looks at the environment, so RUNBOT_CONFIG is read
  // here, as the default file name (and then the file must exist).
  const char* config_env = std::getenv("RUNBOT_CONFIG");
  app.set_config("--config", config_env ? config_env : "",
                 "TOML/INI file of options; serve's under [serve], e.g. port = 8080 (env RUNBOT_CONFIG)",
                 config_env != nullptr);
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
  serve_cmd->fallthrough();
  serve_cmd->add_option("--host", serve.host, "Address to listen on")->envname("RUNBOT_HOST")->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "TCP port; 0 picks a free one")->envname("RUNBOT_PORT")->capture_default_str();
  serve_cmd->add_option("--db", serve.db_path, "SQLite file holding the sessions (created)")
      ->envname("RUNBOT_DB")
      ->capture_default_str();
  serve_cmd->add_option("--store", serve.store_url,
                        "Shared session store instead of --db: redis://[:PASSWORD@]HOST[:PORT][/DB]")
      ->envname("RUNBOT_STORE");
  serve_cmd->add_option("--threads", serve.threads, "I/O threads; 0 = one per core")
      ->envname("RUNBOT_THREADS")
      ->capture_default_str();
  serve_cmd->add_option("--rate-limit", serve.rate_limit, "Messages per second per session; 0 = no limit")
      ->envname("RUNBOT_RATE_LIMIT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd->add_option("--rate-burst", serve.rate_burst, "Messages allowed in a burst above the rate")
      ->envname("RUNBOT_RATE_BURST")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_option("--connection-rate", serve.connection_rate,
                        "New connections per second per client IP address, more are closed at once; 0 = no "
                        "limit (behind a proxy, limit there)")
      ->envname("RUNBOT_CONNECTION_RATE")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd->add_option("--connection-burst", serve.connection_burst,
                        "Connections per address allowed in a burst above --connection-rate")
      ->envname("RUNBOT_CONNECTION_BURST")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_option("--allow-origin", serve.allow_origins,
                        "Origin allowed to open a WebSocket besides the same host and localhost; repeat or "
                        "separate with commas; * for any")
      ->envname("RUNBOT_ALLOW_ORIGIN")
      ->delimiter(',');
  serve_cmd->add_option("--max-connections", serve.max_connections, "Open WebSockets; more get HTTP 503")
      ->envname("RUNBOT_MAX_CONNECTIONS")
      ->capture_default_str();
  serve_cmd->add_flag("--echo", serve.echo, "Serve a bare echo WebSocket on /chat (benchmark baseline)")
      ->envname("RUNBOT_ECHO");
  int handshake_s = static_cast<int>(serve.handshake_timeout.count());
  int idle_s = static_cast<int>(serve.idle_timeout.count());
  int expiry_days = static_cast<int>(serve.session_expiry.count() / 86400);
  int busy_ms = static_cast<int>(serve.db_busy_timeout.count());
  serve_cmd->add_option("--handshake-timeout", handshake_s, "Seconds to send the request and finish the handshake")
      ->envname("RUNBOT_HANDSHAKE_TIMEOUT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_option("--idle-timeout", idle_s, "Seconds of silence before a WebSocket is dropped (ping at half)")
      ->envname("RUNBOT_IDLE_TIMEOUT")
      ->check(CLI::Range(2, 86400))
      ->capture_default_str();
  serve_cmd->add_option("--session-expiry-days", expiry_days, "Days idle after which a session is purged")
      ->envname("RUNBOT_SESSION_EXPIRY_DAYS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_option("--db-busy-timeout", busy_ms, "Milliseconds a write waits on a locked database")
      ->envname("RUNBOT_DB_BUSY_TIMEOUT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*chat_cmd) {
    chat.data_root = data_root;
    chat.color = !no_color;
    if (!chat.local) {
      if (chat.debug) {
        std::cerr << "runbot chat: --debug needs --local (the server does not send its reasoning)\n";
        return 2;
      }
      return run_chat_remote(chat);
    }
    return run_chat_local(chat);
  }
  if (*serve_cmd) {
    serve.data_root = data_root;
    serve.handshake_timeout = std::chrono::seconds(handshake_s);
    serve.idle_timeout = std::chrono::seconds(idle_s);
    serve.session_expiry = std::chrono::hours(24) * expiry_days;
    serve.db_busy_timeout = std::chrono::milliseconds(busy_ms);
    return run_server(serve);
  }
  if (*telegram_cmd) return run_telegram_bridge(telegram);
  if (*eval_cmd) {
    eval.data_root = data_root;
    return run_eval(eval);
  }
  return 2;
}
