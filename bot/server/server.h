// `runbot serve`: the engine on the network. HTTP and WebSocket on one port
// (Boost.Beast, one io_context, N threads, a strand per connection),
// sessions in SQLite. SIGHUP reloads the data files (a broken set is
// refused and the old one keeps serving); SIGTERM or SIGINT stops taking
// connections, answers what is in flight, flushes the store, closes every
// WebSocket with 1001 and returns 0. A second SIGTERM stops at once.
//
// Thread safety: call once per process (it owns the signal handlers).
#ifndef RUNBOT_BOT_SERVER_SERVER_H_
#define RUNBOT_BOT_SERVER_SERVER_H_

#include "bot/server/server_options.h"

namespace runbot {

// Serves until stopped. Returns the exit code: 0 after a graceful stop,
// 1 when the port or the database cannot be opened, 2 on broken data files.
int run_server(const ServerOptions& options);

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_SERVER_H_
