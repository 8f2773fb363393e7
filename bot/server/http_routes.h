// The pure parts of the HTTP side: the Origin rule for WebSocket
// handshakes, the /healthz body and the placeholder page. No sockets, so
// they are unit-tested directly.
//
// Thread safety: stateless.
#ifndef RUNBOT_BOT_SERVER_HTTP_ROUTES_H_
#define RUNBOT_BOT_SERVER_HTTP_ROUTES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/session_store.h"

namespace runbot {

// True iff a browser page from `origin` may open a WebSocket on the server
// reached as `host` (the Host header). Allowed: no Origin at all (not a
// browser), the same host and port, localhost, and any origin listed in
// `allowed` (exact, case-insensitive; "*" for any).
bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

// GET /healthz: {"status":"ok"|"down","store":{...}}. `store` is null in
// echo mode.
nlohmann::json health_json(const StoreHealth* store, size_t open_connections);

// GET /: the placeholder page until the web widget lands.
std::string_view index_html();

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_HTTP_ROUTES_H_
