// Listener: accepts TCP connections and hands each to an HttpSession on a
// strand of its own. Stops on stop(); backs off briefly when out of file
// descriptors instead of spinning.
//
// Thread safety: stop() may be called from any thread; the rest runs on the
// acceptor's strand.
#ifndef RUNBOT_BOT_SERVER_LISTENER_H_
#define RUNBOT_BOT_SERVER_LISTENER_H_

#include <memory>

#include "bot/server/net.h"
#include "bot/server/shared_state.h"

namespace runbot {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, std::shared_ptr<SharedState> state);

  // Binds and listens; on failure returns the error and the listener is unusable.
  beast::error_code open(const tcp::endpoint& endpoint);
  // The bound port (the real one when 0 was asked).
  unsigned short port() const;

  void run();
  void stop();

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  // False when the client's address is over --connection-rate.
  bool admit(const tcp::socket& socket);

  net::io_context& ioc_;
  net::strand<net::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  std::shared_ptr<SharedState> state_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_LISTENER_H_
