// Beast and Asio for the server files: namespace aliases and the one
// error-reporting helper, `return fail(ec, "read");`. Asio and Beast are
// compiled once, in beast_impl.cc (separate compilation).
#ifndef RUNBOT_BOT_SERVER_NET_H_
#define RUNBOT_BOT_SERVER_NET_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>;
// GCC 12's headers no longer bring it in on their own.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace runbot {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Logs a failed network operation. Quiet for the ends of a connection's
// ordinary life (cancelled, closed, end of stream, reset by the peer),
// which are not errors of ours.
void fail(beast::error_code ec, const char* what);

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_NET_H_
