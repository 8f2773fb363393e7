#include "bot/server/websocket_session.h"

#include "bot/server/log.h"

namespace runbot {

using Steady = std::chrono::steady_clock;

WebsocketSession::WebsocketSession(tcp::socket&& socket, std::shared_ptr<SharedState> state)
    : ws_(std::move(socket)),
      state_(std::move(state)),
      options_(state_->options()),
      bucket_(options_.rate_limit, options_.rate_burst, Steady::now()) {
  state_->connection_opened();
}

WebsocketSession::~WebsocketSession() {
  state_->remove(this);
  state_->connection_closed();
}

void WebsocketSession::run(http::request<http::string_body> req) {
  state_->add(this, weak_from_this());
  // Beast's own timeouts replace the TCP stream's: handshake and close get
  // handshake_timeout; an open socket gets a ping after idle_timeout / 2 of
  // silence and is dropped after idle_timeout.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = options_.handshake_timeout;
  timeouts.idle_timeout = options_.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  // Boost 1.74 bundles a zlib without the CVE-2016-9840 fix: no compression.
  websocket::permessage_deflate deflate;
  deflate.server_enable = false;
  deflate.client_enable = false;
  ws_.set_option(deflate);
  ws_.read_message_max(options_.read_message_max);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "runbot"); }));
  ws_.async_accept(req, beast::bind_front_handler(&WebsocketSession::on_accept, shared_from_this()));
}

void WebsocketSession::on_accept(beast::error_code ec) {
  // A bad upgrade (no key, another version) has had its HTTP 400 or 426;
  // like unparsable HTTP it is not worth a log line each: an abuser could
  // write one per connection.
  if (ec == websocket::condition::handshake_failed) return;
  if (ec) return fail(ec, "accept");
  accepted_ = true;
  if (stopping_ || state_->stopping()) {
    stopping_ = true;
    return close(websocket::close_code::going_away);
  }
  do_read();
}

void WebsocketSession::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WebsocketSession::on_read, shared_from_this()));
}

void WebsocketSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    // Beast has already sent the close frame for the first two.
    if (ec == websocket::error::message_too_big)
      state_->metrics().count_drop(DropReason::kTooBig);
    else if (ec == websocket::error::bad_frame_payload)
      state_->metrics().count_drop(DropReason::kBadUtf8);
    else if (ec == beast::error::timeout)
      state_->metrics().count_drop(DropReason::kTimeout);
    else if (ec != websocket::error::closed)
      return fail(ec, "read");
    return;
  }
  std::string frame = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  // The close frame is already queued; what arrives after it goes unanswered.
  if (closing_) return;
  if (options_.echo) {
    send(std::move(frame), ws_.got_binary());
    return next();
  }
  // Exceptions stop here: a frame that breaks something gets error
  // internal and the connection goes on.
  try {
    handle_frame(std::move(frame));
  } catch (const std::exception& e) {
    log_event(LogLevel::kError, "frame_failed", {{"error", e.what()}});
    busy_ = false;
    send_error(ErrorCode::kInternal);
    next();
  }
}

void WebsocketSession::handle_frame(std::string frame) {
  const auto now = Steady::now();
  // Two buckets: this connection's, so that switching sessions (hello after
  // hello) does not refill it, and the session's, shared by all of its
  // connections. rate_limit 0 turns both off.
  bool allowed = options_.rate_limit <= 0 ||
                 (bucket_.take(now) && (!has_session_ || state_->rate_limiter().allow(conversation_.token, now)));
  if (!allowed) {
    if (++refused_in_a_row_ > options_.flood_close_after) {
      state_->metrics().count_drop(DropReason::kFlood);
      log_event(LogLevel::kWarn, "flood_closed", {{"refused", refused_in_a_row_}});
      return close(websocket::close_code::policy_error);
    }
    send_error(ErrorCode::kRateLimited);
    return next();
  }
  refused_in_a_row_ = 0;
  if (!ws_.got_text()) {
    send_error(WireError{ErrorCode::kBadRequest, "binary frames are not accepted; send JSON text"});
    return next();
  }
  ClientFrame parsed = parse_client_frame(frame, ProtocolLimits{options_.max_text_chars});
  if (auto* e = std::get_if<WireError>(&parsed)) {
    send_error(*e);
    return next();
  }
  if (auto* hello = std::get_if<HelloRequest>(&parsed)) return on_hello(*hello);
  if (auto* message = std::get_if<MessageRequest>(&parsed)) return on_message(std::move(*message));
  on_reset();
}

void WebsocketSession::on_hello(const HelloRequest& hello) {
  Conversation c;
  bool resumed = false;
  StoreStatus s = state_->conversations()->open(hello.session, &c, &resumed);
  if (!s.ok()) {
    log_event(LogLevel::kError, "store_read_failed", {{"error", s.message()}});
    send_error(ErrorCode::kInternal);
    return next();
  }
  conversation_ = std::move(c);
  has_session_ = true;
  announce_session_ = false;
  send(session_frame(conversation_.token, resumed));
  next();
}

bool WebsocketSession::ensure_session() {
  if (has_session_) return true;
  conversation_ = state_->conversations()->start();
  has_session_ = true;
  announce_session_ = true;
  return true;
}

void WebsocketSession::on_message(MessageRequest message) {
  state_->metrics().count_message();
  const auto received = Steady::now();
  ensure_session();
  if (auto stored = state_->conversations()->stored_reply(conversation_, message.id)) {
    state_->metrics().count_retry();
    send(std::move(*stored));
    return next();
  }
  if (state_->store_overloaded()) {
    send_error(ErrorCode::kOverloaded);
    return next();
  }
  busy_ = true;
  state_->conversations()->run_turn(
      conversation_, message.text, message.id, [self = shared_from_this(), received](TurnOutcome outcome) {
        net::post(self->ws_.get_executor(), [self, received, outcome = std::move(outcome)]() mutable {
          self->on_turn(std::move(outcome), received);
        });
      });
}

void WebsocketSession::on_turn(TurnOutcome outcome, Steady::time_point received) {
  busy_ = false;
  if (!outcome.status.ok()) {
    // Not committed, so not happened: the session stays as it was and the
    // client may send the message again.
    log_event(LogLevel::kError, "store_write_failed", {{"error", outcome.status.message()}});
    send_error(ErrorCode::kInternal);
    return next();
  }
  conversation_ = std::move(outcome.next);
  if (announce_session_) {
    send(session_frame(conversation_.token, false));
    announce_session_ = false;
  }
  send(outcome.reply.dump());
  state_->metrics().reply_latency().observe(std::chrono::duration<double>(Steady::now() - received).count());
  next();
}

void WebsocketSession::on_reset() {
  if (!has_session_) {
    ensure_session();
    announce_session_ = false;
    send(session_frame(conversation_.token, false, /*reset=*/true));
    return next();
  }
  if (state_->store_overloaded()) {
    send_error(ErrorCode::kOverloaded);
    return next();
  }
  busy_ = true;
  state_->conversations()->reset(conversation_, [self = shared_from_this()](StoreStatus s, Conversation next) {
    net::post(self->ws_.get_executor(), [self, s = std::move(s), next = std::move(next)]() mutable {
      self->on_reset_done(std::move(s), std::move(next));
    });
  });
}

void WebsocketSession::on_reset_done(StoreStatus status, Conversation next_conversation) {
  busy_ = false;
  if (!status.ok()) {
    log_event(LogLevel::kError, "store_write_failed", {{"error", status.message()}});
    send_error(ErrorCode::kInternal);
    return next();
  }
  conversation_ = std::move(next_conversation);
  announce_session_ = false;
  send(session_frame(conversation_.token, false, /*reset=*/true));
  next();
}

void WebsocketSession::next() {
  if (closing_) return;
  if (stopping_) return close(websocket::close_code::going_away);
  do_read();
}

void WebsocketSession::send_error(const WireError& error) {
  state_->metrics().count_error(error.code);
  send(error_frame(error));
}

void WebsocketSession::send(std::string data, bool binary) {
  if (closing_) return;
  if (queue_.size() >= options_.write_queue_max) return drop();
  queue_.push_back(Outgoing{std::move(data), binary});
  if (queue_.size() == 1) do_write();
}

void WebsocketSession::close(websocket::close_code code) {
  if (closing_) return;
  closing_ = true;
  queue_.push_back(Outgoing{"", false, true, code});
  if (queue_.size() == 1) do_write();
}

// A client that lets write_queue_max frames pile up is not reading: cut the
// TCP connection (a close frame would only join the queue).
void WebsocketSession::drop() {
  state_->metrics().count_drop(DropReason::kSlowReader);
  log_event(LogLevel::kWarn, "slow_reader_dropped", {{"queued", queue_.size()}});
  closing_ = true;
  beast::get_lowest_layer(ws_).close();
}

void WebsocketSession::do_write() {
  Outgoing& out = queue_.front();
  if (out.close) {
    ws_.async_close(out.code, beast::bind_front_handler(&WebsocketSession::on_close, shared_from_this()));
    return;
  }
  ws_.binary(out.binary);
  ws_.async_write(net::buffer(out.data),
                  beast::bind_front_handler(&WebsocketSession::on_write, shared_from_this()));
}

void WebsocketSession::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    closing_ = true;
    queue_.clear();
    return fail(ec, "write");
  }
  queue_.pop_front();
  if (!queue_.empty()) do_write();
}

void WebsocketSession::on_close(beast::error_code ec) {
  queue_.clear();
  if (ec) return fail(ec, "close");
}

void WebsocketSession::shutdown() {
  net::post(ws_.get_executor(), beast::bind_front_handler(&WebsocketSession::on_shutdown, shared_from_this()));
}

void WebsocketSession::on_shutdown() {
  stopping_ = true;
  // Not yet accepted: on_accept closes. Busy: on_turn answers, then next()
  // closes. Otherwise a read is pending: close now; the read then ends.
  if (accepted_ && !busy_) close(websocket::close_code::going_away);
}

}  // namespace runbot
