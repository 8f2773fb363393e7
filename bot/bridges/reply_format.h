// The translation between a Telegram chat and runbot's protocol, as pure
// functions: commands to runbot text, runbot's quick replies to an inline
// keyboard, long replies to messages Telegram accepts, and the bridge's own
// short answers.
//
// Thread safety: free functions without state.
#ifndef RUNBOT_BOT_BRIDGES_REPLY_FORMAT_H_
#define RUNBOT_BOT_BRIDGES_REPLY_FORMAT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace runbot::telegram {

// Telegram's limits (Bot API: InlineKeyboardButton, sendMessage).
inline constexpr size_t kMaxCallbackDataBytes = 64;
inline constexpr size_t kMaxMessageUtf16 = 4096;

// The bridge's own answers, for what runbot is not asked about.
inline constexpr std::string_view kNotTextReply =
    "I can only read text messages. Please tell me in words what is going on with your knee.";
inline constexpr std::string_view kExpiredButtonReply = "That button has expired. Please type your answer instead.";
inline constexpr std::string_view kTooLongReply = "That message is too long for me. Could you say it in fewer words?";
inline constexpr std::string_view kUnreadableReply = "Sorry, I could not read that message. Could you say it another way?";
inline constexpr std::string_view kUnavailableReply =
    "Sorry, I cannot answer right now. Please send your message again in a few minutes.";
inline constexpr std::string_view kEmptyReply = "Sorry, I have no answer to that.";

// What runbot is sent for a message: "/start" greets ("hi"), "/reset"
// starts over ("start over"), with or without "@botname" or arguments;
// any other text goes as it is.
std::string runbot_text_for(std::string_view message_text);

// callback_data for quick reply `index`: the reply itself when it fits in
// 64 bytes (and cannot be mistaken for the index form), else kIndexPrefix
// and the index, e.g. "#qr2".
std::string callback_data_for(std::string_view reply, size_t index);

// {"inline_keyboard": [[button, ...], ...]} for the quick replies: short
// ones side by side, long ones on their own row. Empty replies are left
// out; null when none remain (send no keyboard).
nlohmann::json inline_keyboard(const std::vector<std::string>& quick_replies);

// Length as Telegram counts it: UTF-16 code units.
size_t utf16_length(std::string_view utf8);

// `text` cut into pieces of at most `max_utf16` units, preferring paragraph
// breaks, then line breaks, then spaces; never inside a UTF-8 sequence.
// One piece (the text itself) when it fits. Empty text gives no pieces.
std::vector<std::string> split_message(std::string_view text, size_t max_utf16 = kMaxMessageUtf16);

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_REPLY_FORMAT_H_
