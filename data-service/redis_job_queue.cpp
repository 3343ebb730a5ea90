#include "data-service/redis_job_queue.hpp"

#include <utility>

#include "data-service/job_store.hpp"
#include "data-service/redis_keys.hpp"
#include "data-service/redis_util.hpp"

namespace switchyard::data {

namespace {

using redis_util::IsText;
using redis_util::kLuaJobEvent;
using redis_util::kLuaNow;
using redis_util::ToInt;

constexpr std::string_view kStore = "job queue";

// After kLuaNow and kLuaJobEvent. KEYS: job, stream, queued, running, dead, events.
// ARGV: id, entry, group.
// Returns {'RUN', attempt, max_attempts, type, payload}, {'SKIP', state} or {'DEAD', error}.
constexpr std::string_view kStartScript = R"lua(
local function drop()
  redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
end
local f = redis.call('HMGET', KEYS[1], 'state', 'entry', 'attempts', 'max_attempts', 'type',
                     'payload', 'seq')
if not f[1] then
  drop()
  return {'SKIP', 'missing'}
end
if f[2] ~= ARGV[2] or (f[1] ~= 'queued' and f[1] ~= 'running') then
  drop()
  return {'SKIP', f[1]}
end
local attempts = tonumber(f[3])
if f[1] == 'running' then
  -- Taken over: the worker of the current attempt stopped answering.
  local lost = 'attempt ' .. attempts .. ' was abandoned: its worker stopped before finishing it'
  if attempts >= tonumber(f[4]) then
    redis.call('HSET', KEYS[1], 'state', 'dead', 'last_error', lost, 'updated', now,
               'entry', '', 'next_attempt', 0)
    redis.call('ZREM', KEYS[4], ARGV[1])
    redis.call('ZADD', KEYS[5], f[7], ARGV[1])
    drop()
    job_event(KEYS[6], KEYS[1], ARGV[1])
    return {'DEAD', lost}
  end
  redis.call('HSET', KEYS[1], 'last_error', lost)
end
attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'updated', now, 'next_attempt', 0)
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], f[7], ARGV[1])
job_event(KEYS[6], KEYS[1], ARGV[1])
return {'RUN', attempts, f[4], f[5], f[6]}
)lua";

// After kLuaNow and kLuaJobEvent. KEYS: job, stream, running, succeeded, events.
// ARGV: id, attempt, entry, group, result.
// Returns {'SUCCEEDED'} or {'STALE', state}.
constexpr std::string_view kSucceedScript = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'entry', 'seq')
if f[1] ~= 'running' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then
  return {'STALE', f[1] or 'missing'}
end
redis.call('HSET', KEYS[1], 'state', 'succeeded', 'result', ARGV[5], 'updated', now,
           'entry', '', 'next_attempt', 0)
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], f[4], ARGV[1])
redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
job_event(KEYS[5], KEYS[1], ARGV[1])
return {'SUCCEEDED'}
)lua";

// After kLuaNow and kLuaJobEvent. KEYS: job, stream, running, retrying, dead, delayed, events.
// ARGV: id, attempt, entry, group, error, retry delay (µs).
// Returns {'RETRYING', next_attempt}, {'DEAD'} or {'STALE', state}.
constexpr std::string_view kFailScript = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'entry', 'seq', 'max_attempts')
if f[1] ~= 'running' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then
  return {'STALE', f[1] or 'missing'}
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
if tonumber(f[2]) >= tonumber(f[5]) then
  redis.call('HSET', KEYS[1], 'state', 'dead', 'last_error', ARGV[5], 'updated', now,
             'entry', '', 'next_attempt', 0)
  redis.call('ZADD', KEYS[5], f[4], ARGV[1])
  job_event(KEYS[7], KEYS[1], ARGV[1])
  return {'DEAD'}
end
local due = string.format('%.0f', now_us + tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'state', 'retrying', 'last_error', ARGV[5], 'updated', now,
           'entry', '', 'next_attempt', due)
redis.call('ZADD', KEYS[4], f[4], ARGV[1])
redis.call('ZADD', KEYS[6], due, ARGV[1])
job_event(KEYS[7], KEYS[1], ARGV[1])
return {'RETRYING', due}
)lua";

// After kLuaNow and kLuaJobEvent. KEYS: delayed, stream, retrying, queued, events.
// ARGV: limit, job key prefix.
// Returns how many jobs were queued again. The job hashes are named from the ids, which is fine
// on a single Redis (not on a cluster).
constexpr std::string_view kPromoteScript = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[2] .. id
  local f = redis.call('HMGET', key, 'state', 'seq')
  if f[1] == 'retrying' then
    local entry = redis.call('XADD', KEYS[2], '*', 'job', id)
    redis.call('HSET', key, 'state', 'queued', 'entry', entry, 'updated', now, 'next_attempt', 0)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZADD', KEYS[4], f[2], id)
    job_event(KEYS[5], key, id)
    moved = moved + 1
  end
end
return moved
)lua";

// KEYS: stream. ARGV: group, entry, consumer. 1 when the entry was still the consumer's and its
// idle time is reset, else 0.
constexpr std::string_view kHeartbeatScript = R"lua(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[3])
if #p == 0 then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1
)lua";

// KEYS: stream. ARGV: group, consumer. 1 when the consumer had nothing pending and is gone.
constexpr std::string_view kRetireScript = R"lua(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then
  return 0
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
)lua";

// KEYS: queued, retrying, running. Returns their sizes.
constexpr std::string_view kDepthScript = R"lua(
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3])}
)lua";

const redis::Script& StartScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kLuaJobEvent) +
                                    std::string(kStartScript)};
  return script;
}
const redis::Script& SucceedScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kLuaJobEvent) +
                                    std::string(kSucceedScript)};
  return script;
}
const redis::Script& FailScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kLuaJobEvent) +
                                    std::string(kFailScript)};
  return script;
}
const redis::Script& PromoteScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kLuaJobEvent) +
                                    std::string(kPromoteScript)};
  return script;
}
const redis::Script& HeartbeatScript() {
  static const redis::Script script{std::string(kHeartbeatScript)};
  return script;
}
const redis::Script& RetireScript() {
  static const redis::Script script{std::string(kRetireScript)};
  return script;
}
const redis::Script& DepthScript() {
  static const redis::Script script{std::string(kDepthScript)};
  return script;
}

absl::Status Unexpected(std::string_view what) { return redis_util::Unexpected(kStore, what); }

absl::StatusOr<redis::Reply> Checked(absl::StatusOr<redis::Reply> reply) {
  return redis_util::Checked(std::move(reply), kStore);
}

std::string StateName(JobState state) { return std::string(JobStateName(state)); }

// Stream entries as XREADGROUP and XAUTOCLAIM give them: [[id, [field, value, ...]], ...]. An
// entry deleted meanwhile has nil fields; it becomes a Delivery without a job, which Start
// acknowledges and skips.
bool ParseEntries(const redis::Reply& entries, std::vector<Delivery>& out) {
  if (entries.type != redis::Reply::Type::kArray) return false;
  for (const redis::Reply& entry : entries.elements) {
    if (entry.type != redis::Reply::Type::kArray || entry.elements.size() != 2 ||
        !IsText(entry.elements[0])) {
      return false;
    }
    Delivery delivery;
    delivery.entry_id = entry.elements[0].str;
    const redis::Reply& fields = entry.elements[1];
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str == "job") delivery.job_id = fields.elements[i + 1].str;
    }
    out.push_back(std::move(delivery));
  }
  return true;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

RedisJobQueue::RedisJobQueue(redis::RedisClient& client, redis::RedisClient& reader)
    : client_(client), reader_(reader) {
  for (const redis::Script* script :
       {&StartScript(), &SucceedScript(), &FailScript(), &PromoteScript(), &HeartbeatScript(),
        &RetireScript(), &DepthScript()}) {
    client_.RegisterScript(script);
  }
}

boost::asio::awaitable<absl::Status> RedisJobQueue::EnsureGroup() {
  std::vector<std::string> command = {
      "XGROUP", "CREATE",  std::string(keys::kJobStream), std::string(keys::kJobGroup),
      "0",      "MKSTREAM"};
  auto reply = co_await client_.Command(std::move(command));
  if (!reply.ok()) co_return reply.status();
  if (reply->IsError() && !StartsWith(reply->str, "BUSYGROUP")) {
    co_return absl::UnavailableError("cannot create the job consumer group: " + reply->str);
  }
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::StatusOr<std::vector<Delivery>>> RedisJobQueue::Read(
    std::string consumer, std::int32_t count, std::chrono::milliseconds block) {
  std::vector<std::string> command = {"XREADGROUP",
                                      "GROUP",
                                      std::string(keys::kJobGroup),
                                      std::move(consumer),
                                      "COUNT",
                                      std::to_string(count),
                                      "BLOCK",
                                      std::to_string(block.count()),
                                      "STREAMS",
                                      std::string(keys::kJobStream),
                                      ">"};
  auto reply = co_await reader_.Command(std::move(command));
  if (!reply.ok()) co_return reply.status();
  if (reply->IsError()) {
    if (StartsWith(reply->str, "NOGROUP")) {
      co_return absl::FailedPreconditionError("the job consumer group does not exist");
    }
    co_return absl::UnavailableError("job queue is not able to serve the request");
  }
  std::vector<Delivery> deliveries;
  if (reply->IsNil()) co_return deliveries;  // BLOCK timed out
  if (reply->type != redis::Reply::Type::kArray) co_return Unexpected("read");
  for (const redis::Reply& stream : reply->elements) {
    if (stream.type != redis::Reply::Type::kArray || stream.elements.size() != 2 ||
        !ParseEntries(stream.elements[1], deliveries)) {
      co_return Unexpected("read");
    }
  }
  co_return deliveries;
}

boost::asio::awaitable<absl::StatusOr<std::vector<Delivery>>> RedisJobQueue::Claim(
    std::string consumer, std::chrono::milliseconds min_idle, std::string& cursor,
    std::int32_t count) {
  std::vector<std::string> command = {"XAUTOCLAIM",
                                      std::string(keys::kJobStream),
                                      std::string(keys::kJobGroup),
                                      std::move(consumer),
                                      std::to_string(min_idle.count()),
                                      cursor,
                                      "COUNT",
                                      std::to_string(count)};
  auto reply = co_await client_.Command(std::move(command));
  if (!reply.ok()) co_return reply.status();
  if (reply->IsError()) {
    if (StartsWith(reply->str, "NOGROUP")) {
      co_return absl::FailedPreconditionError("the job consumer group does not exist");
    }
    co_return absl::UnavailableError("job queue is not able to serve the request");
  }
  // [next cursor, [entries...], [deleted ids...]] (the third part since Redis 7).
  std::vector<Delivery> deliveries;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() < 2 ||
      !IsText(reply->elements[0]) || !ParseEntries(reply->elements[1], deliveries)) {
    co_return Unexpected("claim");
  }
  cursor = reply->elements[0].str;
  co_return deliveries;
}

boost::asio::awaitable<absl::StatusOr<AttemptStart>> RedisJobQueue::Start(Delivery delivery) {
  std::vector<std::string> keys = {keys::Job(delivery.job_id),
                                   std::string(keys::kJobStream),
                                   keys::JobsInState(StateName(JobState::kQueued)),
                                   keys::JobsInState(StateName(JobState::kRunning)),
                                   keys::JobsInState(StateName(JobState::kDead)),
                                   std::string(keys::kJobEvents)};
  std::vector<std::string> args = {delivery.job_id, delivery.entry_id,
                                   std::string(keys::kJobGroup)};
  auto reply = Checked(co_await client_.Eval(StartScript(), std::move(keys), std::move(args),
                                             std::nullopt, redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() < 2 || !IsText(e[0])) {
    co_return Unexpected("start");
  }
  AttemptStart start;
  if (e[0].str == "SKIP") {
    start.outcome = AttemptStart::Outcome::kSkip;
    start.detail = e[1].str;
  } else if (e[0].str == "DEAD") {
    start.outcome = AttemptStart::Outcome::kDead;
    start.detail = e[1].str;
  } else if (e[0].str == "RUN" && e.size() == 5) {
    start.outcome = AttemptStart::Outcome::kRun;
    start.attempt = static_cast<std::int32_t>(ToInt(e[1]));
    start.max_attempts = static_cast<std::int32_t>(ToInt(e[2]));
    start.type = e[3].str;
    start.payload_json = e[4].str;
  } else {
    co_return Unexpected("start");
  }
  co_return start;
}

boost::asio::awaitable<absl::StatusOr<Completion>> RedisJobQueue::Succeed(Delivery delivery,
                                                                          std::int32_t attempt,
                                                                          std::string result_json) {
  std::vector<std::string> keys = {keys::Job(delivery.job_id), std::string(keys::kJobStream),
                                   keys::JobsInState(StateName(JobState::kRunning)),
                                   keys::JobsInState(StateName(JobState::kSucceeded)),
                                   std::string(keys::kJobEvents)};
  std::vector<std::string> args = {delivery.job_id, std::to_string(attempt), delivery.entry_id,
                                   std::string(keys::kJobGroup), std::move(result_json)};
  auto reply = Checked(co_await client_.Eval(SucceedScript(), std::move(keys), std::move(args),
                                             std::nullopt, redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || !IsText(e[0])) {
    co_return Unexpected("succeed");
  }
  Completion completion;
  if (e[0].str == "SUCCEEDED") {
    completion.outcome = Completion::Outcome::kSucceeded;
  } else if (e[0].str == "STALE" && e.size() == 2) {
    completion.outcome = Completion::Outcome::kStale;
    completion.state = e[1].str;
  } else {
    co_return Unexpected("succeed");
  }
  co_return completion;
}

boost::asio::awaitable<absl::StatusOr<Completion>> RedisJobQueue::Fail(
    Delivery delivery, std::int32_t attempt, std::string error,
    std::chrono::milliseconds retry_delay) {
  std::vector<std::string> keys = {keys::Job(delivery.job_id),
                                   std::string(keys::kJobStream),
                                   keys::JobsInState(StateName(JobState::kRunning)),
                                   keys::JobsInState(StateName(JobState::kRetrying)),
                                   keys::JobsInState(StateName(JobState::kDead)),
                                   std::string(keys::kJobDelayed),
                                   std::string(keys::kJobEvents)};
  const auto delay_us = std::chrono::duration_cast<std::chrono::microseconds>(retry_delay);
  std::vector<std::string> args = {delivery.job_id,   std::to_string(attempt),
                                   delivery.entry_id, std::string(keys::kJobGroup),
                                   std::move(error),  std::to_string(delay_us.count())};
  auto reply = Checked(co_await client_.Eval(FailScript(), std::move(keys), std::move(args),
                                             std::nullopt, redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || !IsText(e[0])) {
    co_return Unexpected("fail");
  }
  Completion completion;
  if (e[0].str == "RETRYING" && e.size() == 2) {
    completion.outcome = Completion::Outcome::kRetrying;
    completion.next_attempt_at_us = ToInt(e[1]);
  } else if (e[0].str == "DEAD") {
    completion.outcome = Completion::Outcome::kDead;
  } else if (e[0].str == "STALE" && e.size() == 2) {
    completion.outcome = Completion::Outcome::kStale;
    completion.state = e[1].str;
  } else {
    co_return Unexpected("fail");
  }
  co_return completion;
}

boost::asio::awaitable<absl::StatusOr<bool>> RedisJobQueue::Heartbeat(Delivery delivery,
                                                                      std::string consumer) {
  std::vector<std::string> keys = {std::string(keys::kJobStream)};
  std::vector<std::string> args = {std::string(keys::kJobGroup), delivery.entry_id,
                                   std::move(consumer)};
  auto reply = Checked(co_await client_.Eval(HeartbeatScript(), std::move(keys), std::move(args)));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) co_return Unexpected("heartbeat");
  co_return reply->integer == 1;
}

boost::asio::awaitable<absl::StatusOr<std::int64_t>> RedisJobQueue::PromoteDue(std::int32_t limit) {
  std::vector<std::string> keys = {std::string(keys::kJobDelayed), std::string(keys::kJobStream),
                                   keys::JobsInState(StateName(JobState::kRetrying)),
                                   keys::JobsInState(StateName(JobState::kQueued)),
                                   std::string(keys::kJobEvents)};
  std::vector<std::string> args = {std::to_string(limit), std::string(keys::kJobPrefix)};
  auto reply = Checked(co_await client_.Eval(PromoteScript(), std::move(keys), std::move(args),
                                             std::nullopt, redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) co_return Unexpected("promote");
  co_return static_cast<std::int64_t>(reply->integer);
}

boost::asio::awaitable<absl::StatusOr<QueueDepth>> RedisJobQueue::Depth() {
  std::vector<std::string> keys = {keys::JobsInState(StateName(JobState::kQueued)),
                                   keys::JobsInState(StateName(JobState::kRetrying)),
                                   keys::JobsInState(StateName(JobState::kRunning))};
  std::vector<std::string> args;
  auto reply = Checked(co_await client_.Eval(DepthScript(), std::move(keys), std::move(args)));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 3) {
    co_return Unexpected("depth");
  }
  QueueDepth depth;
  depth.queued = ToInt(reply->elements[0]);
  depth.retrying = ToInt(reply->elements[1]);
  depth.running = ToInt(reply->elements[2]);
  co_return depth;
}

boost::asio::awaitable<absl::Status> RedisJobQueue::Retire(std::string consumer) {
  std::vector<std::string> keys = {std::string(keys::kJobStream)};
  std::vector<std::string> args = {std::string(keys::kJobGroup), std::move(consumer)};
  auto reply = Checked(co_await client_.Eval(RetireScript(), std::move(keys), std::move(args),
                                             std::nullopt, redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  co_return absl::OkStatus();
}

}  // namespace switchyard::data
