#include "bot/bridges/http_client.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <sys/socket.h>

#include <cerrno>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace runbot::telegram {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// How one asynchronous step ended.
struct Step {
  beast::error_code ec;
  bool timed_out = false;
  bool cancelled = false;
};

HttpResult failure(HttpError error, std::string detail) {
  HttpResult r;
  r.error = error;
  r.detail = std::move(detail);
  return r;
}

// The result for a failed step, or nullopt when the step succeeded.
std::optional<HttpResult> failed(const Step& s, HttpError kind, const char* what) {
  std::string w(what);
  if (s.cancelled) return failure(HttpError::kCancelled, w + ": stopped");
  if (s.timed_out) return failure(HttpError::kTimeout, w + ": timed out");
  if (s.ec) return failure(kind, w + ": " + s.ec.message());
  return std::nullopt;
}

}  // namespace

const char* to_string(HttpError error) {
  switch (error) {
    case HttpError::kNone: return "none";
    case HttpError::kTimeout: return "timeout";
    case HttpError::kCancelled: return "cancelled";
    case HttpError::kConnect: return "connect";
    case HttpError::kTls: return "tls";
    case HttpError::kDropped: return "dropped";
    case HttpError::kProtocol: return "protocol";
  }
  return "unknown";
}

struct HttpClient::Impl {
  Impl(Url o, HttpClientOptions opts) : origin(std::move(o)), options(std::move(opts)) {
    if (!origin.tls) return;
    try {
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ctx.set_default_verify_paths();
      if (!options.extra_ca_pem.empty()) ctx.add_certificate_authority(net::buffer(options.extra_ca_pem));
      ctx.set_verify_mode(ssl::verify_peer);
      tls.emplace(std::move(ctx));
    } catch (const boost::system::system_error& e) {
      tls_setup_error = std::string("tls setup: ") + e.what();
    }
  }

  tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }

  template <class F>
  void with_stream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  // False when the peer has closed a kept-alive connection while it sat
  // idle (runbot's server does after 10 s), or sent anything unasked (a
  // TLS close_notify): a request sent on it would only fail. Checked
  // before reuse so that the common case costs no failed attempt.
  bool idle_connection_usable() {
    if (buffer.size() != 0) return false;
    char byte;
    ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void close() {
    beast::error_code ignored;
    if (plain || secure) socket().close(ignored);
    secure.reset();
    plain.reset();
    connected = false;
    buffer.consume(buffer.size());
  }

  // Runs one asynchronous operation to its end on this thread. `start`
  // receives the completion to call with the operation's error code. At the
  // deadline, or when `stop` is requested, the socket is closed (and name
  // resolution cancelled), which ends any pending operation at once.
  template <class Start>
  Step run(Start start, Clock::time_point deadline, const std::stop_token& stop) {
    Step step;
    bool finished = false;
    auto cancel = [this] {
      beast::error_code ignored;
      resolver.cancel();
      if (plain || secure) socket().close(ignored);
    };
    net::steady_timer timer(ioc, deadline);
    timer.async_wait([&](beast::error_code ec) {
      if (ec || finished) return;
      step.timed_out = true;
      cancel();
    });
    start([&](beast::error_code ec) {
      finished = true;
      step.ec = ec;
      timer.cancel();
    });
    {
      // Runs on the thread requesting the stop: hand the cancel to this
      // thread's io_context, the only place the socket may be touched.
      std::stop_callback on_stop(stop, [&] {
        net::post(ioc, [&] {
          if (finished) return;
          step.cancelled = true;
          cancel();
        });
      });
      ioc.restart();
      ioc.run();
    }
    // A cancel posted just as run() returned runs now, while what it refers
    // to still exists; it finds the step finished and does nothing.
    ioc.restart();
    ioc.run();
    return step;
  }

  HttpResult connect(Clock::time_point deadline, const std::stop_token& stop) {
    close();
    tcp::resolver::results_type endpoints;
    Step s = run(
        [&](auto done) {
          resolver.async_resolve(origin.host, origin.port,
                                 [&endpoints, done](beast::error_code ec, tcp::resolver::results_type found) {
                                   endpoints = std::move(found);
                                   done(ec);
                                 });
        },
        deadline, stop);
    if (auto r = failed(s, HttpError::kConnect, "resolve")) return *r;

    if (tls) {
      secure.emplace(ioc, *tls);
    } else {
      plain.emplace(ioc);
    }
    s = run(
        [&](auto done) {
          net::async_connect(socket(), endpoints, [done](beast::error_code ec, const tcp::endpoint&) { done(ec); });
        },
        deadline, stop);
    if (auto r = failed(s, HttpError::kConnect, "connect")) return *r;

    if (secure) {
      SSL* ssl_handle = secure->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      bool checks_set;
      if (origin.host_is_ip()) {
        checks_set = X509_VERIFY_PARAM_set1_ip_asc(param, origin.host.c_str()) == 1;
      } else {
        // SNI: the server picks the certificate by name (Telegram's front
        // ends serve several).
        checks_set = SSL_set_tlsext_host_name(ssl_handle, origin.host.c_str()) == 1;
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        checks_set = checks_set && X509_VERIFY_PARAM_set1_host(param, origin.host.c_str(), origin.host.size()) == 1;
      }
      if (!checks_set) return failure(HttpError::kTls, "tls: cannot set the host name to verify");
      s = run(
          [&](auto done) {
            secure->async_handshake(ssl::stream_base::client, [done](beast::error_code ec) { done(ec); });
          },
          deadline, stop);
      if (auto r = failed(s, HttpError::kTls, "tls handshake")) {
        long verify = SSL_get_verify_result(ssl_handle);
        if (r->error == HttpError::kTls && verify != X509_V_OK) {
          r->detail += " (";
          r->detail += X509_verify_cert_error_string(verify);
          r->detail += ')';
        }
        return *r;
      }
    }
    connected = true;
    return {};
  }

  Url origin;
  HttpClientOptions options;
  net::io_context ioc{1};
  std::optional<ssl::context> tls;  // set for https unless set-up failed
  std::string tls_setup_error;
  tcp::resolver resolver{ioc};
  std::optional<tcp::socket> plain;                 // the connection, http
  std::optional<ssl::stream<tcp::socket>> secure;  // the connection, https
  beast::flat_buffer buffer;
  bool connected = false;
  Clock::time_point last_used;
};

HttpClient::HttpClient(Url origin, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(origin), std::move(options))) {}

HttpClient::~HttpClient() = default;

const Url& HttpClient::origin() const { return impl_->origin; }

HttpResult HttpClient::post_json(std::string_view target, std::string_view body, std::chrono::milliseconds timeout,
                                 std::stop_token stop) {
  Impl& m = *impl_;
  if (stop.stop_requested()) return failure(HttpError::kCancelled, "stopped before sending");
  if (m.origin.tls && !m.tls) return failure(HttpError::kTls, m.tls_setup_error);
  const auto deadline = Clock::now() + timeout;
  if (m.connected && (Clock::now() - m.last_used > m.options.idle_reuse_limit || !m.idle_connection_usable()))
    m.close();
  if (!m.connected) {
    HttpResult r = m.connect(deadline, stop);
    if (!r.ok()) {
      m.close();
      return r;
    }
  }

  http::request<http::string_body> req{http::verb::post, m.origin.path + std::string(target), 11};
  req.set(http::field::host, m.origin.host_header());
  req.set(http::field::user_agent, "runbot-telegram/1");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.keep_alive(true);
  req.body() = std::string(body);
  req.prepare_payload();
  Step s = m.run(
      [&](auto done) {
        m.with_stream([&](auto& stream) {
          http::async_write(stream, req, [done](beast::error_code ec, size_t) { done(ec); });
        });
      },
      deadline, stop);
  if (auto r = failed(s, HttpError::kDropped, "send")) {
    m.close();
    return *r;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(m.options.body_limit);
  parser.header_limit(64 * 1024);
  auto receive = [&](bool header_only) {
    return m.run(
        [&](auto done) {
          m.with_stream([&](auto& stream) {
            auto on_read = [done](beast::error_code ec, size_t) { done(ec); };
            if (header_only) {
              http::async_read_header(stream, m.buffer, parser, on_read);
            } else {
              http::async_read(stream, m.buffer, parser, on_read);
            }
          });
        },
        deadline, stop);
  };
  // Beast 1.74 enforces body_limit on chunked and read-to-close bodies but
  // not against a response's Content-Length, so that is checked here,
  // between the header and the body.
  s = receive(true);
  if (!s.ec && parser.content_length() && *parser.content_length() > m.options.body_limit)
    s.ec = http::error::body_limit;
  if (!s.ec && !s.cancelled && !s.timed_out && !parser.is_done()) s = receive(false);
  if (s.ec && !s.cancelled && !s.timed_out && s.ec != http::error::end_of_stream &&
      s.ec != http::error::partial_message && s.ec.category() == http::make_error_code(http::error::bad_target).category()) {
    m.close();
    return failure(HttpError::kProtocol, "receive: " + s.ec.message());
  }
  if (auto r = failed(s, HttpError::kDropped, "receive")) {
    m.close();
    return *r;
  }

  http::response<http::string_body> res = parser.release();
  HttpResult out;
  out.response.status = static_cast<int>(res.result_int());
  out.response.retry_after = std::string(res[http::field::retry_after]);
  out.response.body = std::move(res.body());
  if (res.keep_alive()) {
    m.last_used = Clock::now();
  } else {
    m.close();
  }
  return out;
}

}  // namespace runbot::telegram
