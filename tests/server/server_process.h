// ServerProcess: a real `runbot serve` child process for the black-box
// protocol tests. Starts it on port 0 with a temporary database, reads its
// JSON log lines from stderr on a thread, and lets a test wait for a log
// event (the "listening" line gives the port) or for the exit, with a
// deadline: no sleeps as synchronisation.
//
// Thread safety: one test thread drives it; the log is guarded internally.
#ifndef RUNBOT_TESTS_SERVER_SERVER_PROCESS_H_
#define RUNBOT_TESTS_SERVER_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace runbot::test {

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// Copies the data files (intents/data, dialogs/data, bot/knowledge) of the
// source tree under `to`, for tests that change them.
void copy_data_files(const std::filesystem::path& to);

struct ServeOptions {
  std::vector<std::string> args;  // extra `serve` flags
  std::string db;                 // --db; empty: no flag (the default or env)
  std::string data_root = RUNBOT_SOURCE_DIR;
  std::vector<std::pair<std::string, std::string>> env;  // added to the environment
  bool wait_listening = true;     // wait for the "listening" line in the constructor
};

// The usual case: extra flags and a database path.
inline ServeOptions serve_options(std::vector<std::string> args, std::string db) {
  ServeOptions o;
  o.args = std::move(args);
  o.db = std::move(db);
  return o;
}

class ServerProcess {
 public:
  explicit ServerProcess(ServeOptions options);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  // The child's working directory: a fresh temporary folder, so that a
  // default ./runbot.db never lands in the source tree.
  const std::filesystem::path& work_dir() const { return work_.path; }
  pid_t pid() const { return pid_; }

  // Lines logged so far; pass as `from` to wait only for later events.
  size_t log_mark() const;
  // The first log line at index >= from whose "event" is `event`. Fails the
  // test when none comes within `timeout` or the process ends first.
  nlohmann::json wait_for_event(std::string_view event, size_t from = 0,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<nlohmann::json> events(std::string_view event) const;
  std::string log_text() const;

  void signal(int sig);
  // Waits for the process to end: its exit code, or 128 + signal.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void read_log(int fd);

  TempDir work_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  unsigned short port_ = 0;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;  // GUARDED_BY(mu_)
  bool eof_ = false;                // GUARDED_BY(mu_)
};

}  // namespace runbot::test

#endif  // RUNBOT_TESTS_SERVER_SERVER_PROCESS_H_
