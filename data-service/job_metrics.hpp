#pragma once

// Counters and gauges of the job system, ready to be exported (Prometheus, issue 5). Lock-free:
// written by the API shards and the worker, read by anyone.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace switchyard::data {

struct JobMetrics {
  // Upper bounds (seconds) of the attempt duration histogram; a last bucket takes the rest.
  static constexpr std::array<double, 12> kDurationBounds = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                             0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

  // Counters.
  std::atomic<std::uint64_t> submitted{0};          // jobs accepted by SubmitJob
  std::atomic<std::uint64_t> attempts_started{0};   // attempts this process started
  std::atomic<std::uint64_t> succeeded{0};          // jobs this process moved to SUCCEEDED
  std::atomic<std::uint64_t> retried{0};            // failed attempts followed by a retry
  std::atomic<std::uint64_t> dead{0};               // jobs this process moved to DEAD
  std::atomic<std::uint64_t> stale_completions{0};  // completions that changed nothing

  // Gauges.
  std::atomic<std::int64_t> in_flight{0};  // attempts running in this process now
  // Across all workers, refreshed by the worker about once a second; -1 until first read.
  std::atomic<std::int64_t> queued{-1};
  std::atomic<std::int64_t> retrying{-1};
  std::atomic<std::int64_t> running{-1};

  // Attempt durations: a histogram (non-cumulative bucket counts), their sum and count.
  std::array<std::atomic<std::uint64_t>, kDurationBounds.size() + 1> duration_buckets{};
  std::atomic<std::uint64_t> duration_sum_us{0};
  std::atomic<std::uint64_t> duration_count{0};

  void ObserveDuration(std::chrono::microseconds duration);
};

}  // namespace switchyard::data

#include <memory>

namespace prometheus {
class Collectable;
}

namespace switchyard::data {

// Exports `metrics` in Prometheus form at each scrape: jobs_submitted_total,
// jobs_attempts_total, jobs_succeeded_total, jobs_retried_total, jobs_dead_total,
// jobs_stale_completions_total, jobs_in_flight, jobs_queue_depth{state}, job_duration_seconds.
// `metrics` must outlive the collector.
std::shared_ptr<prometheus::Collectable> MakeJobMetricsCollector(const JobMetrics& metrics);

}  // namespace switchyard::data
