#include "bot/server/metrics.h"

#include <cstdio>

namespace runbot {
namespace {

// Bucket bounds are short decimal constants; sums need more digits.
std::string number(double v, int digits = 10) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

void counter_header(std::string* out, std::string_view name, std::string_view help, std::string_view type = "counter") {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void sample(std::string* out, std::string_view name, std::string_view labels, uint64_t value) {
  *out += name;
  *out += labels;
  *out += ' ';
  *out += std::to_string(value);
  *out += '\n';
}

constexpr std::array<std::string_view, kDropReasonCount> kDropNames = {"too_big", "bad_utf8", "flood", "slow_reader",
                                                                        "timeout", "address_rate"};

// Latency buckets from 100 us to 10 s: a reply takes tens of microseconds
// of engine time plus a store commit of milliseconds.
std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

void Histogram::render(std::string* out, std::string_view name, std::string_view help) const {
  counter_header(out, name, help, "histogram");
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    sample(out, bucket, "{le=\"" + number(bounds_[i]) + "\"}", cumulative);
  }
  cumulative += counts_[bounds_.size()].load(std::memory_order_relaxed);
  sample(out, bucket, "{le=\"+Inf\"}", cumulative);
  *out += std::string(name) + "_sum " + number(sum_.load(std::memory_order_relaxed), 15) + "\n";
  sample(out, std::string(name) + "_count", "", count_.load(std::memory_order_relaxed));
}

Metrics::Metrics() : reply_latency_(latency_buckets()), store_write_latency_(latency_buckets()) {}

void Metrics::count_reply(std::string_view intent, std::string_view triage) {
  std::lock_guard lock(replies_mu_);
  ++replies_[{std::string(intent), triage.empty() ? "none" : std::string(triage)}];
}

void Metrics::count_error(ErrorCode code) {
  errors_[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_drop(DropReason reason) {
  drops_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(size_t open_connections, bool store_ok) const {
  std::string out;
  counter_header(&out, "runbot_open_connections", "Open WebSocket connections.", "gauge");
  sample(&out, "runbot_open_connections", "", open_connections);
  counter_header(&out, "runbot_store_up", "1 when the session store accepts writes.", "gauge");
  sample(&out, "runbot_store_up", "", store_ok ? 1 : 0);
  counter_header(&out, "runbot_messages_total", "Messages received (WebSocket and POST /api/message).");
  sample(&out, "runbot_messages_total", "", messages_.load(std::memory_order_relaxed));
  counter_header(&out, "runbot_retries_total", "Retried messages answered with the stored reply.");
  sample(&out, "runbot_retries_total", "", retries_.load(std::memory_order_relaxed));
  counter_header(&out, "runbot_store_conflicts_total",
                 "Turns redone because another connection or instance committed to the session first.");
  sample(&out, "runbot_store_conflicts_total", "", conflicts_.load(std::memory_order_relaxed));

  counter_header(&out, "runbot_replies_total", "Replies sent, by intent and triage level.");
  {
    std::lock_guard lock(replies_mu_);
    for (const auto& [key, n] : replies_)
      sample(&out, "runbot_replies_total", "{intent=\"" + key.first + "\",triage=\"" + key.second + "\"}", n);
  }
  counter_header(&out, "runbot_errors_total", "Error frames sent, by code.");
  for (size_t i = 0; i < kErrorCodeCount; ++i)
    sample(&out, "runbot_errors_total",
           "{code=\"" + std::string(error_info(static_cast<ErrorCode>(i)).name) + "\"}",
           errors_[i].load(std::memory_order_relaxed));
  counter_header(&out, "runbot_dropped_connections_total", "Connections closed by the server, by reason.");
  for (size_t i = 0; i < kDropReasonCount; ++i)
    sample(&out, "runbot_dropped_connections_total", "{reason=\"" + std::string(kDropNames[i]) + "\"}",
           drops_[i].load(std::memory_order_relaxed));
  counter_header(&out, "runbot_reloads_total", "Data reloads on SIGHUP, by result.");
  sample(&out, "runbot_reloads_total", "{result=\"ok\"}", reloads_ok_.load(std::memory_order_relaxed));
  sample(&out, "runbot_reloads_total", "{result=\"refused\"}", reloads_failed_.load(std::memory_order_relaxed));

  reply_latency_.render(&out, "runbot_reply_latency_seconds",
                        "From a message's arrival to its reply being queued, store commit included.");
  store_write_latency_.render(&out, "runbot_store_write_latency_seconds",
                              "From a session write being queued to its commit.");
  return out;
}

}  // namespace runbot
