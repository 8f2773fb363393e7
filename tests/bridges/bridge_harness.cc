#include "tests/bridges/bridge_harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace runbot::telegram::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "runbot_telegram_XXXXXX").string();
  path = mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

StderrCapture::StderrCapture() : path_((dir_.path / "stderr.txt").string()) {
  std::fflush(stderr);
  saved_ = ::dup(2);
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::dup2(fd, 2);
    ::close(fd);
  }
}

StderrCapture::~StderrCapture() { finish(); }

std::string StderrCapture::finish() {
  if (saved_ >= 0) {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

BridgeConfig test_config(const std::string& api_base, const std::string& server_url, const std::string& db_path,
                         const std::string& token) {
  BridgeConfig c;
  c.options.api_base = api_base;
  c.options.server_url = server_url;
  c.options.state_db = db_path;
  c.options.poll_timeout_s = 5;
  c.options.max_parallel_chats = 8;
  c.token = token;
  c.telegram_timeout = std::chrono::seconds(2);
  c.runbot_timeout = std::chrono::seconds(2);
  c.backoff_base = std::chrono::milliseconds(5);
  c.backoff_cap = std::chrono::milliseconds(50);
  c.retry_after_unit = std::chrono::milliseconds(20);
  return c;
}

RunningBridge::RunningBridge(BridgeConfig config, bool keep_stderr) {
  if (!keep_stderr) {
    auto log = log_;
    config.log_sink = [log](std::string_view line) {
      std::lock_guard lock(log->mu);
      log->lines.emplace_back(line);
      log->cv.notify_all();
    };
  }
  bridge_ = std::make_unique<TelegramBridge>(std::move(config));
  exit_ = std::async(std::launch::async, [b = bridge_.get()] { return b->run(); });
}

RunningBridge::~RunningBridge() { stop_and_wait(); }

int RunningBridge::stop_and_wait(std::chrono::milliseconds timeout) {
  bridge_->stop();
  return wait_exit(timeout);
}

int RunningBridge::wait_exit(std::chrono::milliseconds timeout) {
  if (joined_) return code_;
  if (exit_.wait_for(timeout) != std::future_status::ready) return -1;
  joined_ = true;
  code_ = exit_.get();
  return code_;
}

std::vector<std::string> RunningBridge::log_lines() const {
  std::lock_guard lock(log_->mu);
  return log_->lines;
}

namespace {

size_t count_events(const std::vector<std::string>& lines, const std::string& event) {
  size_t n = 0;
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) ++n;
  }
  return n;
}

}  // namespace

size_t RunningBridge::events(const std::string& event) const { return count_events(log_lines(), event); }

bool RunningBridge::wait_for_event(const std::string& event, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(log_->mu);
  return log_->cv.wait_for(lock, timeout, [&] { return count_events(log_->lines, event) > 0; });
}

}  // namespace runbot::telegram::test
