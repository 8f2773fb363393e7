#include "tests/bridges/fake_runbot.h"

namespace runbot::telegram::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

ReplyOut error_reply(int status, const std::string& code, const std::string& message) {
  return {status, json{{"type", "error"}, {"code", code}, {"message", message}}.dump(), {}, false};
}

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

FakeRunbot::FakeRunbot() {
  server_ = std::make_unique<LoopbackServer>([this](const RequestIn& req) { return handle(req); });
}

FakeRunbot::~FakeRunbot() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    changed();
  }
  server_->stop();
}

void FakeRunbot::changed() {
  ++version_;
  cv_.notify_all();
}

void FakeRunbot::inject(Fault fault, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) faults_.push_back(fault);
}

void FakeRunbot::hold(const std::string& prefix) {
  std::lock_guard lock(mu_);
  held_prefix_ = prefix;
  released_ = false;
}

void FakeRunbot::release() {
  std::lock_guard lock(mu_);
  released_ = true;
  changed();
}

std::vector<FakeRunbot::Turn> FakeRunbot::turns() const {
  std::lock_guard lock(mu_);
  return turns_;
}

size_t FakeRunbot::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t FakeRunbot::replays() const {
  std::lock_guard lock(mu_);
  return replays_;
}

std::vector<json> FakeRunbot::bodies() const {
  std::lock_guard lock(mu_);
  return bodies_;
}

bool FakeRunbot::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const {
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

ReplyOut FakeRunbot::handle(const RequestIn& req) {
  if (req.target != "/api/message" || req.method != "POST") return error_reply(404, "not_found", "not found");
  std::unique_lock lock(mu_);
  ++requests_;
  json body = json::parse(req.body, nullptr, false);
  bodies_.push_back(body);
  changed();
  Fault fault{};
  bool faulty = !faults_.empty();
  if (faulty) {
    fault = faults_.front();
    faults_.pop_front();
    switch (fault) {
      case Fault::kServerError: return error_reply(500, "internal", "something went wrong on our side; try again");
      case Fault::kOverloaded: {
        ReplyOut r = error_reply(503, "overloaded", "the server is busy; try again shortly");
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      case Fault::kDropBeforeTurn: return {0, "", {}, true};
      case Fault::kGarbage: return {200, "<html>502 Bad Gateway</html>", {}, false};
      case Fault::kDropAfterTurn: break;  // below, once the turn is stored
    }
  }
  if (!body.is_object()) return error_reply(400, "bad_json", "the frame is not valid JSON");
  auto text_it = body.find("text");
  if (text_it == body.end() || !text_it->is_string() || text_it->get<std::string>().empty())
    return error_reply(400, "bad_request", "text is missing");
  const std::string text = text_it->get<std::string>();
  if (utf8_chars(text) > 2000) return error_reply(400, "too_long", "text is longer than 2000 characters");
  json id = body.value("id", json(nullptr));

  std::string token;
  if (auto s = body.find("session"); s != body.end() && s->is_string() && sessions_.count(s->get<std::string>())) {
    token = s->get<std::string>();
  } else {
    token = "sess-";
    token += std::to_string(next_session_++);
    sessions_[token] = {};
  }
  Session& session = sessions_[token];
  if (!id.is_null() && session.last_id == id.dump()) {
    ++replays_;
    changed();
    return {200, session.last_reply.dump(), {}, false};
  }

  json quick = json::array({"Yes", "No"});
  if (text.starts_with("long")) quick = json::array({"Yes", kLongQuickReply});
  if (text.starts_with("quiet")) quick = json::array();
  std::string answer = "you said: ";
  answer += text;
  json reply = {{"type", "reply"},          {"reply_to", id},         {"text", answer},
                {"intent", "out_of_scope"}, {"confidence", 0.5},      {"entities", json::object()},
                {"triage", nullptr},        {"expecting", nullptr},   {"quick_replies", quick},
                {"sources", json::array()}, {"session", token}};
  session.last_id = id.is_null() ? "" : id.dump();
  session.last_reply = reply;
  turns_.push_back({token, id.is_string() ? id.get<std::string>() : id.dump(), text});
  changed();
  if (faulty && fault == Fault::kDropAfterTurn) return {0, "", {}, true};
  if (!held_prefix_.empty() && text.starts_with(held_prefix_)) {
    cv_.wait_until(lock, Clock::now() + std::chrono::seconds(10), [&] { return released_ || stopping_; });
  }
  return {200, reply.dump(), {}, false};
}

}  // namespace runbot::telegram::test
