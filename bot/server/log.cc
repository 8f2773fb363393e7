#include "bot/server/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace runbot {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};
std::mutex write_mu;

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string utc_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

}  // namespace

void set_log_level(LogLevel level) { min_level = level; }

void log_event(LogLevel level, std::string_view event, nlohmann::json fields) {
  if (level < min_level.load(std::memory_order_relaxed)) return;
  // ordered_json keeps ts, level and event first, where eyes look.
  nlohmann::ordered_json line = {{"ts", utc_now()}, {"level", level_name(level)}, {"event", event}};
  if (fields.is_object())
    for (auto& [key, value] : fields.items()) line[key] = value;
  // replace: a field with invalid UTF-8 (an OS error text, say) must not
  // throw out of a log call.
  std::string out = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out += '\n';
  std::lock_guard lock(write_mu);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace runbot
