#pragma once

// Small helpers shared by data-service's Redis stores.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "common/redis/redis_reply.hpp"
#include "common/service/call_context.hpp"

namespace switchyard::data::redis_util {

// Scripts that write start with kLuaNow: they stamp writes with Redis's clock (TIME), so items,
// jobs and GetTime share one clock whichever replica wrote them. `now` is a decimal string of
// microseconds since the Unix epoch, `now_us` the same as a Lua number (exact below 2^53).
inline constexpr std::string_view kLuaNow = R"lua(
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', tonumber(t[2]))
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
)lua";

// Scripts that change a job end with kLuaJobEvent's job_event(events, job key, id): it appends
// the job's changing fields, as they are now, to the job change stream (WatchJob reads it).
// The MAXLEN literal is keys::kEventRetention.
inline constexpr std::string_view kLuaJobEvent = R"lua(
local function job_event(events, key, id)
  local e = redis.call('HMGET', key, 'state', 'attempts', 'last_error', 'result', 'updated',
                       'next_attempt')
  redis.call('XADD', events, 'MAXLEN', '~', '100000', '*', 'job', id, 'state', e[1] or '',
             'attempts', e[2] or '0', 'last_error', e[3] or '', 'result', e[4] or '',
             'updated', e[5] or '0', 'next_attempt', e[6] or '0')
end
)lua";

inline std::optional<Deadline> OptionalDeadline(Deadline deadline) {
  if (deadline == Deadline::max()) return std::nullopt;
  return deadline;
}

// A decimal integer from a bulk string or an integer reply; 0 when it is neither.
inline std::int64_t ToInt(const redis::Reply& reply) {
  if (reply.type == redis::Reply::Type::kInteger) return static_cast<std::int64_t>(reply.integer);
  std::int64_t value = 0;
  std::from_chars(reply.str.data(), reply.str.data() + reply.str.size(), value);
  return value;
}

inline bool IsText(const redis::Reply& reply) {
  return reply.type == redis::Reply::Type::kString || reply.type == redis::Reply::Type::kStatus;
}

// Redis answered something the store never writes: the data or a script is broken.
inline absl::Status Unexpected(std::string_view store, std::string_view what) {
  return absl::InternalError("unexpected reply from the " + std::string(store) + " (" +
                             std::string(what) + ")");
}

// An error reply (LOADING, READONLY, OOM, a broken script) is the store being unable to serve:
// callers see UNAVAILABLE, never Redis's own words.
inline absl::StatusOr<redis::Reply> Checked(absl::StatusOr<redis::Reply> reply,
                                            std::string_view store) {
  if (reply.ok() && reply->type == redis::Reply::Type::kError) {
    return absl::UnavailableError(std::string(store) + " is not able to serve the request");
  }
  return reply;
}

}  // namespace switchyard::data::redis_util
