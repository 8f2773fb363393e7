// HttpClient: blocking JSON POSTs to one origin (http:// or https://), with
// a deadline per request and cancellation from another thread. The bridge
// runs one per thread, so a slow request holds up only its own thread.
//
// HTTPS is checked the way a browser checks it: TLS 1.2 or later, the
// certificate chain verified against the system's trust store
// (set_default_verify_paths, verify_peer), the host name verified against
// the certificate (OpenSSL's X509_VERIFY_PARAM_set1_host, or the IP), and
// SNI sent. A certificate that fails any of these fails the request.
//
// One connection is kept alive between requests. It is never reused after
// an error, a timeout or a cancellation.
//
// Thread safety: one thread at a time per HttpClient; `stop` may be
// requested from any thread.
#ifndef RUNBOT_BOT_BRIDGES_HTTP_CLIENT_H_
#define RUNBOT_BOT_BRIDGES_HTTP_CLIENT_H_

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "bot/bridges/url.h"

namespace runbot::telegram {

struct HttpClientOptions {
  // Largest response body. A getUpdates batch of 100 updates is well under it.
  size_t body_limit = 8 * 1024 * 1024;
  // A kept-alive connection idle longer than this is closed rather than
  // reused, before the peer (nginx: 75 s) closes it under a request.
  std::chrono::seconds idle_reuse_limit{30};
  // PEM certificates trusted besides the system's. Tests only (a
  // self-signed loopback server); empty in production.
  std::string extra_ca_pem;
};

enum class HttpError {
  kNone,
  kTimeout,    // the deadline passed
  kCancelled,  // `stop` was requested
  kConnect,    // name resolution or TCP connect failed
  kTls,        // TLS set-up or handshake failed (certificate checks included)
  kDropped,    // the connection broke while sending or before a full response
  kProtocol,   // not HTTP, or a response over the limits
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, "" if none
};

struct HttpResult {
  HttpError error = HttpError::kNone;
  std::string detail;  // what failed, e.g. "connect: Connection refused"; never a URL
  HttpResponse response;

  bool ok() const { return error == HttpError::kNone; }
};

const char* to_string(HttpError error);

class HttpClient {
 public:
  HttpClient(Url origin, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` (application/json) to origin.path + `target` and returns
  // the response whatever its status, or the error that prevented one. It
  // returns by `timeout` (connect, TLS, send and receive together) and soon
  // after `stop` is requested.
  HttpResult post_json(std::string_view target, std::string_view body, std::chrono::milliseconds timeout,
                       std::stop_token stop);

  const Url& origin() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_HTTP_CLIENT_H_
