// Clients for the black-box protocol tests, over real loopback sockets:
// a Beast WebSocket client, one-shot HTTP requests and a raw TCP socket.
// Every operation has a deadline (a test fails rather than hangs); none
// sleeps.
//
// Thread safety: each object is used by one test thread.
#ifndef RUNBOT_TESTS_SERVER_TEST_CLIENT_H_
#define RUNBOT_TESTS_SERVER_TEST_CLIENT_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bot/server/net.h"

namespace runbot::test {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

class WsClient {
 public:
  WsClient();

  // Connects to 127.0.0.1:port and asks for the upgrade of `target`.
  // Returns the HTTP status of the answer: 101 when the WebSocket is open.
  int connect(unsigned short port, const Headers& headers = {}, const std::string& target = "/chat");
  // The handshake response (e.g. to check extensions).
  const websocket::response_type& handshake_response() const { return response_; }
  // Set before connect(): a small receive buffer makes a slow reader.
  void set_receive_buffer(int bytes) { receive_buffer_ = bytes; }
  // Set before connect(): offer permessage-deflate.
  void offer_deflate() { offer_deflate_ = true; }

  beast::error_code send(const std::string& frame, bool binary = false);
  beast::error_code send_json(const nlohmann::json& j) { return send(j.dump()); }
  // The next frame; an error when the connection closed (see close_code())
  // or nothing came within the timeout (beast::error::timeout).
  beast::error_code read(std::string* frame, std::chrono::milliseconds timeout = 5s);
  // The next frame as JSON; fails the test if there is none.
  nlohmann::json read_json(std::chrono::milliseconds timeout = 5s);
  // Sends `j`, returns the next frame.
  nlohmann::json request(const nlohmann::json& j) {
    send_json(j);
    return read_json();
  }
  // Reads until the connection ends; returns the frames read before. The
  // close code is then close_code().
  std::vector<std::string> read_until_closed(std::chrono::milliseconds timeout = 5s);
  int close_code() const { return ws_.reason().code; }
  bool got_binary() const { return ws_.got_binary(); }
  void close();

 private:
  template <class Start>
  beast::error_code run(Start start, std::chrono::milliseconds timeout);

  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  int receive_buffer_ = 0;
  bool offer_deflate_ = false;
};

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
  http::fields headers;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

HttpResult http_request(unsigned short port, http::verb method, const std::string& target,
                        const std::string& body = "", const Headers& headers = {},
                        std::chrono::milliseconds timeout = 5s);

// A plain TCP connection, for clients that misbehave below HTTP.
class RawClient {
 public:
  explicit RawClient(unsigned short port);
  void send(const std::string& bytes);
  // Reads until the server closes; the bytes read. Fails the test if the
  // connection is still open after `timeout`.
  std::string read_until_eof(std::chrono::milliseconds timeout);

 private:
  net::io_context ioc_;
  tcp::socket socket_;
};

// The next frame of `c` that is not a "session" frame.
nlohmann::json read_reply(WsClient& c);

}  // namespace runbot::test

#endif  // RUNBOT_TESTS_SERVER_TEST_CLIENT_H_
