#include "data-service/job_metrics.hpp"

#include <limits>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace switchyard::data {

void JobMetrics::ObserveDuration(std::chrono::microseconds duration) {
  const auto micros = duration.count() < 0 ? 0 : duration.count();
  const double seconds = static_cast<double>(micros) / 1e6;
  std::size_t bucket = 0;
  while (bucket < kDurationBounds.size() && seconds > kDurationBounds[bucket]) ++bucket;
  duration_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  duration_sum_us.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
  duration_count.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace switchyard::data

namespace switchyard::data {

namespace {

class JobMetricsCollector final : public prometheus::Collectable {
 public:
  explicit JobMetricsCollector(const JobMetrics& metrics) : metrics_(metrics) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    const auto counter = [&](const char* name, const char* help,
                             const std::atomic<std::uint64_t>& value) {
      prometheus::MetricFamily family{name, help, prometheus::MetricType::Counter, {}};
      prometheus::ClientMetric metric;
      metric.counter.value = static_cast<double>(value.load(std::memory_order_relaxed));
      family.metric.push_back(std::move(metric));
      families.push_back(std::move(family));
    };
    counter("jobs_submitted_total", "Jobs accepted by SubmitJob.", metrics_.submitted);
    counter("jobs_attempts_total", "Job attempts started by this process.",
            metrics_.attempts_started);
    counter("jobs_succeeded_total", "Jobs this process completed successfully.",
            metrics_.succeeded);
    counter("jobs_retried_total", "Failed attempts that were scheduled again.", metrics_.retried);
    counter("jobs_dead_total", "Jobs that failed every attempt.", metrics_.dead);
    counter("jobs_stale_completions_total",
            "Completions of attempts that were no longer current (changed nothing).",
            metrics_.stale_completions);

    prometheus::MetricFamily in_flight{
        "jobs_in_flight", "Attempts running in this process.", prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric running_here;
    running_here.gauge.value = static_cast<double>(metrics_.in_flight.load());
    in_flight.metric.push_back(std::move(running_here));
    families.push_back(std::move(in_flight));

    prometheus::MetricFamily depth{
        "jobs_queue_depth", "Jobs by state across all workers.", prometheus::MetricType::Gauge, {}};
    for (const auto& [state, value] :
         {std::pair<const char*, const std::atomic<std::int64_t>*>{"queued", &metrics_.queued},
          {"retrying", &metrics_.retrying},
          {"running", &metrics_.running}}) {
      const std::int64_t count = value->load(std::memory_order_relaxed);
      if (count < 0) continue;  // not read from Redis yet
      prometheus::ClientMetric metric;
      metric.label.push_back({"state", state});
      metric.gauge.value = static_cast<double>(count);
      depth.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(depth));

    prometheus::MetricFamily duration{
        "job_duration_seconds", "Job attempt durations.", prometheus::MetricType::Histogram, {}};
    prometheus::ClientMetric histogram;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < JobMetrics::kDurationBounds.size(); ++i) {
      cumulative += metrics_.duration_buckets[i].load(std::memory_order_relaxed);
      histogram.histogram.bucket.push_back({cumulative, JobMetrics::kDurationBounds[i]});
    }
    cumulative += metrics_.duration_buckets.back().load(std::memory_order_relaxed);
    histogram.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    histogram.histogram.sample_count = metrics_.duration_count.load(std::memory_order_relaxed);
    histogram.histogram.sample_sum =
        static_cast<double>(metrics_.duration_sum_us.load(std::memory_order_relaxed)) / 1e6;
    duration.metric.push_back(std::move(histogram));
    families.push_back(std::move(duration));
    return families;
  }

 private:
  const JobMetrics& metrics_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> MakeJobMetricsCollector(const JobMetrics& metrics) {
  return std::make_shared<JobMetricsCollector>(metrics);
}

}  // namespace switchyard::data
