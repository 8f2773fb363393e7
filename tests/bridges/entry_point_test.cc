// run_telegram_bridge(): the token file, and stopping on SIGTERM and SIGINT.
#include <doctest/doctest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "bot/bridges/telegram_bridge.h"
#include "tests/bridges/world.h"

namespace runbot::telegram::test {

using namespace std::chrono_literals;

namespace {

std::string write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), 0600);
  return path.string();
}

}  // namespace

TEST_SUITE("entry point") {
  TEST_CASE("a missing, empty or malformed token file stops the bridge with exit code 2, its content unlogged") {
    TempDir dir;
    TelegramOptions o;
    o.api_base = "http://127.0.0.1:9";  // never reached
    o.state_db = (dir.path / "t.db").string();
    StderrCapture capture;
    o.token_file = (dir.path / "missing").string();
    CHECK(run_telegram_bridge(o) == 2);
    for (const char* content : {"", "  \n", "no colon here", "7012:AAH/../../etc", "7012:AAH token with spaces"}) {
      CAPTURE(content);
      o.token_file = write_file(dir.path / "token", content);
      CHECK(run_telegram_bridge(o) == 2);
    }
    std::string log = capture.finish();
    CHECK(log.find("token_file_unreadable") != std::string::npos);
    CHECK(log.find("token_file_invalid") != std::string::npos);
    CHECK(log.find("AAH") == std::string::npos);
    CHECK(!std::filesystem::exists(dir.path / "t.db"));  // nothing started
  }

  TEST_CASE("SIGTERM and SIGINT stop the bridge with exit code 0 after it has answered") {
    for (int sig : {SIGTERM, SIGINT}) {
      CAPTURE(sig);
      // Blocked before any thread is started, so every thread inherits the
      // block and the bridge's sigwait() thread is the one that takes it,
      // instead of the default action ending the test run.
      sigset_t set, previous;
      sigemptyset(&set);
      sigaddset(&set, sig);
      pthread_sigmask(SIG_BLOCK, &set, &previous);
      {
        World w;
        TelegramOptions o;
        o.token_file = write_file(w.dir.path / "token", std::string(kTestToken) + "\n");
        o.server_url = w.runbot.url();
        o.api_base = w.telegram.api_base();
        o.state_db = w.db();
        o.poll_timeout_s = 5;
        o.max_parallel_chats = 4;
        StderrCapture capture;
        auto done = std::async(std::launch::async, [&] { return run_telegram_bridge(o); });
        w.telegram.user_says(1, "hi there");
        CHECK(w.telegram.wait_for_sent(1));
        ::kill(::getpid(), sig);
        REQUIRE(done.wait_for(10s) == std::future_status::ready);
        CHECK(done.get() == 0);
        std::string log = capture.finish();
        CHECK(log.find("\"stopped\"") != std::string::npos);
        CHECK(log.find(kTestToken) == std::string::npos);
        CHECK(w.telegram.sent_texts(1) == said_all({"hi there"}));
      }
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  }
}

}  // namespace runbot::telegram::test
