#include "bot/bridges/telegram_bridge.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "bot/bridges/bridge.h"
#include "bot/bridges/bridge_config.h"
#include "bot/bridges/bridge_log.h"

namespace runbot {
namespace {

using telegram::BridgeLog;

// A bot token is "<bot id>:<secret>" of these characters. Checking keeps a
// stray '/' or '?' from reshaping the request path the token goes into.
bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
         c == '-';
}

// The token in `path`, or "" after logging why not. The file's content is
// never logged: it may be a token with a typo.
std::string read_token(const std::string& path, BridgeLog& log) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    log.error("token_file_unreadable", {{"path", path}, {"error", std::strerror(errno)}});
    return "";
  }
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  size_t begin = text.find_first_not_of(" \t\r\n");
  size_t end = text.find_last_not_of(" \t\r\n");
  std::string token = begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
  if (token.empty() || token.find(':') == std::string::npos ||
      !std::all_of(token.begin(), token.end(), token_char)) {
    log.error("token_file_invalid", {{"path", path}, {"expected", "one bot token, <bot id>:<secret>"}});
    return "";
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    log.warn("token_file_readable_by_others", {{"path", path}, {"fix", "chmod 600"}});
  return token;
}

}  // namespace

int run_telegram_bridge(const TelegramOptions& options) {
  telegram::BridgeConfig config;
  config.options = options;
  {
    BridgeLog early({});
    config.token = read_token(options.token_file, early);
    if (config.token.empty()) return 2;
  }

  // SIGINT and SIGTERM are blocked in this thread, and so in every thread
  // the bridge starts, and taken by one thread with sigwait(): stopping
  // then runs as ordinary code, not inside a signal handler.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  telegram::TelegramBridge bridge(std::move(config));
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0 || done) return;
      bridge.stop();
    }
  });
  int code = bridge.run();
  done = true;
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes sigwait(); it sees `done`
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return code;
}

}  // namespace runbot
