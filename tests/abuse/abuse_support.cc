#include "tests/abuse/abuse_support.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace runbot::abuse {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int fd_count(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

long raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return static_cast<long>(r.rlim_cur);
}

bool wait_until(const std::function<bool()>& done, Millis timeout, Millis every) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

long settled(const std::function<long()>& read, int alike, Millis timeout, Millis every) {
  long last = read();
  int same = 0;
  wait_until([&] {
    const long now = read();
    same = now == last ? same + 1 : 0;
    last = now;
    return same >= alike;
  }, timeout, every);
  return last;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool Probe::open(unsigned short port) { return ws_.open(port); }

std::optional<double> Probe::round_trip_ms(Millis timeout) {
  const long id = ++next_id_;
  // The same question each time (a knowledge answer), so every sample does
  // the same work: parse, classify, commit the turn, reply.
  const std::string frame = json{{"type", "message"}, {"text", "what is a bakers cyst"}, {"id", id}}.dump();
  const auto start = Clock::now();
  if (!ws_.send_text(frame)) return std::nullopt;
  for (;;) {
    auto text = ws_.read_text(timeout);
    if (!text) return std::nullopt;
    json j = json::parse(*text, nullptr, false);
    if (j.is_object() && j.value("type", "") == "reply" && j.value("reply_to", json()) == id)
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!j.is_object() || j.value("type", "") != "session") return std::nullopt;
  }
}

std::vector<double> Probe::sample(int n, Millis timeout) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    auto ms = round_trip_ms(timeout);
    if (!ms) return {};
    out.push_back(*ms);
  }
  return out;
}

const char* abuse_name(AbuseKind kind) {
  switch (kind) {
    case AbuseKind::kPingFlood: return "ping flood (4 connections, 64 pings in flight each)";
    case AbuseKind::kSlowloris: return "slowloris (200 half-open requests, a byte each per 100 ms)";
    case AbuseKind::kBadFrames: return "bad frames (handshake, unmasked frame, close 1002, again)";
    case AbuseKind::kChurn: return "churn (connects and handshakes abandoned with RST), flat out";
    case AbuseKind::kChurnPaced: return "churn at 1,000 connections/s";
    case AbuseKind::kBigTexts: return "16 KiB frames of one letter (too_long each)";
    case AbuseKind::kDeepJson: return "16 KiB of '[' (bad_json each)";
  }
  return "?";
}

std::vector<AbuseKind> all_abuse_kinds() {
  return {AbuseKind::kPingFlood, AbuseKind::kSlowloris, AbuseKind::kBadFrames, AbuseKind::kChurn,
          AbuseKind::kChurnPaced, AbuseKind::kBigTexts,  AbuseKind::kDeepJson};
}

std::vector<AbuseKind> bounded_abuse_kinds() {
  std::vector<AbuseKind> kinds = all_abuse_kinds();
  std::erase(kinds, AbuseKind::kChurn);
  return kinds;
}

Abuser::Abuser(AbuseKind kind, unsigned short port) : kind_(kind), port_(port), thread_([this] { run(); }) {}

Abuser::~Abuser() { stop(); }

void Abuser::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

namespace {

// A 16 KiB message frame (exactly the size limit) whose text is one letter
// repeated: fits the frame limit, breaks the 2,000-character limit.
std::string big_text_frame() {
  const std::string head = R"({"type":"message","text":")";
  const std::string tail = R"("})";
  return head + std::string(16 * 1024 - head.size() - tail.size(), 'a') + tail;
}

}  // namespace

void Abuser::run() {
  switch (kind_) {
    case AbuseKind::kPingFlood: {
      std::vector<RawWs> conns(4);
      const std::string batch = [] {
        std::string b;
        for (int i = 0; i < 64; ++i) b += ping_frame("0123456789abcdef");
        return b;
      }();
      while (!stop_) {
        for (auto& c : conns) {
          if (stop_) break;
          if (!c.is_open() && !c.open(port_)) continue;
          if (!c.send(batch)) {
            c.close();
            continue;
          }
          // Closed loop: read the 64 pongs before the next batch.
          for (int i = 0; i < 64; ++i) {
            Frame f;
            if (c.read_frame(&f, 5s) != ReadStatus::kFrame) {
              c.close();
              break;
            }
            if (f.opcode == kPong) ++actions_;
          }
        }
      }
      break;
    }
    case AbuseKind::kSlowloris: {
      const std::string request = RawWs::upgrade_request(port_);
      // Never the final CRLF: the request is never complete.
      const size_t stall_at = request.size() - 2;
      std::vector<RawWs> conns(200);
      std::vector<size_t> sent(conns.size(), 0);
      while (!stop_) {
        for (size_t i = 0; i < conns.size(); ++i) {
          char probe;
          // Closed by the server (the handshake deadline): start again.
          if (conns[i].is_open() && ::recv(conns[i].fd(), &probe, 1, MSG_DONTWAIT) == 0) conns[i].close();
          if (!conns[i].is_open()) {
            if (!conns[i].connect(port_)) continue;
            sent[i] = 0;
          }
          if (sent[i] < stall_at && conns[i].send(std::string_view(request).substr(sent[i], 1), 100ms)) {
            ++sent[i];
            ++actions_;
          }
        }
        // The pace of the attack, not synchronisation.
        std::this_thread::sleep_for(100ms);
      }
      break;
    }
    case AbuseKind::kBadFrames: {
      const std::vector<std::string> bad = {
          encode(FrameSpec{.opcode = kText, .payload = "{}", .mask = false}),
          encode(FrameSpec{.opcode = kText, .payload = "{}", .rsv = kRsv2}),
          encode(FrameSpec{.opcode = kReservedData, .payload = "{}"}),
          cont_frame("x", true),
          encode(FrameSpec{.opcode = kPing, .payload = "x", .fin = false}),
      };
      size_t n = 0;
      while (!stop_) {
        RawWs c;
        if (!c.open(port_)) continue;
        c.send(bad[n++ % bad.size()]);
        c.read_until_close(5s);
        ++actions_;
      }
      break;
    }
    case AbuseKind::kChurn:
    case AbuseKind::kChurnPaced: {
      size_t n = 0;
      auto next = Clock::now();
      while (!stop_) {
        if (kind_ == AbuseKind::kChurnPaced) {
          // The pace of the attack, not synchronisation.
          next += 1ms;
          std::this_thread::sleep_until(next);
        }
        RawWs c;
        if (!c.connect(port_)) continue;
        if (n++ % 2 && c.handshake(port_) != 101) continue;
        c.abort();
        ++actions_;
      }
      break;
    }
    case AbuseKind::kBigTexts:
    case AbuseKind::kDeepJson: {
      const std::string frame =
          kind_ == AbuseKind::kBigTexts ? text_frame(big_text_frame()) : text_frame(std::string(16 * 1024, '['));
      RawWs c;
      while (!stop_) {
        if (!c.is_open() && !c.open(port_)) continue;
        if (!c.send(frame) || !c.read_text(5s)) {
          c.close();
          continue;
        }
        ++actions_;
      }
      break;
    }
  }
}

}  // namespace runbot::abuse
