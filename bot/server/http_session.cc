#include "bot/server/http_session.h"

#include "bot/server/http_routes.h"
#include "bot/server/log.h"
#include "bot/server/websocket_session.h"

namespace runbot {

using json = nlohmann::json;

namespace {

std::string_view path_of(beast::string_view target) {
  std::string_view t(target.data(), target.size());
  return t.substr(0, t.find('?'));
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, std::shared_ptr<SharedState> state)
    : stream_(std::move(socket)), state_(std::move(state)) {
  state_->connection_opened();
}

HttpSession::~HttpSession() {
  if (in_request_) state_->end_request();
  state_->connection_closed();
}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::do_read() {
  const ServerOptions& o = state_->options();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(o.http_header_max));
  // The largest body any route takes; each route's own limit is applied
  // once the header says which route it is.
  parser_->body_limit(std::max(o.http_body_max, o.upgrade_body_max));
  // A connection that sends nothing (or too slowly) is dropped at the deadline.
  stream_.expires_after(o.handshake_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t) {
  keep_alive_ = false;
  version_ = 11;
  if (ec == http::error::end_of_stream) return do_close();
  if (ec == beast::error::timeout) {
    state_->metrics().count_drop(DropReason::kTimeout);
    return;
  }
  if (ec == http::error::header_limit) return send_status(http::status::request_header_fields_too_large, "header too large\n");
  if (ec == http::error::body_limit) return send_status(http::status::payload_too_large, "body too large\n");
  if (ec) {
    // A request that does not parse as HTTP/1 is not worth a log line
    // each: scanners send plenty.
    if (ec.category() == http::make_error_code(http::error::bad_method).category())
      return send_status(http::status::bad_request, "bad request\n");
    return fail(ec, "read header");
  }
  const ServerOptions& o = state_->options();
  Request& req = parser_->get();
  version_ = req.version();
  const size_t limit = req.method() == http::verb::post && !websocket::is_upgrade(req) ? o.http_body_max
                                                                                        : o.upgrade_body_max;
  if (parser_->is_done()) return handle_request();
  if (auto length = parser_->content_length(); (length && *length > limit) || (!length && limit == 0))
    return send_status(http::status::payload_too_large, "body too large\n");
  parser_->body_limit(limit);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == beast::error::timeout) {
    state_->metrics().count_drop(DropReason::kTimeout);
    return;
  }
  if (ec == http::error::body_limit) return send_status(http::status::payload_too_large, "body too large\n");
  if (ec) return fail(ec, "read body");
  handle_request();
}

void HttpSession::handle_request() {
  Request& req = parser_->get();
  keep_alive_ = req.keep_alive() && !state_->stopping();
  if (websocket::is_upgrade(req)) return upgrade(parser_->release());
  const std::string_view path = path_of(req.target());
  const bool get = req.method() == http::verb::get;
  const bool echo = state_->options().echo;
  try {
    if (get || req.method() == http::verb::head) {
      auto files = state_->static_files();
      if (const StaticFile* file = files->find(path)) {
        Response res{http::status::ok, version_};
        res.set(http::field::content_type, file->content_type);
        res.set("X-Content-Type-Options", "nosniff");
        res.set(http::field::cache_control, "no-cache");  // a new widget.js reaches club sites at once
        if (get) res.body() = file->body;
        else res.content_length(file->body.size());
        return send(std::move(res));
      }
    }
    if (path == "/" && get) {
      Response res{http::status::ok, version_};
      res.set(http::field::content_type, "text/html; charset=utf-8");
      res.body() = std::string(index_html());
      return send(std::move(res));
    }
    if (path == "/healthz" && get) {
      StoreHealth h;
      if (!echo) h = state_->store()->health();
      json body = health_json(echo ? nullptr : &h, state_->open_connections());
      Response res{body["status"] == "ok" ? http::status::ok : http::status::service_unavailable, version_};
      res.set(http::field::content_type, "application/json");
      res.set(http::field::cache_control, "no-store");
      res.body() = body.dump() + "\n";
      return send(std::move(res));
    }
    if (path == "/metrics" && get) {
      Response res{http::status::ok, version_};
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = state_->metrics().render(state_->open_connections(), echo || state_->store()->health().ok);
      return send(std::move(res));
    }
    if (path == "/api/message" && req.method() == http::verb::post && !echo) return api_message(req);
    if (path == "/chat") return send_status(http::status::upgrade_required, "WebSocket only\n");
    if (path == "/" || path == "/healthz" || path == "/metrics" || path == "/api/message")
      return send_status(http::status::method_not_allowed, "method not allowed\n");
    return send_status(http::status::not_found, "not found\n");
  } catch (const std::exception& e) {
    log_event(LogLevel::kError, "request_failed", {{"error", e.what()}});
    keep_alive_ = false;
    return send_error(WireError{ErrorCode::kInternal, ""});
  }
}

void HttpSession::upgrade(Request req) {
  const ServerOptions& o = state_->options();
  if (path_of(req.target()) != "/chat") return send_status(http::status::not_found, "not found\n");
  std::string_view origin(req[http::field::origin].data(), req[http::field::origin].size());
  std::string_view host(req[http::field::host].data(), req[http::field::host].size());
  if (!origin_allowed(origin, host, o.allow_origins)) {
    log_event(LogLevel::kWarn, "origin_refused", {{"origin", std::string(origin.substr(0, 200))}});
    return send_status(http::status::forbidden, "origin not allowed\n");
  }
  if (!state_->reserve()) {
    keep_alive_ = false;
    return send_status(http::status::service_unavailable, "too many connections\n");
  }
  std::make_shared<WebsocketSession>(stream_.release_socket(), state_)->run(std::move(req));
}

void HttpSession::api_message(const Request& req) {
  const ServerOptions& o = state_->options();
  auto parsed = parse_api_message(req.body(), ProtocolLimits{o.max_text_chars});
  if (auto* e = std::get_if<WireError>(&parsed)) return send_error(*e);
  ApiMessageRequest& r = std::get<ApiMessageRequest>(parsed);
  state_->metrics().count_message();
  const auto received = std::chrono::steady_clock::now();

  Conversation c;
  bool resumed = false;
  if (StoreStatus s = state_->conversations()->open(r.session, &c, &resumed); !s.ok()) {
    log_event(LogLevel::kError, "store_read_failed", {{"error", s.message()}});
    return send_error(WireError{ErrorCode::kInternal, ""});
  }
  // Limited per session, as on the WebSocket. Not per address: behind a
  // proxy every client has the proxy's address (nginx's limit_req is the
  // place for per-address limits).
  if (!state_->rate_limiter().allow(c.token, received)) return send_error(WireError{ErrorCode::kRateLimited, ""});

  auto respond = [this](json reply, const std::string& token) {
    reply["session"] = token;
    Response res{http::status::ok, version_};
    res.set(http::field::content_type, "application/json");
    res.body() = reply.dump() + "\n";
    send(std::move(res));
  };
  if (auto stored = state_->conversations()->stored_reply(c, r.message.id)) {
    state_->metrics().count_retry();
    return respond(json::parse(*stored), c.token);
  }
  if (state_->store_overloaded()) return send_error(WireError{ErrorCode::kOverloaded, ""});
  in_request_ = true;
  state_->begin_request();
  state_->conversations()->run_turn(
      c, r.message.text, r.message.id,
      [self = shared_from_this(), respond, received](TurnOutcome outcome) {
        net::post(self->stream_.get_executor(), [self, respond, received, outcome = std::move(outcome)]() mutable {
          if (!outcome.status.ok()) {
            log_event(LogLevel::kError, "store_write_failed", {{"error", outcome.status.message()}});
            return self->send_error(WireError{ErrorCode::kInternal, ""});
          }
          respond(std::move(outcome.reply), outcome.next.token);
          self->state_->metrics().reply_latency().observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
        });
      });
}

void HttpSession::send_error(const WireError& error) {
  state_->metrics().count_error(error.code);
  Response res{static_cast<http::status>(error_info(error.code).http_status), version_};
  res.set(http::field::content_type, "application/json");
  res.body() = error_object(error).dump() + "\n";
  send(std::move(res));
}

void HttpSession::send_status(http::status status, std::string_view text) {
  // After a refused request the rest of what the client sent is unknown
  // (an unread body, say), so the connection is not reused.
  keep_alive_ = false;
  Response res{status, version_};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(text);
  send(std::move(res));
}

void HttpSession::send(Response res) {
  res.keep_alive(keep_alive_);
  res.set(http::field::server, "runbot");
  res.prepare_payload();
  response_.emplace(std::move(res));
  stream_.expires_after(state_->options().handshake_timeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), keep_alive_));
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (in_request_) {
    in_request_ = false;
    state_->end_request();
  }
  if (ec) return fail(ec, "write");
  response_.reset();
  if (!keep_alive) return do_close();
  do_read();
}

void HttpSession::do_close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace runbot
