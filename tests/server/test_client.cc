#include "tests/server/test_client.h"

#include <doctest/doctest.h>

namespace runbot::test {

using json = nlohmann::json;

namespace {

// Runs `ioc` until `done` or the deadline; on the deadline cancels what is
// pending (through `cancel`) and reports a timeout.
template <class Cancel>
beast::error_code run_until(net::io_context& ioc, bool& done, beast::error_code& result,
                            std::chrono::milliseconds timeout, Cancel cancel) {
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    cancel();
    ioc.restart();
    ioc.run();
    return beast::error::timeout;
  }
  return result;
}

}  // namespace

WsClient::WsClient() : ws_(ioc_) {}

template <class Start>
beast::error_code WsClient::run(Start start, std::chrono::milliseconds timeout) {
  bool done = false;
  beast::error_code result;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  return run_until(ioc_, done, result, timeout, [&] { beast::get_lowest_layer(ws_).socket().cancel(); });
}

int WsClient::connect(unsigned short port, const Headers& headers, const std::string& target) {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  if (receive_buffer_) socket.set_option(net::socket_base::receive_buffer_size(receive_buffer_), ec);
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  ec = run([&](auto handler) { beast::get_lowest_layer(ws_).async_connect(endpoint, handler); }, 5s);
  if (ec) return 0;
  ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  websocket::permessage_deflate deflate;
  deflate.client_enable = offer_deflate_;
  ws_.set_option(deflate);
  ws_.read_message_max(1 << 20);
  const std::string host = "127.0.0.1:" + std::to_string(port);
  ec = run([&](auto handler) { ws_.async_handshake(response_, host, target, handler); }, 5s);
  return static_cast<int>(response_.result_int());
}

beast::error_code WsClient::send(const std::string& frame, bool binary) {
  ws_.binary(binary);
  return run([&](auto handler) { ws_.async_write(net::buffer(frame), handler); }, 5s);
}

beast::error_code WsClient::read(std::string* frame, std::chrono::milliseconds timeout) {
  buffer_.clear();
  beast::error_code ec = run([&](auto handler) { ws_.async_read(buffer_, handler); }, timeout);
  if (!ec) *frame = beast::buffers_to_string(buffer_.data());
  return ec;
}

json WsClient::read_json(std::chrono::milliseconds timeout) {
  std::string frame;
  beast::error_code ec = read(&frame, timeout);
  REQUIRE_MESSAGE(!ec, "no frame: " << ec.message() << " (close code " << close_code() << ")");
  json j = json::parse(frame, nullptr, false);
  REQUIRE_MESSAGE(j.is_object(), "not a JSON object: " << frame);
  return j;
}

std::vector<std::string> WsClient::read_until_closed(std::chrono::milliseconds timeout) {
  std::vector<std::string> frames;
  for (;;) {
    std::string frame;
    beast::error_code ec = read(&frame, timeout);
    if (ec) {
      REQUIRE_MESSAGE(ec != beast::error::timeout, "the connection stayed open");
      return frames;
    }
    frames.push_back(std::move(frame));
  }
}

void WsClient::close() {
  run([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); }, 5s);
}

HttpResult http_request(unsigned short port, http::verb method, const std::string& target, const std::string& body,
                        const Headers& headers, std::chrono::milliseconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  HttpResult out;
  stream.expires_after(timeout);
  stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
    if (ec) return;
    http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
      if (wec) return;
      http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
        if (rec) return;
        out.status = static_cast<int>(res.result_int());
        out.body = res.body();
        out.headers = res.base();
      });
    });
  });
  ioc.run();
  return out;
}

RawClient::RawClient(unsigned short port) : socket_(ioc_) {
  beast::error_code ec;
  socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
}

void RawClient::send(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

std::string RawClient::read_until_eof(std::chrono::milliseconds timeout) {
  std::string data;
  char buf[4096];
  bool done = false;
  std::function<void()> next = [&] {
    socket_.async_read_some(net::buffer(buf), [&](beast::error_code ec, std::size_t n) {
      data.append(buf, n);
      if (ec) {
        done = true;
        return;
      }
      next();
    });
  };
  next();
  ioc_.run_for(timeout);
  if (!done) {
    socket_.cancel();
    ioc_.restart();
    ioc_.run();
    FAIL("the server did not close the connection in time");
  }
  return data;
}

json read_reply(WsClient& c) {
  for (;;) {
    json j = c.read_json();
    if (j.value("type", "") != "session") return j;
  }
}

}  // namespace runbot::test
