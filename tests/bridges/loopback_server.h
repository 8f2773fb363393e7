// LoopbackServer: a small HTTP/1.1 server on 127.0.0.1 and a free port, the
// base of the fakes. One thread accepts; each connection gets its own
// thread and keep-alive, so a handler that blocks (a long poll, a held
// reply) holds up only its own connection. The handler decides each
// answer, or to drop the connection without one. With a TLS context it
// serves HTTPS and remembers the SNI name each client sent.
//
// Thread safety: the handler runs on connection threads, concurrently.
// stop() (and the destructor) must not race with the constructor.
#ifndef RUNBOT_TESTS_BRIDGES_LOOPBACK_SERVER_H_
#define RUNBOT_TESTS_BRIDGES_LOOPBACK_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace runbot::telegram::test {

struct RequestIn {
  std::string method;  // "POST"
  std::string target;  // "/bot123:abc/getUpdates"
  std::string body;
};

struct ReplyOut {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop = false;          // close the connection without answering
  bool close_after = false;   // answer as keep-alive, then close (a server's idle timeout)
};

class LoopbackServer {
 public:
  using Handler = std::function<ReplyOut(const RequestIn&)>;

  // Listens at once. `tls`: serve HTTPS with it.
  explicit LoopbackServer(Handler handler, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  unsigned short port() const { return port_; }
  // "http://127.0.0.1:PORT" (https:// with TLS).
  std::string url() const;
  // Closes the listener and every connection and joins the threads. A
  // handler blocked inside a fake must be woken by the fake first.
  void stop();

  size_t connections() const { return connections_; }
  // Waits until `n` connections have been closed by this side (guard: 10 s).
  bool wait_closed(size_t n) const;
  size_t failed_handshakes() const { return failed_handshakes_; }
  // The SNI host names clients sent, in order ("" for none).
  std::vector<std::string> sni_names() const;

 private:
  void accept_loop();
  void serve(boost::asio::ip::tcp::socket socket);
  template <class Stream>
  void exchange(Stream& stream);

  Handler handler_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> failed_handshakes_{0};

  mutable std::mutex mu_;
  std::set<int> open_fds_;  // shut down by stop() to wake blocked reads
  std::vector<std::thread> threads_;
  std::vector<std::string> sni_names_;
  mutable std::condition_variable closed_cv_;
  size_t closed_ = 0;
  std::thread accept_thread_;
};

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_LOOPBACK_SERVER_H_
