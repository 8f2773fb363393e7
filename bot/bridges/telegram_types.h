// What the bridge reads from the Telegram Bot API: updates (getUpdates) and
// the result envelope every method returns. Pure parsing; never throws,
// whatever the JSON holds. Field names follow https://core.telegram.org/bots/api.
//
// Thread safety: plain values and free functions.
#ifndef RUNBOT_BOT_BRIDGES_TELEGRAM_TYPES_H_
#define RUNBOT_BOT_BRIDGES_TELEGRAM_TYPES_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace runbot::telegram {

// The values are stored in the bridge's database: never renumber.
enum class UpdateKind {
  kText = 0,                // a message with text: the user said something
  kButton = 1,              // an inline keyboard button was pressed
  kNotText = 2,             // a message without text (photo, sticker, ...)
  kExpiredButton = 3,       // a button whose reply text cannot be recovered
  kIgnored = 4,             // anything else (edits, channel posts, ...): no answer
};

// One update, reduced to what the bridge needs: no names, usernames or
// other personal data are kept.
struct Update {
  int64_t update_id = 0;
  int64_t chat_id = 0;  // the chat to answer; for a button without a chat, the user
  UpdateKind kind = UpdateKind::kIgnored;
  std::string text;         // kText: the message text; kButton: the button's reply text
  std::string callback_id;  // kButton, kExpiredButton: to answerCallbackQuery

  bool operator==(const Update&) const = default;
};

// callback_data of a quick reply that does not fit in 64 bytes: this prefix
// and its index. The text is then read back from the button itself, which
// Telegram sends with the callback_query (message.reply_markup).
inline constexpr std::string_view kIndexPrefix = "#qr";

// Reads one element of getUpdates' `result`. nullopt when it has no integer
// update_id in [0, 2^53) (it cannot be acknowledged on its own); every other oddity
// gives kIgnored, kNotText or kExpiredButton rather than failing.
std::optional<Update> parse_update(const nlohmann::json& j);

// {"ok":true,"result":...} or {"ok":false,"error_code":429,"description":...,
// "parameters":{"retry_after":5}}.
struct ApiResult {
  bool ok = false;
  nlohmann::json result;       // when ok
  int error_code = 0;          // when not ok
  std::string description;     // when not ok; may be empty
  std::optional<int> retry_after;  // seconds, from parameters.retry_after
};

// nullopt when `body` is not such an object (a proxy's HTML page, garbage).
std::optional<ApiResult> parse_api_result(std::string_view body);

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_TELEGRAM_TYPES_H_
