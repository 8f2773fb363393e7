// Helpers the bridge tests share: a temporary folder, a BridgeConfig tuned
// for tests (short timeouts and backoff, fake servers), and RunningBridge,
// which runs a TelegramBridge on its own thread and keeps its log lines.
#ifndef RUNBOT_TESTS_BRIDGES_BRIDGE_HARNESS_H_
#define RUNBOT_TESTS_BRIDGES_BRIDGE_HARNESS_H_

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bot/bridges/bridge.h"
#include "bot/bridges/bridge_config.h"

namespace runbot::telegram::test {

// A token shaped like a real one. Tests search logs for it and for its
// secret part.
inline constexpr const char* kTestToken = "7012345678:AAHk3Zt_s3cr3t-T0ken-Value_9xYqW2vRbN4";

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// Sends this process's stderr (fd 2) to a temporary file while it lives,
// so a test can read what a production log would show.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  // Restores stderr and returns everything written to it meanwhile.
  std::string finish();

 private:
  TempDir dir_;
  std::string path_;
  int saved_ = -1;
};

// Production settings except: timeouts of a second or two, backoff of
// milliseconds, retry_after seconds worth 20 ms, a 5 s long poll.
BridgeConfig test_config(const std::string& api_base, const std::string& server_url, const std::string& db_path,
                         const std::string& token = kTestToken);

class RunningBridge {
 public:
  // Starts config's bridge on a thread; its log goes to this object (or,
  // with keep_stderr, to stderr as in production).
  explicit RunningBridge(BridgeConfig config, bool keep_stderr = false);
  ~RunningBridge();  // stop_and_wait()
  RunningBridge(const RunningBridge&) = delete;
  RunningBridge& operator=(const RunningBridge&) = delete;

  // stop(), then the exit code of run(). -1 when it did not return within
  // `timeout` (a guard; the test fails).
  int stop_and_wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The exit code once run() returns on its own; -1 after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  std::vector<std::string> log_lines() const;
  // How many log lines have "event": `event`.
  size_t events(const std::string& event) const;
  // Waits until a line with "event": `event` is logged (`timeout` is a guard).
  bool wait_for_event(const std::string& event, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Log {
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    std::vector<std::string> lines;
  };
  std::shared_ptr<Log> log_ = std::make_shared<Log>();
  std::unique_ptr<TelegramBridge> bridge_;
  std::future<int> exit_;
  int code_ = -1;
  bool joined_ = false;
};

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_BRIDGE_HARNESS_H_
