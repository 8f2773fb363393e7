// HttpSession: one TCP connection before (or instead of) a WebSocket. Reads
// requests one at a time with explicit header and body limits and a
// deadline, and serves GET /, /healthz, /metrics, POST /api/message, and
// the upgrade to ws /chat (Origin and capacity checked first: 403, 503).
//
// Thread safety: everything runs on the connection's strand. Owned by its
// pending operations (shared_from_this).
#ifndef RUNBOT_BOT_SERVER_HTTP_SESSION_H_
#define RUNBOT_BOT_SERVER_HTTP_SESSION_H_

#include <memory>
#include <optional>

#include "bot/server/net.h"
#include "bot/server/protocol.h"
#include "bot/server/shared_state.h"

namespace runbot {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::shared_ptr<SharedState> state);
  ~HttpSession();

  void run();

 private:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  void do_read();
  void on_header(beast::error_code ec, std::size_t bytes);
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle_request();
  void upgrade(Request req);
  void api_message(const Request& req);
  void send(Response res);
  void send_status(http::status status, std::string_view text);
  void send_error(const WireError& error);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void do_close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<SharedState> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;  // kept alive while it is written
  unsigned version_ = 11;             // of the request being answered
  bool keep_alive_ = false;           // of the request being answered
  bool in_request_ = false;           // a POST turn counts in SharedState's requests
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_HTTP_SESSION_H_
