#include "data-service/job_service_impl.hpp"

#include <utility>

#include "absl/strings/str_join.h"
#include <google/protobuf/util/time_util.h>

#include "data-service/data_validation.hpp"
#include "data-service/job_validation.hpp"
#include "data-service/struct_json.hpp"

namespace switchyard::data {

using google::protobuf::util::TimeUtil;

absl::Status ToProto(const JobRecord& record, v1::Job& job) {
  job.Clear();
  job.set_id(record.id);
  job.set_type(record.type);
  auto payload = JsonToStruct(record.payload_json);
  if (!payload.ok()) return absl::InternalError("job " + record.id + " has a broken payload");
  *job.mutable_payload() = *std::move(payload);
  job.set_state(ToProtoState(record.state));
  job.set_attempts(record.attempts);
  job.set_max_attempts(record.max_attempts);
  job.set_last_error(record.last_error);
  if (!record.result_json.empty()) {
    auto result = JsonToStruct(record.result_json);
    if (!result.ok()) return absl::InternalError("job " + record.id + " has a broken result");
    *job.mutable_result() = *std::move(result);
  }
  *job.mutable_created_at() = TimeUtil::MicrosecondsToTimestamp(record.created_at_us);
  *job.mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(record.updated_at_us);
  if (record.state == JobState::kRetrying && record.next_attempt_at_us > 0) {
    *job.mutable_next_attempt_at() = TimeUtil::MicrosecondsToTimestamp(record.next_attempt_at_us);
  }
  return absl::OkStatus();
}

JobServiceImpl::JobServiceImpl(JobStore& store, const JobRegistry& registry, JobMetrics& metrics,
                               IdGenerator new_id)
    : store_(store), registry_(registry), metrics_(metrics), new_id_(std::move(new_id)) {}

boost::asio::awaitable<absl::Status> JobServiceImpl::SubmitJob(CallContext call,
                                                               const v1::SubmitJobRequest& request,
                                                               v1::SubmitJobResponse& response) {
  if (request.type().empty()) co_return absl::InvalidArgumentError("type: is required");
  const JobType* type = registry_.Find(request.type());
  if (type == nullptr) {
    co_return absl::InvalidArgumentError("type: unknown job type '" + request.type() +
                                         "' (known: " + absl::StrJoin(registry_.Types(), ", ") +
                                         ")");
  }
  auto max_attempts = NormalizeMaxAttempts(request.max_attempts());
  if (!max_attempts.ok()) co_return max_attempts.status();
  if (auto status = type->validate(request.payload()); !status.ok()) co_return status;
  std::string payload_json = StructToJson(request.payload());
  if (payload_json.size() > kMaxPayloadBytes) {
    co_return absl::InvalidArgumentError("payload: must be at most 65536 bytes as JSON");
  }

  NewJob job{new_id_(), request.type(), std::move(payload_json), *max_attempts};
  auto record = co_await store_.Submit(std::move(job), call.deadline);
  if (!record.ok()) co_return record.status();
  metrics_.submitted.fetch_add(1, std::memory_order_relaxed);
  co_return ToProto(*record, *response.mutable_job());
}

boost::asio::awaitable<absl::Status> JobServiceImpl::GetJob(CallContext call,
                                                            const v1::GetJobRequest& request,
                                                            v1::GetJobResponse& response) {
  auto id = NormalizeJobId(request.id());
  if (!id.ok()) co_return id.status();
  auto record = co_await store_.Get(*std::move(id), call.deadline);
  if (!record.ok()) co_return record.status();
  co_return ToProto(*record, *response.mutable_job());
}

boost::asio::awaitable<absl::Status> JobServiceImpl::ListJobs(CallContext call,
                                                              const v1::ListJobsRequest& request,
                                                              v1::ListJobsResponse& response) {
  auto filter = StateFilter(request.state());
  if (!filter.ok()) co_return filter.status();
  auto page_size = NormalizePageSize(request.page_size());
  if (!page_size.ok()) co_return page_size.status();
  auto before = DecodeJobPageToken(request.page_token(), *filter);
  if (!before.ok()) co_return before.status();

  auto page = co_await store_.List(*filter, *before, *page_size, call.deadline);
  if (!page.ok()) co_return page.status();
  response.mutable_jobs()->Reserve(static_cast<int>(page->jobs.size()));
  for (const JobRecord& record : page->jobs) {
    if (auto status = ToProto(record, *response.add_jobs()); !status.ok()) co_return status;
  }
  if (page->next_before > 0) {
    response.set_next_page_token(EncodeJobPageToken(*filter, page->next_before));
  }
  co_return absl::OkStatus();
}

}  // namespace switchyard::data
