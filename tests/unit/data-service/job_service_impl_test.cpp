// JobServiceImpl's rules against a hand-written in-memory store and a registry with a test type:
// no Redis, no gRPC.

#include "data-service/job_service_impl.hpp"

#include <map>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "data-service/job_validation.hpp"
#include "data-service/struct_json.hpp"

namespace switchyard::data {
namespace {

class FakeJobStore final : public JobStore {
 public:
  boost::asio::awaitable<absl::StatusOr<JobRecord>> Submit(NewJob job, Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    JobRecord record;
    record.id = job.id;
    record.type = job.type;
    record.payload_json = job.payload_json;
    record.max_attempts = job.max_attempts;
    record.seq = static_cast<std::int64_t>(jobs_.size()) + 1;
    record.created_at_us = record.updated_at_us = 1'700'000'000'000'000 + record.seq;
    jobs_[record.id] = record;
    order_.push_back(record.id);
    co_return record;
  }
  boost::asio::awaitable<absl::StatusOr<JobRecord>> Get(std::string id, Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) co_return absl::NotFoundError("no job");
    co_return it->second;
  }
  boost::asio::awaitable<absl::StatusOr<JobPage>> List(std::optional<JobState> state,
                                                       std::int64_t before, std::int32_t limit,
                                                       Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    last_state = state;
    last_before = before;
    last_limit = limit;
    JobPage page;
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      const JobRecord& job = jobs_[*it];
      if (before > 0 && job.seq >= before) continue;
      if (state && job.state != *state) continue;
      if (page.jobs.size() == static_cast<std::size_t>(limit)) {
        page.next_before = page.jobs.back().seq;
        break;
      }
      page.jobs.push_back(job);
    }
    co_return page;
  }

  JobRecord& job(const std::string& id) { return jobs_[id]; }

  std::optional<absl::Status> fail_with;
  int calls = 0;
  std::optional<JobState> last_state;
  std::int64_t last_before = -1;
  std::int32_t last_limit = -1;

 private:
  std::map<std::string, JobRecord> jobs_;
  std::vector<std::string> order_;
};

google::protobuf::Struct Json(const std::string& text) {
  auto value = JsonToStruct(text);
  EXPECT_TRUE(value.ok()) << text;
  return value.ok() ? *value : google::protobuf::Struct();
}

class JobServiceImplTest : public ::testing::Test {
 protected:
  JobServiceImplTest() {
    registry_.Register(
        "test.echo",
        [](const google::protobuf::Struct& payload) {
          return payload.fields().count("bad") > 0
                     ? absl::InvalidArgumentError("payload.bad: is not allowed")
                     : absl::OkStatus();
        },
        [](JobContext&, const google::protobuf::Struct& payload)
            -> boost::asio::awaitable<JobResult> { co_return payload; });
  }

  template <class Request, class Response>
  absl::Status Call(boost::asio::awaitable<absl::Status> (JobServiceImpl::*method)(CallContext,
                                                                                   const Request&,
                                                                                   Response&),
                    const Request& request, Response& response) {
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(
        io, (impl_.*method)(CallContext{"rid", Deadline::max()}, request, response),
        boost::asio::use_future);
    io.run();
    return future.get();
  }

  absl::Status Submit(const std::string& type, const std::string& payload, int max_attempts = 0,
                      v1::Job* out = nullptr) {
    v1::SubmitJobRequest request;
    request.set_type(type);
    *request.mutable_payload() = Json(payload);
    request.set_max_attempts(max_attempts);
    v1::SubmitJobResponse response;
    const absl::Status status = Call(&JobServiceImpl::SubmitJob, request, response);
    if (out) *out = response.job();
    return status;
  }

  FakeJobStore store_;
  JobRegistry registry_;
  JobMetrics metrics_;
  int next_id_ = 0;
  JobServiceImpl impl_{store_, registry_, metrics_, [this] {
                         char id[37];
                         std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", ++next_id_);
                         return std::string(id);
                       }};
};

TEST_F(JobServiceImplTest, SubmitQueuesTheJobWithDefaultsAndCountsIt) {
  v1::Job job;
  ASSERT_TRUE(Submit("test.echo", R"({"n":1})", 0, &job).ok());
  EXPECT_EQ(job.id(), "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(job.type(), "test.echo");
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.max_attempts(), kDefaultMaxAttempts);
  EXPECT_EQ(job.attempts(), 0);
  EXPECT_EQ(job.payload().fields().at("n").number_value(), 1);
  EXPECT_FALSE(job.has_result());
  EXPECT_FALSE(job.has_next_attempt_at());
  EXPECT_EQ(store_.job(job.id()).payload_json, R"({"n":1})");
  EXPECT_EQ(metrics_.submitted.load(), 1u);

  ASSERT_TRUE(Submit("test.echo", "{}", 20, &job).ok());
  EXPECT_EQ(job.max_attempts(), 20);
  EXPECT_EQ(metrics_.submitted.load(), 2u);
}

TEST_F(JobServiceImplTest, SubmitRejectsUnknownTypesBadAttemptsAndBadPayloads) {
  struct Case {
    std::string type;
    std::string payload;
    int max_attempts;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", "{}", 0, "type: "},
      {"users.report", "{}", 0, "type: "},  // not in this registry
      {"test.echo", "{}", 21, "max_attempts: "},
      {"test.echo", "{}", -2, "max_attempts: "},
      {"test.echo", R"({"bad":true})", 0, "payload.bad: "},
      {"test.echo", R"({"big":")" + std::string(70000, 'x') + R"("})", 0, "payload: "},
  };
  for (const auto& c : cases) {
    const absl::Status status = Submit(c.type, c.payload, c.max_attempts);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(status.message().substr(0, c.field.size()), c.field) << status;
  }
  const absl::Status unknown = Submit("nope", "{}");
  EXPECT_NE(unknown.message().find("test.echo"), std::string_view::npos) << unknown;
  EXPECT_EQ(store_.calls, 0);
  EXPECT_EQ(metrics_.submitted.load(), 0u);
}

TEST_F(JobServiceImplTest, GetShowsResultAndNextAttemptOnlyWhereTheStateHasThem) {
  v1::Job job;
  ASSERT_TRUE(Submit("test.echo", "{}", 3, &job).ok());
  JobRecord& record = store_.job(job.id());
  record.state = JobState::kRetrying;
  record.attempts = 1;
  record.last_error = "boom";
  record.next_attempt_at_us = 1'800'000'000'000'000;

  v1::GetJobRequest request;
  request.set_id(job.id());
  v1::GetJobResponse response;
  ASSERT_TRUE(Call(&JobServiceImpl::GetJob, request, response).ok());
  EXPECT_EQ(response.job().state(), v1::JOB_STATE_RETRYING);
  EXPECT_EQ(response.job().last_error(), "boom");
  EXPECT_EQ(response.job().next_attempt_at().seconds(), 1'800'000'000);

  record.state = JobState::kSucceeded;
  record.result_json = R"({"ok":true})";
  ASSERT_TRUE(Call(&JobServiceImpl::GetJob, request, response).ok());
  EXPECT_EQ(response.job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(response.job().result().fields().at("ok").bool_value());
  EXPECT_FALSE(response.job().has_next_attempt_at());

  record.result_json = "not json";
  EXPECT_EQ(Call(&JobServiceImpl::GetJob, request, response).code(), absl::StatusCode::kInternal);
}

TEST_F(JobServiceImplTest, GetValidatesTheIdAndMapsNotFound) {
  v1::GetJobRequest request;
  v1::GetJobResponse response;
  request.set_id("job-1");
  const absl::Status invalid = Call(&JobServiceImpl::GetJob, request, response);
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.message().substr(0, 4), "id: ");
  request.set_id("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
  EXPECT_EQ(Call(&JobServiceImpl::GetJob, request, response).code(), absl::StatusCode::kNotFound);
}

TEST_F(JobServiceImplTest, ListPagesNewestFirstWithStateBoundTokens) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Submit("test.echo", "{}").ok());
  store_.job("00000000-0000-4000-8000-000000000002").state = JobState::kDead;
  store_.job("00000000-0000-4000-8000-000000000004").state = JobState::kDead;

  v1::ListJobsRequest request;
  request.set_page_size(2);
  v1::ListJobsResponse page;
  ASSERT_TRUE(Call(&JobServiceImpl::ListJobs, request, page).ok());
  EXPECT_EQ(store_.last_state, std::nullopt);
  ASSERT_EQ(page.jobs_size(), 2);
  EXPECT_EQ(page.jobs(0).id(), "00000000-0000-4000-8000-000000000005");
  ASSERT_FALSE(page.next_page_token().empty());

  request.set_page_token(page.next_page_token());
  v1::ListJobsResponse next;
  ASSERT_TRUE(Call(&JobServiceImpl::ListJobs, request, next).ok());
  EXPECT_EQ(store_.last_before, 4);
  EXPECT_EQ(next.jobs(0).id(), "00000000-0000-4000-8000-000000000003");

  // The token names its filter: reusing it under state=DEAD is an error.
  request.set_state(v1::JOB_STATE_DEAD);
  const absl::Status foreign = Call(&JobServiceImpl::ListJobs, request, next);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kInvalidArgument);

  request.clear_page_token();
  request.set_page_size(0);
  v1::ListJobsResponse dead;
  ASSERT_TRUE(Call(&JobServiceImpl::ListJobs, request, dead).ok());
  EXPECT_EQ(store_.last_state, JobState::kDead);
  EXPECT_EQ(store_.last_limit, 20);
  ASSERT_EQ(dead.jobs_size(), 2);
  EXPECT_EQ(dead.jobs(0).state(), v1::JOB_STATE_DEAD);
  EXPECT_TRUE(dead.next_page_token().empty());

  request.set_state(static_cast<v1::JobState>(9));
  EXPECT_EQ(Call(&JobServiceImpl::ListJobs, request, dead).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JobServiceImplTest, StoreErrorsPassThroughAndAreNotCounted) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(Submit("test.echo", "{}").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(metrics_.submitted.load(), 0u);
}

TEST(JobRegistryTest, RegistersOnceAndListsSorted) {
  JobRegistry registry;
  const auto validate = [](const google::protobuf::Struct&) { return absl::OkStatus(); };
  const auto run = [](JobContext&,
                      const google::protobuf::Struct&) -> boost::asio::awaitable<JobResult> {
    co_return google::protobuf::Struct();
  };
  EXPECT_TRUE(registry.Register("b.type", validate, run));
  EXPECT_TRUE(registry.Register("a.type", validate, run));
  EXPECT_FALSE(registry.Register("a.type", validate, run));
  EXPECT_FALSE(registry.Register("", validate, run));
  EXPECT_FALSE(registry.Register("c.type", nullptr, run));
  EXPECT_NE(registry.Find("a.type"), nullptr);
  EXPECT_EQ(registry.Find("c.type"), nullptr);
  EXPECT_EQ(registry.Types(), (std::vector<std::string>{"a.type", "b.type"}));
}

TEST(JobMetricsTest, DurationsLandInTheirBuckets) {
  JobMetrics metrics;
  metrics.ObserveDuration(std::chrono::microseconds(1000));       // 1 ms: first bucket
  metrics.ObserveDuration(std::chrono::microseconds(300000));     // 0.3 s: (0.25, 0.5]
  metrics.ObserveDuration(std::chrono::microseconds(100000000));  // 100 s: the overflow
  EXPECT_EQ(metrics.duration_buckets[0].load(), 1u);
  EXPECT_EQ(metrics.duration_buckets[6].load(), 1u);
  EXPECT_EQ(metrics.duration_buckets[JobMetrics::kDurationBounds.size()].load(), 1u);
  EXPECT_EQ(metrics.duration_count.load(), 3u);
  EXPECT_EQ(metrics.duration_sum_us.load(), 100301000u);
}

}  // namespace
}  // namespace switchyard::data
