// WebsocketSession: one client on ws://HOST:PORT/chat. Reads one frame at a
// time and answers it before reading the next, so replies leave in the
// order messages came, exactly one per message, and a session's turns never
// overlap. Writes go through a bounded queue. In echo mode frames are sent
// back as they came (the benchmark baseline), with the same limits.
//
// Thread safety: everything runs on the connection's strand; shutdown() may
// be called from any thread. Owned by its pending operations
// (shared_from_this); SharedState only holds a weak_ptr.
#ifndef RUNBOT_BOT_SERVER_WEBSOCKET_SESSION_H_
#define RUNBOT_BOT_SERVER_WEBSOCKET_SESSION_H_

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "bot/server/conversations.h"
#include "bot/server/net.h"
#include "bot/server/protocol.h"
#include "bot/server/rate_limiter.h"
#include "bot/server/shared_state.h"

namespace runbot {

class WebsocketSession : public std::enable_shared_from_this<WebsocketSession> {
 public:
  // REQUIRES: state->reserve() succeeded for this connection; the session
  // gives the slot back when it ends.
  WebsocketSession(tcp::socket&& socket, std::shared_ptr<SharedState> state);
  ~WebsocketSession();

  // Completes the handshake on the already-read upgrade request.
  void run(http::request<http::string_body> req);

  // Closes with 1001 (going away) once the turn in flight, if any, is
  // answered. Any thread.
  void shutdown();

 private:
  struct Outgoing {
    std::string data;
    bool binary = false;
    bool close = false;
    websocket::close_code code = websocket::close_code::normal;
  };

  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle_frame(std::string frame);
  void on_hello(const HelloRequest& hello);
  void on_message(MessageRequest message);
  void on_reset();
  void on_turn(TurnOutcome outcome, std::chrono::steady_clock::time_point received);
  void on_reset_done(StoreStatus status, Conversation next);
  bool ensure_session();
  void send_error(const WireError& error);
  void send_error(ErrorCode code) { send_error(WireError{code, ""}); }
  void send(std::string data, bool binary = false);
  void close(websocket::close_code code);
  void drop();
  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void on_close(beast::error_code ec);
  void on_shutdown();
  // Ends the current frame's handling: next read, or close when stopping.
  void next();

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<SharedState> state_;
  const ServerOptions& options_;

  std::deque<Outgoing> queue_;
  bool accepted_ = false;
  bool closing_ = false;      // close queued or socket dropped: send nothing more
  bool stopping_ = false;     // server shutdown asked
  bool busy_ = false;         // a turn or reset is waiting for the store
  TokenBucket bucket_;        // this connection's share of the rate limit
  int refused_in_a_row_ = 0;  // rate-limited frames since the last accepted one

  bool has_session_ = false;
  bool announce_session_ = false;  // session frame owed before the next reply
  Conversation conversation_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_WEBSOCKET_SESSION_H_
