// One conversation through the bridge against the real `runbot serve`
// (build/runbot) instead of the fake runbot, when that binary exists. When
// it does not, the case says so with a MESSAGE and checks nothing.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <thread>

#include "tests/bridges/world.h"

extern char** environ;

namespace runbot::telegram::test {

using namespace std::chrono_literals;

namespace {

// `runbot serve --port 0` as a child process; its stderr log is read on a
// thread until the "listening" line names the port.
class ServeProcess {
 public:
  explicit ServeProcess(const std::string& db) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> args = {RUNBOT_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid_, RUNBOT_BIN, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      pid_ = -1;
      ::close(fds[0]);
      return;
    }
    reader_ = std::thread([this, fd = fds[0]] { read_log(fd); });
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      bool exited;
      {
        // The log pipe closes when the server exits; the wait is a guard.
        std::unique_lock lock(mu_);
        exited = cv_.wait_for(lock, 10s, [&] { return eof_; });
      }
      if (!exited) ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  // The port from the "listening" line; 0 if none came within the guard.
  unsigned short wait_port() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 15s, [&] { return port_ != 0 || eof_; });
    return port_;
  }

  std::string log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void read_log(int fd) {
    std::string pending;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard lock(mu_);
      log_.append(buf, static_cast<size_t>(n));
      pending.append(buf, static_cast<size_t>(n));
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        auto j = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
        if (j.is_object() && j.value("event", "") == "listening" && j.contains("port") && j["port"].is_number())
          port_ = j["port"].get<unsigned short>();
      }
      cv_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mu_);
    eof_ = true;
    cv_.notify_all();
  }

  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  unsigned short port_ = 0;
  bool eof_ = false;
};

}  // namespace

TEST_SUITE("bridge with the real server") {
  TEST_CASE("against build/runbot serve: a conversation with a button, each message answered once, in one session") {
    if (!std::filesystem::exists(RUNBOT_BIN)) {
      MESSAGE("SKIPPED, nothing checked: " RUNBOT_BIN " is not built (ninja -C build runbot)");
      return;
    }
    TempDir dir;
    ServeProcess serve((dir.path / "runbot.db").string());
    unsigned short port = serve.wait_port();
    INFO(serve.log());
    REQUIRE(port != 0);
    FakeTelegram telegram(kTestToken);
    RunningBridge bridge(test_config(telegram.api_base(), str("http://127.0.0.1:", static_cast<long long>(port)),
                                     (dir.path / "telegram.db").string()));
    telegram.user_says(1, "/start");
    REQUIRE(telegram.wait_for_sent(1));
    telegram.user_says(1, "the back of my knee hurts after running");
    REQUIRE(telegram.wait_for_sent(2));
    auto sent = telegram.sent_to(1);
    size_t expected = 2;
    bool pressed = false;
    for (const auto& s : sent) {
      if (s.keyboard.empty() || pressed) continue;
      telegram.user_presses(s, 0, 0);
      pressed = true;
      expected = 3;
    }
    REQUIRE(telegram.wait_for_sent(expected));
    CHECK(bridge.stop_and_wait() == 0);
    CHECK(telegram.sent().size() == expected);
    for (const auto& s : telegram.sent()) {
      CHECK(!s.text.empty());
      CHECK(!s.parse_mode);
    }
    if (pressed) CHECK(telegram.answered_callbacks().size() == 1);
    CHECK(bridge.events("runbot_failed") == 0);
    std::string error;
    auto store = BridgeStore::open((dir.path / "telegram.db").string(), &error);
    REQUIRE(store);
    CHECK(store->pending()->empty());
    CHECK(store->session(1)->size() >= 16);  // the server's token: 128 random bits or more
  }
}

}  // namespace runbot::telegram::test
