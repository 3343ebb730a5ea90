#include "data-service/job_metrics.hpp"

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
