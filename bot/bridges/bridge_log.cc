#include "bot/bridges/bridge_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace runbot::telegram {
namespace {

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// ISO 8601 in UTC with milliseconds, as the server logs it.
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the format could print, which -Wformat-truncation checks
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  static constexpr std::string_view kMark = "<redacted>";
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kMark.size()))
      text.replace(at, secret.size(), kMark);
  }
  return text;
}

std::vector<std::string> token_secrets(std::string_view token) {
  std::vector<std::string> out;
  if (token.empty()) return out;
  out.emplace_back(token);
  size_t colon = token.find(':');
  // A secret part this short would scrub ordinary words; real ones are 35 characters.
  if (colon != std::string_view::npos && token.size() - colon - 1 >= 8) out.emplace_back(token.substr(colon + 1));
  return out;
}

BridgeLog::BridgeLog(std::vector<std::string> secrets, LogSink sink, Level min_level)
    : secrets_(std::move(secrets)), sink_(std::move(sink)), min_level_(min_level) {}

void BridgeLog::write(Level level, std::string_view event, nlohmann::json fields) {
  if (level < min_level_) return;
  nlohmann::json line = {{"ts", timestamp()}, {"level", level_name(level)}, {"event", event}};
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  }
  // replace: a field holding bytes that are not UTF-8 (a peer's garbage)
  // must not turn logging into an exception.
  std::string text = redact(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), secrets_);
  std::lock_guard lock(mu_);
  if (sink_) {
    sink_(text);
  } else {
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

void BridgeLog::debug(std::string_view event, nlohmann::json fields) { write(Level::kDebug, event, std::move(fields)); }
void BridgeLog::info(std::string_view event, nlohmann::json fields) { write(Level::kInfo, event, std::move(fields)); }
void BridgeLog::warn(std::string_view event, nlohmann::json fields) { write(Level::kWarn, event, std::move(fields)); }
void BridgeLog::error(std::string_view event, nlohmann::json fields) { write(Level::kError, event, std::move(fields)); }

}  // namespace runbot::telegram
