#include "data-service/redis_job_store.hpp"

#include <utility>
#include <vector>

#include "data-service/redis_keys.hpp"
#include "data-service/redis_util.hpp"

namespace switchyard::data {

namespace {

using redis_util::Checked;
using redis_util::IsText;
using redis_util::kLuaJobEvent;
using redis_util::kLuaNow;
using redis_util::OptionalDeadline;
using redis_util::ToInt;

constexpr std::string_view kStore = "job store";

// After kLuaNow and kLuaJobEvent. KEYS: job, all, queued, seq, stream, events.
// ARGV: id, type, payload, max_attempts.
// Returns {'OK', seq, created} or {'EXISTS'}.
constexpr std::string_view kSubmitScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'EXISTS'}
end
local seq = redis.call('INCR', KEYS[4])
local entry = redis.call('XADD', KEYS[5], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[1], 'type', ARGV[2], 'payload', ARGV[3], 'state', 'queued',
           'attempts', 0, 'max_attempts', ARGV[4], 'last_error', '', 'result', '',
           'created', now, 'updated', now, 'next_attempt', 0, 'seq', seq, 'entry', entry)
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
job_event(KEYS[6], KEYS[1], ARGV[1])
return {'OK', seq, now}
)lua";

// The hash fields a JobRecord is read from, in this order.
constexpr const char* kJobFields[] = {"type",         "payload",      "state",  "attempts",
                                      "max_attempts", "last_error",   "result", "created",
                                      "updated",      "next_attempt", "seq"};
constexpr std::size_t kJobFieldCount = std::size(kJobFields);

// KEYS: index. ARGV: max score ('+inf' or '(<seq>'), limit, job key prefix.
// Returns {more, id, <kJobFields...>, id, ...}.
constexpr std::string_view kListScript = R"lua(
local limit = tonumber(ARGV[2])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, limit + 1)
local out = {#ids > limit and 1 or 0}
for i = 1, math.min(#ids, limit) do
  local f = redis.call('HMGET', ARGV[3] .. ids[i], 'type', 'payload', 'state', 'attempts',
                       'max_attempts', 'last_error', 'result', 'created', 'updated',
                       'next_attempt', 'seq')
  if f[3] then
    out[#out + 1] = ids[i]
    for k = 1, 11 do
      out[#out + 1] = f[k] or ''
    end
  end
end
return out
)lua";

// KEYS: job, events. ARGV: the kJobFields names. Returns {tail, <kJobFields values...>}: the job
// as it is and the job change stream's last entry id ('0-0' for none), read together, so every
// later change of the job has a greater id.
constexpr std::string_view kGetWithPositionScript = R"lua(
local tail = '0-0'
if redis.call('EXISTS', KEYS[2]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then tail = info[i + 1] end
  end
end
local out = {tail}
local f = redis.call('HMGET', KEYS[1], unpack(ARGV))
for i = 1, #ARGV do
  out[#out + 1] = f[i] or false
end
return out
)lua";

const redis::Script& GetWithPositionScript() {
  static const redis::Script script{std::string(kGetWithPositionScript)};
  return script;
}

const redis::Script& SubmitScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kLuaJobEvent) +
                                    std::string(kSubmitScript)};
  return script;
}
const redis::Script& ListScript() {
  static const redis::Script script{std::string(kListScript)};
  return script;
}

absl::Status Unexpected(std::string_view what) { return redis_util::Unexpected(kStore, what); }

// Fills `record` from kJobFields values; false when the state is unknown (a broken record).
bool FromFields(const redis::Reply* f, JobRecord& record) {
  const auto state = ParseJobState(f[2].str);
  if (!state) return false;
  record.type = f[0].str;
  record.payload_json = f[1].str;
  record.state = *state;
  record.attempts = static_cast<std::int32_t>(ToInt(f[3]));
  record.max_attempts = static_cast<std::int32_t>(ToInt(f[4]));
  record.last_error = f[5].str;
  record.result_json = f[6].str;
  record.created_at_us = ToInt(f[7]);
  record.updated_at_us = ToInt(f[8]);
  record.next_attempt_at_us = ToInt(f[9]);
  record.seq = ToInt(f[10]);
  return true;
}

}  // namespace

RedisJobStore::RedisJobStore(redis::RedisClient& client) : client_(client) {
  client_.RegisterScript(&SubmitScript());
  client_.RegisterScript(&ListScript());
  client_.RegisterScript(&GetWithPositionScript());
}

boost::asio::awaitable<absl::StatusOr<JobRecord>> RedisJobStore::Submit(NewJob job,
                                                                        Deadline deadline) {
  std::vector<std::string> keys = {keys::Job(job.id),
                                   std::string(keys::kJobsAll),
                                   keys::JobsInState(JobStateName(JobState::kQueued)),
                                   std::string(keys::kJobsSeq),
                                   std::string(keys::kJobStream),
                                   std::string(keys::kJobEvents)};
  std::vector<std::string> args = {job.id, job.type, job.payload_json,
                                   std::to_string(job.max_attempts)};
  auto reply = Checked(co_await client_.Eval(SubmitScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || !IsText(e[0])) {
    co_return Unexpected("submit");
  }
  if (e[0].str == "EXISTS") co_return absl::AlreadyExistsError("job " + job.id + " exists");
  if (e[0].str != "OK" || e.size() != 3) co_return Unexpected("submit");
  JobRecord record;
  record.id = std::move(job.id);
  record.type = std::move(job.type);
  record.payload_json = std::move(job.payload_json);
  record.state = JobState::kQueued;
  record.max_attempts = job.max_attempts;
  record.seq = ToInt(e[1]);
  record.created_at_us = ToInt(e[2]);
  record.updated_at_us = record.created_at_us;
  co_return record;
}

boost::asio::awaitable<absl::StatusOr<JobRecord>> RedisJobStore::Get(std::string id,
                                                                     Deadline deadline) {
  std::vector<std::string> command = {"HMGET", keys::Job(id)};
  for (const char* field : kJobFields) command.emplace_back(field);
  auto reply =
      Checked(co_await client_.Command(std::move(command), OptionalDeadline(deadline)), kStore);
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != kJobFieldCount) {
    co_return Unexpected("get");
  }
  if (reply->elements[2].IsNil()) co_return absl::NotFoundError("job " + id + " not found");
  JobRecord record;
  if (!FromFields(reply->elements.data(), record)) co_return Unexpected("get: state");
  record.id = std::move(id);
  co_return record;
}

boost::asio::awaitable<absl::StatusOr<JobAtPosition>> RedisJobStore::GetWithPosition(
    std::string id, Deadline deadline) {
  std::vector<std::string> keys = {keys::Job(id), std::string(keys::kJobEvents)};
  std::vector<std::string> args(std::begin(kJobFields), std::end(kJobFields));
  auto reply = Checked(co_await client_.Eval(GetWithPositionScript(), std::move(keys),
                                             std::move(args), OptionalDeadline(deadline)),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() != kJobFieldCount + 1 ||
      !IsText(e[0])) {
    co_return Unexpected("get with position");
  }
  if (e[3].IsNil()) co_return absl::NotFoundError("job " + id + " not found");
  JobAtPosition out;
  out.position = e[0].str;
  if (!FromFields(&e[1], out.job)) co_return Unexpected("get with position: state");
  out.job.id = std::move(id);
  co_return out;
}

boost::asio::awaitable<absl::StatusOr<JobPage>> RedisJobStore::List(std::optional<JobState> state,
                                                                    std::int64_t before,
                                                                    std::int32_t limit,
                                                                    Deadline deadline) {
  std::vector<std::string> keys = {state ? keys::JobsInState(JobStateName(*state))
                                         : std::string(keys::kJobsAll)};
  std::vector<std::string> args = {before > 0 ? "(" + std::to_string(before) : "+inf",
                                   std::to_string(limit), std::string(keys::kJobPrefix)};
  auto reply = Checked(co_await client_.Eval(ListScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline)),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  constexpr std::size_t kStride = kJobFieldCount + 1;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || (e.size() - 1) % kStride != 0) {
    co_return Unexpected("list");
  }
  JobPage page;
  page.jobs.reserve((e.size() - 1) / kStride);
  for (std::size_t i = 1; i + kStride <= e.size(); i += kStride) {
    JobRecord record;
    record.id = e[i].str;
    if (!FromFields(&e[i + 1], record)) co_return Unexpected("list: state");
    page.jobs.push_back(std::move(record));
  }
  if (ToInt(e[0]) == 1 && !page.jobs.empty()) page.next_before = page.jobs.back().seq;
  co_return page;
}

}  // namespace switchyard::data
