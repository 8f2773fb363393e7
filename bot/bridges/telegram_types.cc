#include "bot/bridges/telegram_types.h"

#include <algorithm>

namespace runbot::telegram {
namespace {

using json = nlohmann::json;

// The member `key` of `j` when `j` is an object holding one, else null.
const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<int64_t> int_member(const json& j, std::string_view key) {
  const json* v = member(j, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

std::optional<std::string> string_member(const json& j, std::string_view key) {
  const json* v = member(j, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<int64_t> chat_of(const json* message) {
  if (!message) return std::nullopt;
  const json* chat = member(*message, "chat");
  return chat ? int_member(*chat, "id") : std::nullopt;
}

// The text of the button in `message`'s inline keyboard whose callback_data
// is `data`.
std::optional<std::string> button_text(const json* message, const std::string& data) {
  const json* markup = message ? member(*message, "reply_markup") : nullptr;
  const json* rows = markup ? member(*markup, "inline_keyboard") : nullptr;
  if (!rows || !rows->is_array()) return std::nullopt;
  for (const json& row : *rows) {
    if (!row.is_array()) continue;
    for (const json& button : row)
      if (string_member(button, "callback_data") == data) return string_member(button, "text");
  }
  return std::nullopt;
}

Update read_message(Update u, const json& message) {
  auto chat = chat_of(&message);
  if (!chat) return u;  // kIgnored: nowhere to answer
  u.chat_id = *chat;
  if (auto text = string_member(message, "text"); text && !text->empty()) {
    u.kind = UpdateKind::kText;
    u.text = std::move(*text);
  } else {
    u.kind = UpdateKind::kNotText;
  }
  return u;
}

Update read_callback(Update u, const json& query) {
  auto id = string_member(query, "id");
  if (!id) return u;  // kIgnored: cannot even be answered
  u.callback_id = std::move(*id);
  const json* message = member(query, "message");
  auto chat = chat_of(message);
  const json* from = member(query, "from");
  auto user = from ? int_member(*from, "id") : std::nullopt;
  u.chat_id = chat ? *chat : user.value_or(0);
  u.kind = UpdateKind::kExpiredButton;
  auto data = string_member(query, "data");
  if (!chat || !data || data->empty()) return u;
  if (data->starts_with(kIndexPrefix)) {
    auto text = button_text(message, *data);
    if (!text || text->empty()) return u;
    u.text = std::move(*text);
  } else {
    u.text = std::move(*data);
  }
  u.kind = UpdateKind::kButton;
  return u;
}

}  // namespace

std::optional<Update> parse_update(const json& j) {
  auto id = int_member(j, "update_id");
  // Telegram's ids are positive and well under 2^53; anything else is not
  // an id the offset arithmetic (id + 1) may be done on.
  if (!id || *id < 0 || *id >= (int64_t{1} << 53)) return std::nullopt;
  Update u;
  u.update_id = *id;
  if (const json* message = member(j, "message"); message && message->is_object()) return read_message(u, *message);
  if (const json* query = member(j, "callback_query"); query && query->is_object()) return read_callback(u, *query);
  return u;
}

std::optional<ApiResult> parse_api_result(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const json* ok = member(j, "ok");
  if (!ok || !ok->is_boolean()) return std::nullopt;
  ApiResult r;
  r.ok = ok->get<bool>();
  if (r.ok) {
    const json* result = member(j, "result");
    if (!result) return std::nullopt;
    r.result = *result;
    return r;
  }
  r.error_code = static_cast<int>(int_member(j, "error_code").value_or(0));
  r.description = string_member(j, "description").value_or("");
  if (const json* params = member(j, "parameters")) {
    if (auto after = int_member(*params, "retry_after"); after && *after >= 0)
      r.retry_after = static_cast<int>(std::min<int64_t>(*after, 24 * 3600));
  }
  return r;
}

}  // namespace runbot::telegram
