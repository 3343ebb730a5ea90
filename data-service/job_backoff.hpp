#pragma once

// The delay before a failed job's next attempt: exponential, capped, with jitter.

#include <chrono>
#include <cstdint>

namespace switchyard::data {

// Delay after failed attempt number `attempt` (1 for the first). With the nominal delay
// n = base * 2^(attempt - 1), the result is drawn by `jitter` in [0, 1] from
//   [min(n, 0.8 * max), min(1.25 * n, max)]:
// never above `max`, never below the nominal delay until that nears the cap, and spread by up to
// a quarter so that jobs failing together do not retry together. `max` below `base` acts as both.
std::chrono::milliseconds RetryDelay(std::int32_t attempt, std::chrono::milliseconds base,
                                     std::chrono::milliseconds max, double jitter);

}  // namespace switchyard::data
