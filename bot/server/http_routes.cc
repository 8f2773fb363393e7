#include "bot/server/http_routes.h"

#include <algorithm>
#include <cctype>

namespace runbot {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "host", "host:port", "[::1]:port" -> the host part.
std::string_view host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    size_t end = authority.find(']');
    return end == std::string_view::npos ? authority : authority.substr(0, end + 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const auto& a : allowed)
    if (a == "*" || iequals(a, origin)) return true;
  // A serialised origin is scheme "://" authority, with no path.
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return false;  // "null" and the like
  std::string_view authority = origin.substr(sep + 3);
  if (authority.empty() || authority.find('/') != std::string_view::npos) return false;
  if (!host.empty() && iequals(authority, host)) return true;
  std::string_view h = host_of(authority);
  return iequals(h, "localhost") || h == "127.0.0.1" || h == "[::1]";
}

nlohmann::json health_json(const StoreHealth* store, size_t open_connections) {
  nlohmann::json j = {{"status", "ok"}, {"connections", open_connections}};
  if (!store) {
    j["store"] = {{"kind", "none"}, {"ok", true}};
    return j;
  }
  j["store"] = {{"kind", store->kind},
                {"ok", store->ok},
                {"pending_writes", store->pending_writes},
                {"last_error", store->last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(store->last_error)}};
  if (!store->ok) j["status"] = "down";
  return j;
}

std::string_view index_html() {
  return R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>runbot</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>runbot</h1>
<p>A chat assistant for runners with pain at the back of the knee.</p>
<p>The chat widget is coming. Until then, talk to the bot over WebSocket at
<code>/chat</code> or with <code>POST /api/message</code>
(<code>{"text": "the back of my knee hurts"}</code>).</p>
<p>runbot is not a diagnosis; see a doctor or physio when it tells you to.</p>
</body>
</html>
)";
}

}  // namespace runbot
