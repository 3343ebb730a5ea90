#include "data-service/job_backoff.hpp"

#include <algorithm>
#include <cmath>

namespace switchyard::data {

std::chrono::milliseconds RetryDelay(std::int32_t attempt, std::chrono::milliseconds base,
                                     std::chrono::milliseconds max, double jitter) {
  using std::chrono::milliseconds;
  base = std::max(base, milliseconds(1));
  max = std::max(max, milliseconds(1));
  milliseconds nominal = base;
  for (std::int32_t i = 1; i < attempt && nominal < max; ++i) nominal *= 2;
  const double n = static_cast<double>(std::min(nominal, max).count());
  const double cap = static_cast<double>(max.count());
  if (!(jitter >= 0.0)) jitter = 0.0;  // also catches NaN
  jitter = std::min(jitter, 1.0);
  const double low = std::min(n, 0.8 * cap);
  const double high = std::min(1.25 * n, cap);
  const double delay = low + (high - low) * jitter;
  return milliseconds(static_cast<milliseconds::rep>(std::llround(std::clamp(delay, low, high))));
}

}  // namespace switchyard::data
