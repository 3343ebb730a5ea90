#include "data-service/watch_service_impl.hpp"

#include <charconv>
#include <utility>

#include <google/protobuf/util/time_util.h>

#include "data-service/data_service_impl.hpp"
#include "data-service/data_validation.hpp"
#include "data-service/job_service_impl.hpp"
#include "data-service/job_validation.hpp"
#include "data-service/redis_keys.hpp"

namespace switchyard::data {

namespace {

using google::protobuf::util::TimeUtil;

template <class Int>
bool ToNumber(std::string_view text, Int& out) {
  if (text.empty()) {
    out = 0;
    return true;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool IsFinal(JobState state) { return state == JobState::kSucceeded || state == JobState::kDead; }

}  // namespace

absl::StatusOr<std::optional<StreamId>> ParseResumePosition(std::string_view text) {
  if (text.empty()) return std::optional<StreamId>();
  auto id = StreamId::Parse(text);
  if (!id) {
    return absl::InvalidArgumentError(
        "resume_after: must be the position of an earlier message (like 1700000000000-0)");
  }
  return std::optional<StreamId>(*id);
}

bool ApplyJobEvent(const StreamEntry& entry, JobRecord& job) {
  const auto state = ParseJobState(entry.Field("state"));
  if (!state) return false;
  job.state = *state;
  job.last_error = std::string(entry.Field("last_error"));
  job.result_json = std::string(entry.Field("result"));
  return ToNumber(entry.Field("attempts"), job.attempts) &&
         ToNumber(entry.Field("updated"), job.updated_at_us) &&
         ToNumber(entry.Field("next_attempt"), job.next_attempt_at_us);
}

WatchServiceImpl::WatchServiceImpl(ChangeFeed& feed, redis::RedisClient& client,
                                   RedisJobStore& jobs)
    : feed_(feed), client_(client), jobs_(jobs) {}

boost::asio::awaitable<absl::Status> WatchServiceImpl::WatchData(
    CallContext /*call*/, const v1::WatchDataRequest& request,
    WriteMessage<v1::WatchDataResponse> write) {
  if (auto status = ValidatePrefix(request.prefix()); !status.ok()) co_return status;
  auto resume = ParseResumePosition(request.resume_after());
  if (!resume.ok()) co_return resume.status();

  StreamWatch watch(feed_, client_, std::string(keys::kDataEvents));
  StreamId start;
  if (*resume) {
    start = **resume;
  } else {
    auto tail = co_await watch.Tail();
    if (!tail.ok()) co_return tail.status();
    start = *tail;
  }
  watch.StartAfter(start);
  {
    v1::WatchDataResponse synced;
    synced.set_kind(v1::DATA_CHANGE_KIND_SYNCED);
    synced.set_position(start.ToString());
    if (!co_await write(synced)) co_return absl::CancelledError("the client went away");
  }

  v1::WatchDataResponse change;
  for (;;) {
    auto span = co_await watch.Next();
    if (!span.ok()) co_return span.status();
    for (std::size_t i = 0; i < span->size(); ++i) {
      const StreamEntry& entry = (*span)[i];
      const std::string_view key = entry.Field("key");
      if (!key.starts_with(request.prefix())) continue;
      const std::string_view op = entry.Field("op");
      DataRecord record;
      record.key = std::string(key);
      if (!ToNumber(entry.Field("version"), record.version) ||
          !ToNumber(entry.Field("updated"), record.updated_at_us)) {
        co_return absl::InternalError("a broken change record at " + entry.id.ToString());
      }
      if (op == "put") {
        change.set_kind(v1::DATA_CHANGE_KIND_PUT);
        record.value = std::string(entry.Field("value"));
      } else if (op == "delete") {
        change.set_kind(v1::DATA_CHANGE_KIND_DELETE);
      } else {
        continue;  // a kind this version does not know
      }
      change.set_position(entry.id.ToString());
      ToProto(record, *change.mutable_item());
      if (!co_await write(change)) co_return absl::CancelledError("the client went away");
    }
  }
}

boost::asio::awaitable<absl::Status> WatchServiceImpl::WatchJob(
    CallContext call, const v1::WatchJobRequest& request,
    WriteMessage<v1::WatchJobResponse> write) {
  auto id = NormalizeJobId(request.id());
  if (!id.ok()) co_return id.status();
  auto resume = ParseResumePosition(request.resume_after());
  if (!resume.ok()) co_return resume.status();

  // Subscribed before the job is read: no change after that read can be missed.
  StreamWatch watch(feed_, client_, std::string(keys::kJobEvents));
  auto snapshot = co_await jobs_.GetWithPosition(*id, call.deadline);
  if (!snapshot.ok()) co_return snapshot.status();
  const auto read_at = StreamId::Parse(snapshot->position);
  if (!read_at) co_return absl::InternalError("a broken change stream position");
  JobRecord job = std::move(snapshot->job);
  const bool final_when_read = IsFinal(job.state);

  v1::WatchJobResponse message;
  if (!*resume) {
    if (auto status = ToProto(job, *message.mutable_job()); !status.ok()) co_return status;
    message.set_position(read_at->ToString());
    if (!co_await write(message)) co_return absl::CancelledError("the client went away");
    if (final_when_read) co_return absl::OkStatus();
    watch.StartAfter(*read_at);
  } else {
    // Every change up to read_at is in the stream; a final job has none after it.
    if (final_when_read && **resume >= *read_at) co_return absl::OkStatus();
    watch.StartAfter(**resume);
  }

  for (;;) {
    auto span = co_await watch.Next();
    if (!span.ok()) co_return span.status();
    for (std::size_t i = 0; i < span->size(); ++i) {
      const StreamEntry& entry = (*span)[i];
      if (entry.Field("job") != job.id) continue;
      if (!ApplyJobEvent(entry, job)) {
        co_return absl::InternalError("a broken job change record at " + entry.id.ToString());
      }
      if (auto status = ToProto(job, *message.mutable_job()); !status.ok()) co_return status;
      message.set_position(entry.id.ToString());
      if (!co_await write(message)) co_return absl::CancelledError("the client went away");
      if (IsFinal(job.state)) co_return absl::OkStatus();
    }
    if (final_when_read && watch.position() >= *read_at) co_return absl::OkStatus();
  }
}

}  // namespace switchyard::data
