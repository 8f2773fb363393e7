#include "tests/bridges/loopback_server.h"

#include <sys/socket.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace runbot::telegram::test {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

}  // namespace

LoopbackServer::LoopbackServer(Handler handler, std::shared_ptr<ssl::context> tls)
    : handler_(std::move(handler)), tls_(std::move(tls)), acceptor_(ioc_) {
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() { stop(); }

std::string LoopbackServer::url() const {
  std::string u = tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:";
  u += std::to_string(port_);
  return u;
}

bool LoopbackServer::wait_closed(size_t n) const {
  std::unique_lock lock(mu_);
  return closed_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return closed_ >= n; });
}

std::vector<std::string> LoopbackServer::sni_names() const {
  std::lock_guard lock(mu_);
  return sni_names_;
}

void LoopbackServer::stop() {
  if (stopping_.exchange(true)) return;
  // shutdown() wakes a thread blocked in accept() or read() on Linux, where
  // close() from another thread would not.
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void LoopbackServer::accept_loop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(ioc_);
    acceptor_.accept(socket, ec);
    if (stopping_) return;
    if (ec) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    open_fds_.insert(socket.native_handle());
    threads_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
  }
}

void LoopbackServer::serve(tcp::socket socket) {
  const int fd = socket.native_handle();
  if (tls_) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    {
      std::lock_guard lock(mu_);
      sni_names_.emplace_back(sni ? sni : "");
    }
    if (ec) {
      ++failed_handshakes_;
    } else {
      exchange(stream);
    }
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);  // before the close: the number may be reused at once
    stream.next_layer().close(ec);
    ++closed_;
    closed_cv_.notify_all();
    return;
  }
  exchange(socket);
  std::lock_guard lock(mu_);
  open_fds_.erase(fd);
  beast::error_code ignored;
  socket.close(ignored);
  ++closed_;
  closed_cv_.notify_all();
}

template <class Stream>
void LoopbackServer::exchange(Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec || stopping_) return;
    ReplyOut out = handler_(RequestIn{std::string(req.method_string()), std::string(req.target()), req.body()});
    if (out.drop || stopping_) return;
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : out.headers) res.set(name, value);
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(stream, res, ec);
    if (ec || !res.keep_alive() || out.close_after) return;
  }
}

}  // namespace runbot::telegram::test
