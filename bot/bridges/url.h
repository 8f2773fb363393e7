// Url: the parts of an http:// or https:// base URL the bridge talks to
// (--api-base, --server). Pure: parsing only, no I/O.
//
// Thread safety: a plain value.
#ifndef RUNBOT_BOT_BRIDGES_URL_H_
#define RUNBOT_BOT_BRIDGES_URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace runbot::telegram {

struct Url {
  bool tls = false;  // https
  std::string host;  // a name or an IP literal, IPv6 without brackets
  std::string port;  // always set: "80" or "443" when the URL names none
  std::string path;  // base path without a trailing '/', "" for none

  bool host_is_ip() const;
  // The Host header: host, bracketed when IPv6, plus ":port" when not the default.
  std::string host_header() const;
  // "scheme://host[:port]path", for logs. Holds no secret: the token only
  // ever goes into request targets, never into a Url.
  std::string to_string() const;
};

// Parses "http[s]://host[:port][/path]". nullopt on anything else: another
// scheme, user info, a query or fragment, an empty host, a bad port.
std::optional<Url> parse_url(std::string_view text);

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_URL_H_
