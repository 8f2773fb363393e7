#include "bot/server/listener.h"

#include <cerrno>

#include "bot/server/http_session.h"
#include "bot/server/log.h"

namespace runbot {

Listener::Listener(net::io_context& ioc, std::shared_ptr<SharedState> state)
    : ioc_(ioc), strand_(net::make_strand(ioc)), acceptor_(strand_), backoff_(strand_), state_(std::move(state)) {}

beast::error_code Listener::open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  return ec;
}

unsigned short Listener::port() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void Listener::run() { net::dispatch(strand_, beast::bind_front_handler(&Listener::do_accept, shared_from_this())); }

void Listener::stop() {
  net::post(strand_, [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
  });
}

bool Listener::admit(const tcp::socket& socket) {
  if (state_->options().connection_rate <= 0) return true;
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return false;  // already reset by the client
  return state_->address_limiter().allow(peer.address().to_string(), std::chrono::steady_clock::now());
}

void Listener::do_accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand, so its handlers never run at once.
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted) return;
  if (ec) {
    fail(ec, "accept");
    // Out of descriptors: accepting again at once would fail at once, in a
    // busy loop. Wait for connections to close.
    if (ec == net::error::no_descriptors || ec.value() == ENFILE || ec == net::error::no_buffer_space ||
        ec == net::error::no_memory) {
      backoff_.expires_after(std::chrono::milliseconds(100));
      backoff_.async_wait([self = shared_from_this()](beast::error_code) { self->do_accept(); });
      return;
    }
  } else if (!admit(socket)) {
    // Closed unread: the cheapest answer to churn from one address.
    state_->metrics().count_drop(DropReason::kAddressRate);
    socket.close(ec);
  } else {
    std::make_shared<HttpSession>(std::move(socket), state_)->run();
  }
  do_accept();
}

}  // namespace runbot
