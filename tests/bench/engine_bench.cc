// engine_bench: replays the dev sets through Engine::handle, with the state's
// JSON round trip each turn (as the server does), single-threaded, and prints
// throughput, latency percentiles, load time and resident memory. A baseline
// in the same run (the JSON round trip alone) shows what the engine adds.
//
//   engine_bench [--seconds S] [--data DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bot/data_files.h"
#include "bot/engine.h"

using namespace runbot;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Conversations to replay: each NLU line is a one-message conversation.
std::vector<std::vector<std::string>> load_workload(const std::string& root) {
  std::vector<std::vector<std::string>> convs;
  std::ifstream nlu(root + "/tests/eval/dev_nlu.jsonl");
  for (std::string line; std::getline(nlu, line);)
    convs.push_back({nlohmann::json::parse(line)["text"].get<std::string>()});
  std::ifstream conv(root + "/tests/eval/dev_conversations.jsonl");
  for (std::string line; std::getline(conv, line);) {
    std::vector<std::string> turns;
    const nlohmann::json doc = nlohmann::json::parse(line);  // kept alive for the loop
    for (const auto& t : doc.at("turns")) turns.push_back(t.at("user").get<std::string>());
    convs.push_back(turns);
  }
  return convs;
}

struct Result {
  size_t messages = 0;
  double seconds = 0;
  std::vector<double> latencies_us;
};

template <typename Fn>
Result replay(const std::vector<std::vector<std::string>>& convs, double seconds, Fn&& step) {
  Result r;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  r.latencies_us.reserve(1 << 20);
  while (Clock::now() < deadline) {
    for (const auto& conv : convs) {
      std::string stored = to_json(SessionState{}).dump();
      for (const auto& text : conv) {
        auto t0 = Clock::now();
        stored = step(stored, text);
        auto t1 = Clock::now();
        r.latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        ++r.messages;
      }
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  return r;
}

double pct(const std::vector<double>& v, double p) {
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void print(const char* name, const Result& r) {
  std::printf("%-34s %10.0f msg/s   p50 %6.2f us   p99 %6.2f us   max %8.1f us   (%zu messages)\n", name,
              r.messages / r.seconds, pct(r.latencies_us, 0.50), pct(r.latencies_us, 0.99),
              r.latencies_us.empty() ? 0 : r.latencies_us.back(), r.messages);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string root = default_data_root();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--data")) root = argv[i + 1];
  }
  const long rss_before = rss_kib();
  const auto t0 = Clock::now();
  LoadErrors errors;
  auto engine = load_engine(root, &errors);
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!engine) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 2;
  }
  const long rss_loaded = rss_kib();
  auto convs = load_workload(root);
  size_t n = 0;
  for (const auto& c : convs) n += c.size();
  std::printf("runbot engine benchmark: %zu conversations, %zu messages per pass, %.0f s per run\n", convs.size(), n,
              seconds);
  std::printf("load and compile all data: %.1f ms\n", load_ms);
  std::printf("resident memory: %.1f MB before load, %.1f MB after load\n", rss_before / 1024.0,
              rss_loaded / 1024.0);

  // Baseline: only the state's JSON round trip, which every turn also pays.
  Result base = replay(convs, seconds / 3, [](const std::string& stored, const std::string&) {
    SessionState s = session_state_from_string(stored);
    ++s.turns;
    return to_json(s).dump();
  });
  Result full = replay(convs, seconds, [&](const std::string& stored, const std::string& text) {
    SessionState s = session_state_from_string(stored);
    HandleResult r = engine->handle(s, text);
    std::string reply = to_json(r.reply).dump();  // what the server sends
    (void)reply;
    return to_json(r.state).dump();
  });
  Result norm = replay(convs, seconds / 3, [&](const std::string& stored, const std::string& text) {
    auto normalized = engine->classifier().normalizer().normalize(text);
    return normalized.empty() ? stored : stored;
  });
  Result cls = replay(convs, seconds / 3, [&](const std::string& stored, const std::string& text) {
    auto c = engine->classifier().classify(text, {});
    return c.intent.empty() ? std::string() : stored;
  });
  SessionState fresh;
  Result handle_only = replay(convs, seconds / 3, [&](const std::string& stored, const std::string& text) {
    HandleResult r = engine->handle(fresh, text);
    return r.reply.text.empty() ? std::string() : stored;
  });
  // Unseen text: messages the engine has never handled (the other eval
  // sets), each once, after the warm-up above. RE2 builds DFA states lazily,
  // so this is what a server sees for new messages.
  std::vector<std::string> unseen;
  for (const char* f : {"holdout_nlu", "blind_nlu", "final_nlu", "clinc150_oos"}) {
    std::ifstream in(root + "/tests/eval/" + f + ".jsonl");
    for (std::string line; std::getline(in, line);)
      unseen.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  }
  Result first_sight;
  {
    const auto unseen_start = Clock::now();
    for (const auto& text : unseen) {
      auto a = Clock::now();
      HandleResult r = engine->handle(SessionState{}, text);
      std::string reply = to_json(r.reply).dump();
      first_sight.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
      ++first_sight.messages;
    }
    first_sight.seconds = std::chrono::duration<double>(Clock::now() - unseen_start).count();
    std::sort(first_sight.latencies_us.begin(), first_sight.latencies_us.end());
  }
  print("baseline: state JSON round trip", base);
  print("part: normalize", norm);
  print("part: classify (incl. normalize)", cls);
  print("part: handle, no JSON, fresh state", handle_only);
  print("engine: handle + state + reply JSON", full);
  print("engine: unseen messages, first sight", first_sight);
  std::printf("resident memory after run: %.1f MB\n", rss_kib() / 1024.0);
  return 0;
}
