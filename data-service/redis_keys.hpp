#pragma once

// data-service's Redis key layout, in one place (README "data-service's Redis layout").

#include <string>
#include <string_view>

namespace switchyard::data::keys {

// Data items.
inline constexpr std::string_view kItemPrefix = "sy:data:item:";   // hash per key
inline constexpr std::string_view kItemIndex = "sy:data:keys";     // zset, score 0, by key
inline constexpr std::string_view kDataEvents = "sy:data:events";  // stream: one entry per change

// Jobs.
inline constexpr std::string_view kJobPrefix = "sy:job:";               // hash per job id
inline constexpr std::string_view kJobsAll = "sy:jobs:all";             // zset: id by seq
inline constexpr std::string_view kJobsStatePrefix = "sy:jobs:state:";  // zset per state
inline constexpr std::string_view kJobsSeq = "sy:jobs:seq";             // submission counter
inline constexpr std::string_view kJobStream = "sy:jobs:stream";        // stream: job=<id>
inline constexpr std::string_view kJobDelayed = "sy:jobs:delayed";      // zset: id by due µs
inline constexpr std::string_view kJobGroup = "workers";                // consumer group
inline constexpr std::string_view kJobEvents = "sy:jobs:events";        // stream: job changes

// How many entries each change stream keeps, roughly (XADD MAXLEN ~): a watch can resume from a
// position at most this many changes back.
inline constexpr int kEventRetention = 100000;

inline std::string Join(std::string_view prefix, std::string_view rest) {
  std::string key(prefix);
  key.append(rest);
  return key;
}

inline std::string Item(std::string_view key) { return Join(kItemPrefix, key); }
inline std::string Job(std::string_view id) { return Join(kJobPrefix, id); }
// `state_name` is a JobStateName(): queued, running, retrying, succeeded, dead.
inline std::string JobsInState(std::string_view state_name) {
  return Join(kJobsStatePrefix, state_name);
}

}  // namespace switchyard::data::keys
