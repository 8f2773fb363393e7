// runbot chat URL: the terminal client of a runbot server, over the
// protocol (spec/protocol.md). Line editing and history through libedit on a
// terminal; plain lines when piped. The session token is kept under the
// user's config directory, so a later `runbot chat` resumes the dialog; a
// dropped connection is reopened with backoff and the unanswered message is
// sent again with the same id (the server answers a repeated id from its
// store, so no turn is lost or run twice).
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bot/cli/chat_view.h"
#include "bot/cli/commands.h"

namespace runbot {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

struct Url {
  std::string host, port, path;
};

bool parse_url(const std::string& url, Url* out) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return false;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  out->path = slash == std::string::npos ? "/chat" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  out->host = hostport.substr(0, colon);
  out->port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  return !out->host.empty();
}

// Tokens per server URL, in $XDG_CONFIG_HOME/runbot/sessions.json.
std::filesystem::path sessions_file() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path base = xdg && *xdg ? xdg : std::string(home ? home : ".") + "/.config";
  return base / "runbot" / "sessions.json";
}
json load_sessions() {
  std::ifstream in(sessions_file());
  json j = json::parse(in, nullptr, false);
  return j.is_object() ? j : json::object();
}
void save_token(const std::string& url, const std::string& token) {
  json all = load_sessions();
  all[url] = token;
  std::error_code ec;
  std::filesystem::create_directories(sessions_file().parent_path(), ec);
  std::ofstream out(sessions_file(), std::ios::trunc);
  out << all.dump() << "\n";
  // The token is a secret: keep it readable by this user only.
  std::filesystem::permissions(sessions_file(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
}

class Connection {
 public:
  explicit Connection(const Url& url) : url_(url) {}

  // Opens the socket and says hello with the stored token. Returns false
  // (and leaves the connection closed) on any failure.
  bool open(std::string* token, std::string* error) {
    try {
      ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc_);
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(url_.host, url_.port);
      beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*ws_).connect(results);
      ws_->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "runbot-terminal");
      }));
      ws_->handshake(url_.host + ":" + url_.port, url_.path);
      json hello = {{"type", "hello"}, {"client", "terminal"}};
      if (!token->empty()) hello["session"] = *token;
      write(hello);
      json session = read();
      if (session.value("type", "") != "session") throw std::runtime_error("no session frame");
      *token = session.value("session", "");
      return true;
    } catch (const std::exception& e) {
      *error = e.what();
      ws_.reset();
      return false;
    }
  }
  bool is_open() const { return ws_ != nullptr; }
  void close() {
    if (!ws_) return;
    beast::error_code ec;
    ws_->close(websocket::close_code::normal, ec);
    ws_.reset();
  }
  void write(const json& frame) {
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(10));
    ws_->text(true);
    ws_->write(net::buffer(frame.dump()));
  }
  // Reads one frame; the engine answers in well under a second, so a long
  // silence means the connection is gone.
  json read() {
    beast::flat_buffer buffer;
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(30));
    ws_->read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
  }

 private:
  Url url_;
  net::io_context ioc_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
};

}  // namespace

int run_chat_remote(const ChatOptions& options) {
  Url url;
  if (!parse_url(options.url, &url)) {
    std::cerr << "runbot chat: URL must look like ws://host:port/chat\n";
    return 2;
  }
  const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  ChatStyle style{tty && options.color};
  json sessions = load_sessions();
  std::string token = sessions.value(options.url, "");
  Connection conn(url);
  std::mt19937 rng(std::random_device{}());

  // Opens (or reopens) the connection with capped, jittered backoff.
  auto connect = [&](int max_attempts) {
    std::string error;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
      if (conn.open(&token, &error)) {
        save_token(options.url, token);
        return true;
      }
      int cap = std::min(8000, 250 << std::min(attempt, 5));
      int wait_ms = std::uniform_int_distribution<int>(cap / 2, cap)(rng);
      if (tty) std::cerr << "(cannot reach " << options.url << ": " << error << "; retrying)\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
    std::cerr << "runbot chat: cannot reach " << options.url << ": " << error << "\n";
    return false;
  };
  if (!connect(8)) return 1;
  if (tty)
    std::cout << "runbot at " << options.url
              << ". Type a message; a number picks a suggested reply; /reset starts over, /quit leaves.\n";

  std::vector<std::string> quick_replies;
  // Message ids must differ from any earlier run's: the server answers a
  // repeated id from its store (that is how a retry stays exactly-once).
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%08x", static_cast<unsigned>(rng()));
  int next_id = 1;
  while (true) {
    std::string line;
    InputKind input = read_input(tty, &line);
    if (input == InputKind::kQuit) break;
    if (input == InputKind::kHandled) continue;
    if (line.empty()) continue;
    json frame;
    if (line == "/reset") {
      frame = {{"type", "reset"}};
    } else {
      line = pick_quick_reply(line, quick_replies);
      frame = {{"type", "message"}, {"text", line}, {"id", std::string(prefix) + "-" + std::to_string(next_id++)}};
    }
    if (!tty) std::cout << "you> " << (line == "/reset" ? "/reset" : line) << "\n";
    // Send and wait for the answer; on a broken connection reconnect and
    // send the same frame (same id) again.
    bool answered = false;
    for (int tries = 0; tries < 5 && !answered; ++tries) {
      try {
        if (!conn.is_open() && !connect(8)) return 1;
        conn.write(frame);
        while (!answered) {
          json in = conn.read();
          std::string type = in.is_object() ? in.value("type", "") : "";
          if (type == "reply") {
            print_reply(std::cout, in, style);
            quick_replies = in.value("quick_replies", std::vector<std::string>{});
            answered = true;
          } else if (type == "error") {
            print_error(std::cout, in, style);
            answered = true;
          } else if (type == "session" && frame["type"] == "reset") {
            token = in.value("session", token);
            save_token(options.url, token);
            std::cout << "(started over)\n";
            quick_replies.clear();
            answered = true;
          }
        }
      } catch (const std::exception&) {
        conn.close();
      }
    }
    if (!answered) {
      std::cerr << "runbot chat: no answer from " << options.url << "\n";
      return 1;
    }
  }
  conn.close();
  return 0;
}

}  // namespace runbot
