// load_gen: a closed-loop WebSocket load generator for runbot serve (and its
// --echo baseline). Each connection sends a message, waits for the answer,
// sends the next; messages are the texts of the dev sets, so the engine sees
// varied input. Prints messages/s, latency percentiles and, given the
// server's pid, the server's CPU time per message (from /proc).
//
//   load_gen --url ws://127.0.0.1:8080/chat --conns 100 --seconds 10
//            [--texts tests/eval/dev_nlu.jsonl] [--server-pid PID]
//   load_gen --url ... --idle 10000 --server-pid PID    (memory per idle session)
//
// Single io_context, single thread: the generator is cheap per message, so
// on a 2-core machine it leaves the other core to the server.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1", port = "8080", path = "/chat";
  int conns = 100;
  double seconds = 10;
  int idle = 0;
  int server_pid = 0;
  std::string texts = "tests/eval/dev_nlu.jsonl";
};

struct Stats {
  size_t messages = 0, errors = 0, connect_failures = 0;
  std::vector<double> latencies_us;
};

// CPU seconds (user + system) the process has used so far.
double cpu_seconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t pos = close + 2;
  while (pos < stat.size()) {
    size_t sp = stat.find(' ', pos);
    fields.push_back(stat.substr(pos, sp - pos));
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const Options& o, const std::vector<std::string>& texts, Stats& stats,
             Clock::time_point deadline, size_t offset, bool idle)
      : resolver_(ioc), ws_(ioc), opt_(o), texts_(texts), stats_(stats), deadline_(deadline),
        next_(offset), idle_(idle) {}

  void start() {
    resolver_.async_resolve(opt_.host, opt_.port, beast::bind_front_handler(&Connection::on_resolve, shared_from_this()));
  }
  bool open() const { return open_; }

 private:
  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail_connect();
    beast::get_lowest_layer(ws_).async_connect(results, beast::bind_front_handler(&Connection::on_connect, shared_from_this()));
  }
  void on_connect(beast::error_code ec, tcp::resolver::results_type::endpoint_type) {
    if (ec) return fail_connect();
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::origin, "http://localhost");
    }));
    ws_.async_handshake(opt_.host + ":" + opt_.port, opt_.path,
                        beast::bind_front_handler(&Connection::on_handshake, shared_from_this()));
  }
  void on_handshake(beast::error_code ec) {
    if (ec) return fail_connect();
    open_ = true;
    if (idle_) {  // say hello so the server creates a session, then stay quiet
      out_ = R"({"type":"hello","client":"bench"})";
      ws_.async_write(net::buffer(out_), [self = shared_from_this()](beast::error_code, size_t) {
        self->ws_.async_read(self->buffer_, [self](beast::error_code, size_t) { self->buffer_.clear(); });
      });
      return;
    }
    send();
  }
  void send() {
    if (Clock::now() >= deadline_) {
      ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
      return;
    }
    nlohmann::json m = {{"type", "message"}, {"text", texts_[next_++ % texts_.size()]}, {"id", std::to_string(next_)}};
    out_ = m.dump();
    sent_at_ = Clock::now();
    ws_.async_write(net::buffer(out_), beast::bind_front_handler(&Connection::on_write, shared_from_this()));
  }
  void on_write(beast::error_code ec, size_t) {
    if (ec) return fail();
    ws_.async_read(buffer_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, size_t) {
    if (ec) return fail();
    // Skip a {"type":"session"} frame that precedes the first reply.
    std::string_view frame(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
    bool session_frame = frame.find("\"type\":\"session\"") != std::string_view::npos;
    buffer_.clear();
    if (session_frame) {
      ws_.async_read(buffer_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
      return;
    }
    stats_.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at_).count());
    ++stats_.messages;
    if (frame.find("\"type\":\"error\"") != std::string_view::npos) ++stats_.errors;
    send();
  }
  void fail() { ++stats_.errors; open_ = false; }
  void fail_connect() { ++stats_.connect_failures; }

  tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::string out_;
  const Options& opt_;
  const std::vector<std::string>& texts_;
  Stats& stats_;
  Clock::time_point deadline_, sent_at_;
  size_t next_;
  bool idle_;
  bool open_ = false;
};

double pct(const std::vector<double>& v, double p) {
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") {
      // ws://host:port/path
      std::string rest = v.substr(v.find("//") + 2);
      std::string hostport = rest.substr(0, rest.find('/'));
      o.path = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
      o.host = hostport.substr(0, hostport.find(':'));
      o.port = hostport.find(':') == std::string::npos ? "80" : hostport.substr(hostport.find(':') + 1);
    } else if (k == "--conns") o.conns = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--idle") o.idle = std::stoi(v);
    else if (k == "--server-pid") o.server_pid = std::stoi(v);
    else if (k == "--texts") o.texts = v;
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  std::vector<std::string> texts;
  std::ifstream in(o.texts);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("text")) texts.push_back(j["text"].get<std::string>());
  }
  if (texts.empty()) texts.push_back("the back of my knee hurts after running");

  net::io_context ioc;
  Stats stats;
  if (o.idle > 0) {
    long before = rss_kib(o.server_pid);
    std::vector<std::shared_ptr<Connection>> conns;
    auto far = Clock::now() + std::chrono::hours(1);
    for (int i = 0; i < o.idle; ++i) {
      conns.push_back(std::make_shared<Connection>(ioc, o, texts, stats, far, 0, true));
      conns.back()->start();
      if (i % 200 == 199) ioc.run_for(std::chrono::milliseconds(50));  // pace the handshakes
    }
    auto until = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < until) {
      ioc.run_for(std::chrono::milliseconds(100));
      int open = 0;
      for (auto& c : conns) open += c->open();
      if (open + static_cast<int>(stats.connect_failures) >= o.idle) break;
    }
    ioc.run_for(std::chrono::milliseconds(500));
    int open = 0;
    for (auto& c : conns) open += c->open();
    long after = rss_kib(o.server_pid);
    std::printf("idle sessions: %d open, %zu failed; server RSS %.1f MB -> %.1f MB: %.2f KiB per idle session\n", open,
                stats.connect_failures, before / 1024.0, after / 1024.0,
                open ? static_cast<double>(after - before) / open : 0.0);
    return open == o.idle ? 0 : 1;
  }

  const double cpu0 = cpu_seconds(o.server_pid);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::shared_ptr<Connection>> conns;
  for (int i = 0; i < o.conns; ++i) {
    conns.push_back(std::make_shared<Connection>(ioc, o, texts, stats, deadline, static_cast<size_t>(i) * 37, false));
    conns.back()->start();
  }
  ioc.run_for(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds + 5)));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_seconds(o.server_pid) - cpu0;
  std::sort(stats.latencies_us.begin(), stats.latencies_us.end());
  std::printf("%d conns, %.1f s: %.0f msg/s, p50 %.2f ms, p99 %.2f ms, errors %zu, connect failures %zu",
              o.conns, elapsed, stats.messages / std::min(elapsed, o.seconds), pct(stats.latencies_us, 0.5) / 1000,
              pct(stats.latencies_us, 0.99) / 1000, stats.errors, stats.connect_failures);
  if (o.server_pid > 0 && stats.messages > 0)
    std::printf(", server CPU %.1f us/msg", cpu * 1e6 / stats.messages);
  std::printf("\n");
  return 0;
}
