// Server metrics, rendered in the Prometheus text format for GET /metrics:
// open connections, messages, replies by intent and triage level, errors by
// code, dropped connections by reason, reply latency and store write
// latency histograms. No label ever holds user text.
//
// Thread safety: every method is safe from any thread (atomics; one mutex
// for the labelled reply counters).
#ifndef RUNBOT_BOT_SERVER_METRICS_H_
#define RUNBOT_BOT_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bot/server/protocol.h"

namespace runbot {

class Histogram {
 public:
  // Upper bounds of the buckets in seconds, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  void render(std::string* out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Why the server dropped a connection.
// kAddressRate: closed at accept, the address opened connections too fast
// (--connection-rate).
enum class DropReason { kTooBig, kBadUtf8, kFlood, kSlowReader, kTimeout, kAddressRate };
inline constexpr size_t kDropReasonCount = 6;

class Metrics {
 public:
  Metrics();

  void count_message() { messages_.fetch_add(1, std::memory_order_relaxed); }
  void count_retry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  // A turn redone because another writer committed to its session first.
  void count_conflict() { conflicts_.fetch_add(1, std::memory_order_relaxed); }
  void count_reply(std::string_view intent, std::string_view triage);
  void count_error(ErrorCode code);
  void count_drop(DropReason reason);
  void count_reload(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed); }

  Histogram& reply_latency() { return reply_latency_; }
  Histogram& store_write_latency() { return store_write_latency_; }

  // The whole exposition; open_connections is the server's live count.
  std::string render(size_t open_connections, bool store_ok) const;

 private:
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> conflicts_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::array<std::atomic<uint64_t>, kErrorCodeCount> errors_{};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops_{};
  mutable std::mutex replies_mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> replies_;  // GUARDED_BY(replies_mu_)
  Histogram reply_latency_;
  Histogram store_write_latency_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_METRICS_H_
