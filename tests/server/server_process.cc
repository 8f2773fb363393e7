#include "tests/server/server_process.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace runbot::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "runbot_serve_XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  path = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

void copy_data_files(const fs::path& to) {
  for (const char* dir : {"intents/data", "dialogs/data", "bot/knowledge"}) {
    fs::create_directories(to / dir);
    for (const auto& entry : fs::directory_iterator(fs::path(RUNBOT_SOURCE_DIR) / dir))
      if (entry.path().extension() == ".json") fs::copy_file(entry.path(), to / dir / entry.path().filename());
  }
}

ServerProcess::ServerProcess(ServeOptions options) {
  std::vector<std::string> args = {RUNBOT_BIN, "--data", options.data_root, "serve"};
  auto has = [&](const char* flag) {
    return std::find(options.args.begin(), options.args.end(), flag) != options.args.end();
  };
  if (!has("--port")) args.insert(args.end(), {"--port", "0"});
  if (!has("--threads")) args.insert(args.end(), {"--threads", "2"});
  if (!options.db.empty()) {
    args.push_back("--db");
    args.push_back(options.db);
  }
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "RUNBOT_", 7) != 0) env_strings.emplace_back(*e);
  for (auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, work_.path.c_str());
  int rc = posix_spawn(&pid_, RUNBOT_BIN, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  REQUIRE_MESSAGE(rc == 0, "cannot start " << RUNBOT_BIN);
  reader_ = std::thread([this, fd = fds[0]] { read_log(fd); });
  if (options.wait_listening) port_ = wait_for_event("listening").at("port").get<unsigned short>();
}

ServerProcess::~ServerProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::read_log(int fd) {
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    std::lock_guard lock(mu_);
    while ((nl = pending.find('\n')) != std::string::npos) {
      lines_.push_back(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  if (!pending.empty()) lines_.push_back(pending);
  eof_ = true;
  cv_.notify_all();
}

size_t ServerProcess::log_mark() const {
  std::lock_guard lock(mu_);
  return lines_.size();
}

json ServerProcess::wait_for_event(std::string_view event, size_t from, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  json found;
  size_t next = from;
  auto seen = [&] {
    for (; next < lines_.size(); ++next) {
      json j = json::parse(lines_[next], nullptr, false);
      if (j.is_object() && j.value("event", "") == event) {
        found = std::move(j);
        return true;
      }
    }
    return eof_;
  };
  cv_.wait_for(lock, timeout, seen);
  if (found.is_null()) {
    std::string log;
    for (const auto& l : lines_) log += l + "\n";
    const std::string when = eof_ ? " before the server exited" : " in time";
    FAIL("no \"" << std::string(event) << "\" log line" << when << "; log:\n" << log);
  }
  return found;
}

std::vector<json> ServerProcess::events(std::string_view event) const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& l : lines_) {
    json j = json::parse(l, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) out.push_back(std::move(j));
  }
  return out;
}

std::string ServerProcess::log_text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

void ServerProcess::signal(int sig) { REQUIRE(kill(pid_, sig) == 0); }

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  {
    // The child's stderr closes when it exits: wait for that, not a clock.
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return eof_; })) {
      lock.unlock();
      FAIL("the server did not exit in time; log:\n" << log_text());
    }
  }
  int status = 0;
  REQUIRE(waitpid(pid_, &status, 0) == pid_);
  reaped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace runbot::test
