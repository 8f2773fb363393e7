// ServerOptions: every limit and setting of `runbot serve`, in one place,
// each with its default and the reason for it. Boost 1.74's Beast defaults
// are not safe for a public port (16 MB messages, no timeouts, no Origin
// check, unbounded writes), so every one is set explicitly here.
//
// A plain value; copied into the server at start.
#ifndef RUNBOT_BOT_SERVER_SERVER_OPTIONS_H_
#define RUNBOT_BOT_SERVER_SERVER_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace runbot {

struct ServerOptions {
  // Address to listen on. Loopback by default: put nginx or another TLS
  // proxy in front to serve the internet.
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free one (the "listening" log line names it).
  unsigned short port = 8080;
  // I/O threads running the one io_context. 0 = one per core.
  unsigned threads = 0;
  // SQLite file holding the sessions; created if missing.
  std::string db_path = "runbot.db";
  // Where sessions live instead of db_path: "redis://HOST:PORT/DB" for
  // several instances sharing sessions (bot/store/redis_store.h). Empty:
  // the SQLite file.
  std::string store_url;
  // Folder holding intents/, dialogs/ and bot/knowledge/ (reloaded on SIGHUP).
  std::string data_root;
  // Serve a bare echo WebSocket on /chat instead of the bot: the same
  // listener, limits and timeouts, no engine or store. The benchmark baseline.
  bool echo = false;

  // --- WebSocket ------------------------------------------------------------
  // Largest incoming message. A bigger frame closes with 1009. A 2,000
  // character text fits with room for JSON escapes.
  size_t read_message_max = 16 * 1024;
  // Longest `text` of a message, in characters; longer gets error too_long.
  size_t max_text_chars = 2000;
  // Time for a new TCP connection to send its HTTP request and finish the
  // WebSocket handshake, and for the close handshake. A client that connects
  // and sends nothing is dropped after it.
  std::chrono::seconds handshake_timeout{10};
  // A WebSocket that receives nothing (no data, no pong) for this long is
  // dropped. A ping goes out at half of it, i.e. every 25 s: nginx drops
  // idle tunnels at 60 s.
  std::chrono::seconds idle_timeout{50};
  // Frames waiting to be written to one client. A client that stops reading
  // fills it and is dropped, so it cannot make the server buffer without end.
  size_t write_queue_max = 64;
  // Open WebSocket connections; the next handshake gets HTTP 503.
  size_t max_connections = 10000;
  // Origins allowed to open a WebSocket besides the same host and
  // localhost; "*" allows any. Browsers send Origin, other clients do not
  // (and are allowed). A refused handshake gets HTTP 403.
  std::vector<std::string> allow_origins;

  // --- Rate limit (per session) --------------------------------------------
  // Sustained messages per second; 0 turns the limit off (benchmarks).
  double rate_limit = 2.0;
  // Messages allowed in a burst above the rate.
  double rate_burst = 20;
  // Refused frames in a row after which the connection is closed with 1008.
  int flood_close_after = 20;

  // --- Connection rate (per client address) ----------------------------------
  // New connections per second from one IP address; more are closed at
  // accept, before any byte is read: connection churn from one address then
  // costs the server an accept and a close. 0 (the default) turns it off:
  // behind a proxy every connection comes from the proxy's address, so the
  // limit belongs there (deploy/nginx.conf). Set it when runbot faces
  // clients directly.
  double connection_rate = 0;
  // Connections allowed in a burst above the rate (a page load opens one or two).
  double connection_burst = 20;

  // --- HTTP -----------------------------------------------------------------
  // Largest request header block.
  size_t http_header_max = 8 * 1024;
  // Largest POST /api/message body (a 2,000 character text and JSON escapes).
  size_t http_body_max = 16 * 1024;
  // Largest body on any other request, the WebSocket upgrade above all
  // (Beast would otherwise buffer up to 1 MB on GET /chat).
  size_t upgrade_body_max = 0;

  // --- Store and shutdown ----------------------------------------------------
  // Sessions idle longer than this expire and are purged.
  std::chrono::seconds session_expiry = std::chrono::hours(24 * 30);
  // How long a store write waits on a database locked by another process
  // before the message gets error internal.
  std::chrono::milliseconds db_busy_timeout{2000};
  // Session writes waiting for the disk. Past it, messages get error
  // overloaded at once instead of queueing without bound behind a stalled
  // disk.
  size_t store_backlog_max = 10000;
  // On SIGTERM, how long in-flight turns and close handshakes may take
  // before the remaining sockets are cut.
  std::chrono::seconds shutdown_grace{10};
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_SERVER_OPTIONS_H_
