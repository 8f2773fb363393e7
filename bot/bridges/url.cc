#include "bot/bridges/url.h"

#include <algorithm>
#include <cctype>

namespace runbot::telegram {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  int n = std::stoi(std::string(p));
  return n >= 1 && n <= 65535;
}

bool valid_name(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

bool valid_ipv6(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

}  // namespace

bool Url::host_is_ip() const {
  if (host.find(':') != std::string::npos) return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string Url::host_header() const {
  std::string h;
  if (host.find(':') != std::string::npos) {
    h = '[';
    h += host;
    h += ']';
  } else {
    h = host;
  }
  if (port != (tls ? "443" : "80")) {
    h += ':';
    h += port;
  }
  return h;
}

std::string Url::to_string() const {
  std::string s = tls ? "https://" : "http://";
  s += host_header();
  s += path;
  return s;
}

std::optional<Url> parse_url(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view scheme = text.substr(0, sep);
  if (iequals(scheme, "https")) {
    url.tls = true;
  } else if (!iequals(scheme, "http")) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find_first_of("?#@ \t\r\n") != std::string_view::npos) return std::nullopt;
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (!valid_port(port)) return std::nullopt;
    }
    if (!valid_ipv6(host)) return std::nullopt;
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (!valid_port(port)) return std::nullopt;
    }
    if (!valid_name(host)) return std::nullopt;
  }
  url.host = std::string(host);
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string(port);
  url.path = std::string(path);
  return url;
}

}  // namespace runbot::telegram
