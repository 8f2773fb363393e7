#include "tests/bridges/fake_telegram.h"

#include <algorithm>

namespace runbot::telegram::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

ReplyOut ok(json result) {
  return {200, json{{"ok", true}, {"result", std::move(result)}}.dump(), {}, false};
}

ReplyOut error(int code, const std::string& description) {
  return {code, json{{"ok", false}, {"error_code", code}, {"description", description}}.dump(), {}, false};
}

// a + b, without `"literal" + std::string` (GCC 12 -Wrestrict false alarm, bug 105329).
std::string cat(std::string a, const std::string& b) {
  a += b;
  return a;
}

size_t utf16_units(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

// Telegram's checks on reply_markup; the parsed keyboard or an error text.
std::optional<std::string> read_keyboard(const json& markup, std::vector<std::vector<FakeTelegram::Button>>* out) {
  if (!markup.is_object() || !markup.contains("inline_keyboard") || !markup["inline_keyboard"].is_array())
    return "Bad Request: can't parse reply keyboard markup JSON object";
  for (const json& row : markup["inline_keyboard"]) {
    if (!row.is_array()) return "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object";
    std::vector<FakeTelegram::Button> buttons;
    for (const json& b : row) {
      if (!b.is_object() || !b.contains("text") || !b["text"].is_string() || b["text"].get<std::string>().empty())
        return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
      if (!b.contains("callback_data") || !b["callback_data"].is_string()) return "Bad Request: BUTTON_TYPE_INVALID";
      const std::string data = b["callback_data"].get<std::string>();
      if (data.empty() || data.size() > 64) return "Bad Request: BUTTON_DATA_INVALID";
      buttons.push_back({b["text"].get<std::string>(), data});
    }
    out->push_back(std::move(buttons));
  }
  return std::nullopt;
}

json keyboard_json(const std::vector<std::vector<FakeTelegram::Button>>& keyboard) {
  json rows = json::array();
  for (const auto& row : keyboard) {
    json r = json::array();
    for (const auto& b : row) r.push_back({{"text", b.text}, {"callback_data", b.callback_data}});
    rows.push_back(std::move(r));
  }
  return {{"inline_keyboard", std::move(rows)}};
}

std::optional<int64_t> read_int(const json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

FakeTelegram::FakeTelegram(std::string token) : token_(std::move(token)) {
  server_ = std::make_unique<LoopbackServer>([this](const RequestIn& req) { return handle(req); });
}

FakeTelegram::~FakeTelegram() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    changed();
  }
  server_->stop();
}

void FakeTelegram::changed() {
  ++version_;
  cv_.notify_all();
}

int64_t FakeTelegram::queue_update(json update) {
  int64_t id = next_update_id_++;
  update["update_id"] = id;
  updates_.push_back(std::move(update));
  changed();
  return id;
}

int64_t FakeTelegram::user_says(int64_t chat_id, const std::string& text) {
  std::lock_guard lock(mu_);
  json message = {{"message_id", next_message_id_++},
                  {"from", {{"id", chat_id}, {"is_bot", false}, {"first_name", "Runner"}}},
                  {"chat", {{"id", chat_id}, {"type", "private"}, {"first_name", "Runner"}}},
                  {"date", 1767225600},
                  {"text", text}};
  if (text.starts_with("/")) {
    size_t len = text.find(' ');
    message["entities"] = json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", len == std::string::npos ? text.size() : len}}});
  }
  return queue_update({{"message", std::move(message)}});
}

int64_t FakeTelegram::user_sends_photo(int64_t chat_id) {
  std::lock_guard lock(mu_);
  json message = {{"message_id", next_message_id_++},
                  {"from", {{"id", chat_id}, {"is_bot", false}, {"first_name", "Runner"}}},
                  {"chat", {{"id", chat_id}, {"type", "private"}}},
                  {"date", 1767225600},
                  {"photo", json::array({{{"file_id", "AgAD"}, {"file_unique_id", "u1"}, {"width", 90}, {"height", 90}}})}};
  return queue_update({{"message", std::move(message)}});
}

int64_t FakeTelegram::user_presses(const Sent& message, size_t row, size_t col) {
  std::lock_guard lock(mu_);
  std::string id = cat("cbq-", std::to_string(next_callback_++));
  open_callbacks_.insert(id);
  json sent_message = {{"message_id", message.message_id},
                       {"from", {{"id", 424242}, {"is_bot", true}, {"first_name", "runbot"}}},
                       {"chat", {{"id", message.chat_id}, {"type", "private"}}},
                       {"date", 1767225600},
                       {"text", message.text},
                       {"reply_markup", keyboard_json(message.keyboard)}};
  json query = {{"id", id},
                {"from", {{"id", message.chat_id}, {"is_bot", false}, {"first_name", "Runner"}}},
                {"message", std::move(sent_message)},
                {"chat_instance", "-7733"},
                {"data", message.keyboard.at(row).at(col).callback_data}};
  return queue_update({{"callback_query", std::move(query)}});
}

void FakeTelegram::push_raw(json update) {
  std::lock_guard lock(mu_);
  updates_.push_back(std::move(update));
  changed();
}

void FakeTelegram::block(int64_t chat_id) {
  std::lock_guard lock(mu_);
  blocked_.insert(chat_id);
}

void FakeTelegram::inject(const std::string& method, Fault fault, int times, int retry_after_s) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) faults_[method].emplace_back(fault, retry_after_s);
}

std::vector<FakeTelegram::Sent> FakeTelegram::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

std::vector<FakeTelegram::Sent> FakeTelegram::sent_to(int64_t chat_id) const {
  std::lock_guard lock(mu_);
  std::vector<Sent> out;
  std::copy_if(sent_.begin(), sent_.end(), std::back_inserter(out), [&](const Sent& s) { return s.chat_id == chat_id; });
  return out;
}

std::vector<std::string> FakeTelegram::sent_texts(int64_t chat_id) const {
  std::vector<std::string> out;
  for (const Sent& s : sent_to(chat_id)) out.push_back(s.text);
  return out;
}

std::vector<std::string> FakeTelegram::answered_callbacks() const {
  std::lock_guard lock(mu_);
  return answered_;
}

std::vector<FakeTelegram::Call> FakeTelegram::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

size_t FakeTelegram::unauthorized_calls() const {
  std::lock_guard lock(mu_);
  return unauthorized_;
}

int64_t FakeTelegram::confirmed_offset() const {
  std::lock_guard lock(mu_);
  return confirmed_;
}

bool FakeTelegram::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    uint64_t seen = version_;
    lock.unlock();
    if (pred()) return true;
    lock.lock();
    if (!cv_.wait_until(lock, deadline, [&] { return version_ != seen; })) {
      lock.unlock();
      return pred();
    }
  }
}

bool FakeTelegram::wait_for_sent(size_t n, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return sent().size() >= n; }, timeout);
}

ReplyOut FakeTelegram::handle(const RequestIn& req) {
  std::string prefix = "/bot";
  prefix += token_;
  prefix += '/';
  std::string method = req.target.starts_with(prefix) ? req.target.substr(prefix.size()) : "";
  std::unique_lock lock(mu_);
  if (method.empty()) {
    ++unauthorized_;
    changed();
    return error(401, "Unauthorized");
  }
  Call call{method, Clock::now(), std::nullopt};
  auto& queue = faults_[method];
  if (!queue.empty()) {
    auto [fault, retry_after] = queue.front();
    queue.pop_front();
    call.fault = fault;
    calls_.push_back(call);
    changed();
    switch (fault) {
      case Fault::kTooManyRequests: {
        json body = {{"ok", false},
                     {"error_code", 429},
                     {"description", cat("Too Many Requests: retry after ", std::to_string(retry_after))},
                     {"parameters", {{"retry_after", retry_after}}}};
        return {429, body.dump(), {{"Retry-After", std::to_string(retry_after)}}, false};
      }
      case Fault::kServerError:
        return error(500, "Internal Server Error");
      case Fault::kDrop:
        return {0, "", {}, true};
      case Fault::kGarbage:
        return {200, R"({"ok":true,"result":[{"update_id":)", {}, false};
    }
  }
  calls_.push_back(call);
  changed();
  json params = json::parse(req.body, nullptr, false);
  if (!params.is_object()) return error(400, "Bad Request: can't parse JSON");
  lock.unlock();
  if (method == "getUpdates") return get_updates(params);
  if (method == "sendMessage") return send_message(params);
  if (method == "answerCallbackQuery") return answer_callback_query(params);
  return error(404, "Not Found: method not found");
}

ReplyOut FakeTelegram::get_updates(const json& params) {
  int64_t offset = read_int(params, "offset").value_or(0);
  int64_t limit = std::clamp<int64_t>(read_int(params, "limit").value_or(100), 1, 100);
  int64_t timeout_s = std::clamp<int64_t>(read_int(params, "timeout").value_or(0), 0, 50);
  std::unique_lock lock(mu_);
  if (offset > 0) {
    confirmed_ = std::max(confirmed_, offset);
    std::erase_if(updates_, [&](const json& u) { return u.contains("update_id") && u["update_id"].is_number_integer() && u["update_id"].get<int64_t>() < offset; });
  }
  // Only one getUpdates at a time: a new one ends the one waiting, as Telegram does.
  const uint64_t generation = ++poll_generation_;
  changed();
  auto available = [&] {
    return std::any_of(updates_.begin(), updates_.end(), [&](const json& u) {
      return !u.contains("update_id") || !u["update_id"].is_number_integer() || u["update_id"].get<int64_t>() >= offset;
    });
  };
  cv_.wait_until(lock, Clock::now() + std::chrono::seconds(timeout_s),
                 [&] { return stopping_ || poll_generation_ != generation || available(); });
  if (poll_generation_ != generation)
    return error(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
  json result = json::array();
  for (auto it = updates_.begin(); it != updates_.end() && static_cast<int64_t>(result.size()) < limit;) {
    bool has_id = it->contains("update_id") && (*it)["update_id"].is_number_integer();
    if (has_id && (*it)["update_id"].get<int64_t>() < offset) {
      ++it;
      continue;
    }
    result.push_back(*it);
    // Garbage without an id cannot be confirmed: deliver it once.
    it = has_id ? std::next(it) : updates_.erase(it);
  }
  return ok(std::move(result));
}

ReplyOut FakeTelegram::send_message(const json& params) {
  std::optional<int64_t> chat = read_int(params, "chat_id");
  if (!chat) return error(400, "Bad Request: chat not found");
  auto text = params.find("text");
  if (text == params.end() || !text->is_string() || text->get<std::string>().empty())
    return error(400, "Bad Request: message text is empty");
  if (utf16_units(text->get<std::string>()) > 4096) return error(400, "Bad Request: message is too long");
  Sent s;
  s.chat_id = *chat;
  s.text = text->get<std::string>();
  s.parse_mode = params.contains("parse_mode");
  if (auto markup = params.find("reply_markup"); markup != params.end()) {
    if (auto e = read_keyboard(*markup, &s.keyboard)) return error(400, *e);
  }
  std::lock_guard lock(mu_);
  if (blocked_.count(*chat)) return error(403, "Forbidden: bot was blocked by the user");
  s.message_id = next_message_id_++;
  json result = {{"message_id", s.message_id},
                 {"from", {{"id", 424242}, {"is_bot", true}, {"first_name", "runbot"}}},
                 {"chat", {{"id", s.chat_id}, {"type", "private"}}},
                 {"date", 1767225600},
                 {"text", s.text}};
  if (!s.keyboard.empty()) result["reply_markup"] = keyboard_json(s.keyboard);
  sent_.push_back(std::move(s));
  changed();
  return ok(std::move(result));
}

ReplyOut FakeTelegram::answer_callback_query(const json& params) {
  auto id = params.find("callback_query_id");
  if (id == params.end() || !id->is_string()) return error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
  std::lock_guard lock(mu_);
  if (open_callbacks_.erase(id->get<std::string>()) == 0)
    return error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
  answered_.push_back(id->get<std::string>());
  changed();
  return ok(true);
}

}  // namespace runbot::telegram::test
