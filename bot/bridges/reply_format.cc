#include "bot/bridges/reply_format.h"

#include <algorithm>

#include "bot/bridges/telegram_types.h"

namespace runbot::telegram {
namespace {

// Byte length of the UTF-8 sequence led by `c` (1 for a stray continuation
// byte, so a broken string still moves forward).
size_t sequence_length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

bool is_command(std::string_view text, std::string_view name) {
  if (!text.starts_with(name)) return false;
  text.remove_prefix(name.size());
  return text.empty() || text.front() == '@' || text.front() == ' ' || text.front() == '\n';
}

// Labels up to this many UTF-16 units share a row, at most kRowButtons to a
// row: "Yes" and "No" sit side by side, a sentence gets a row of its own.
constexpr size_t kShortLabel = 12;
constexpr size_t kRowButtons = 3;

}  // namespace

std::string runbot_text_for(std::string_view message_text) {
  std::string_view t = message_text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\t')) t.remove_prefix(1);
  if (is_command(t, "/start")) return "hi";
  if (is_command(t, "/reset")) return "start over";
  return std::string(message_text);
}

std::string callback_data_for(std::string_view reply, size_t index) {
  if (reply.size() <= kMaxCallbackDataBytes && !reply.starts_with(kIndexPrefix)) return std::string(reply);
  std::string data(kIndexPrefix);
  data += std::to_string(index);
  return data;
}

nlohmann::json inline_keyboard(const std::vector<std::string>& quick_replies) {
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json row = nlohmann::json::array();
  auto flush = [&rows, &row] {
    if (!row.empty()) rows.push_back(std::move(row));
    row = nlohmann::json::array();
  };
  for (size_t i = 0; i < quick_replies.size(); ++i) {
    const std::string& label = quick_replies[i];
    if (label.find_first_not_of(" \t\r\n") == std::string::npos) continue;  // Telegram refuses empty labels
    nlohmann::json button = {{"text", label}, {"callback_data", callback_data_for(label, i)}};
    bool is_short = utf16_length(label) <= kShortLabel;
    if (!is_short) flush();
    row.push_back(std::move(button));
    if (!is_short || row.size() == kRowButtons) flush();
  }
  flush();
  if (rows.empty()) return nullptr;
  return {{"inline_keyboard", std::move(rows)}};
}

size_t utf16_length(std::string_view utf8) {
  size_t n = 0;
  for (size_t i = 0; i < utf8.size();) {
    size_t len = sequence_length(static_cast<unsigned char>(utf8[i]));
    n += len == 4 ? 2 : 1;  // code points past U+FFFF take a surrogate pair
    i += len;
  }
  return n;
}

std::vector<std::string> split_message(std::string_view text, size_t max_utf16) {
  std::vector<std::string> pieces;
  while (!text.empty()) {
    // The longest prefix within the limit, on a sequence boundary.
    size_t units = 0, end = 0;
    while (end < text.size()) {
      size_t len = sequence_length(static_cast<unsigned char>(text[end]));
      size_t add = len == 4 ? 2 : 1;
      if (units + add > max_utf16) break;
      units += add;
      end = std::min(text.size(), end + len);
    }
    if (end < text.size()) {
      std::string_view head = text.substr(0, end);
      size_t cut = head.rfind("\n\n");
      if (cut == std::string_view::npos || cut == 0) cut = head.rfind('\n');
      if (cut == std::string_view::npos || cut == 0) cut = head.rfind(' ');
      if (cut != std::string_view::npos && cut > 0) end = cut;
    }
    std::string_view piece = text.substr(0, end);
    text.remove_prefix(end);
    // The break itself is not worth a message's leading blank line.
    while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
    while (!piece.empty() && (piece.back() == '\n' || piece.back() == ' ')) piece.remove_suffix(1);
    if (!piece.empty()) pieces.emplace_back(piece);
    if (end == 0) break;  // max_utf16 == 0: nothing fits, never loop forever
  }
  return pieces;
}

}  // namespace runbot::telegram
