// JobService and the job worker over real gRPC on loopback against a real redis-server: retries
// with backoff, DEAD after max_attempts, the attempt timeout, the concurrency limit, re-delivery
// after a worker dies, graceful stop, and the two real job types.

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "data-service/redis_job_queue.hpp"
#include "data-service/redis_keys.hpp"
#include "switchyard/user/v1/user_service.grpc.pb.h"
#include "tests/integration/data-service/data_service_harness.hpp"

namespace switchyard::data {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grpc::StatusCode;

// Runs `work` against the harness's Redis on a client of its own (on this thread), as another
// worker process would.
template <class T>
T WithQueue(DataServiceHarness& harness,
            std::function<asio::awaitable<T>(RedisJobQueue&, redis::RedisClient&)> work) {
  Logger logger("job-queue-test", "test", LogLevel::kError, 2);
  asio::io_context io;
  auto client = redis::RedisClient::Create(io.get_executor(), harness.redis_config(), logger);
  RedisJobQueue queue(*client, *client);
  client->Start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!client->IsReady() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  EXPECT_TRUE(client->IsReady());
  auto future = asio::co_spawn(io, work(queue, *client), asio::use_future);
  while (future.wait_for(0s) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(10ms);
  }
  client->Stop();
  io.poll();
  return future.get();
}

Completion LateSucceed(DataServiceHarness& harness, Delivery delivery, std::int32_t attempt) {
  return WithQueue<Completion>(
      harness, [&](RedisJobQueue& queue, redis::RedisClient&) -> asio::awaitable<Completion> {
        auto done = co_await queue.Succeed(delivery, attempt, R"({"late":true})");
        EXPECT_TRUE(done.ok()) << done.status();
        co_return done.ok() ? *done : Completion{};
      });
}

Completion LateFail(DataServiceHarness& harness, Delivery delivery, std::int32_t attempt) {
  return WithQueue<Completion>(
      harness, [&](RedisJobQueue& queue, redis::RedisClient&) -> asio::awaitable<Completion> {
        auto done = co_await queue.Fail(delivery, attempt, "late failure", 0ms);
        EXPECT_TRUE(done.ok()) << done.status();
        co_return done.ok() ? *done : Completion{};
      });
}

// The stream entry a job currently waits on (or runs under).
std::string CurrentEntry(DataServiceHarness& harness, const std::string& job_id) {
  return WithQueue<std::string>(
      harness, [&](RedisJobQueue&, redis::RedisClient& client) -> asio::awaitable<std::string> {
        std::vector<std::string> command = {"HGET", keys::Job(job_id), "entry"};
        auto reply = co_await client.Command(std::move(command));
        co_return reply.ok() ? reply->str : std::string();
      });
}

std::vector<std::string> ListIds(DataServiceHarness& harness, v1::JobState state) {
  std::vector<std::string> ids;
  std::string token;
  do {
    v1::ListJobsResponse page;
    EXPECT_TRUE(harness.ListJobs(state, 100, token, page).ok());
    for (const auto& job : page.jobs()) ids.push_back(job.id());
    token = page.next_page_token();
  } while (!token.empty());
  return ids;
}

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

class JobServiceTest : public ::testing::Test {
 protected:
  explicit JobServiceTest(HarnessOptions options = {}) : harness_(std::move(options)) {}
  void SetUp() override { ASSERT_TRUE(harness_.Ready()); }
  void TearDown() override {
    if (HasFailure()) std::printf("--- data-service log ---\n%s\n", harness_.ReadLog().c_str());
  }

  DataServiceHarness harness_;
};

TEST_F(JobServiceTest, FlakyJobSucceedsOnTheThirdAttemptAfterBackingOff) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.flaky", R"({"fail_times":2})", 0, &job).ok());
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.max_attempts(), 5);

  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  EXPECT_EQ(done.attempts(), 3);
  EXPECT_EQ(done.result().fields().at("attempt").number_value(), 3);
  EXPECT_EQ(done.last_error(), "flaky failure 2");  // the last failed attempt's reason
  EXPECT_FALSE(done.has_next_attempt_at());

  // Attempt n + 1 starts no sooner than the backoff after attempt n: 100 ms, then 200 ms.
  const auto starts = harness_.test_jobs().StartsOf(job.id());
  ASSERT_EQ(starts.size(), 3u);
  for (std::size_t i = 0; i < starts.size(); ++i) EXPECT_EQ(starts[i].attempt, int(i) + 1);
  EXPECT_GE(starts[1].at - starts[0].at, 100ms);
  EXPECT_GE(starts[2].at - starts[1].at, 200ms);

  // The worker counts right after Redis has recorded the outcome: wait for it.
  const JobMetrics& metrics = harness_.app().job_metrics();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return metrics.succeeded.load() == 1 && metrics.duration_count.load() == 3; }, 5s));
  EXPECT_EQ(metrics.submitted.load(), 1u);
  EXPECT_EQ(metrics.attempts_started.load(), 3u);
  EXPECT_EQ(metrics.retried.load(), 2u);
  EXPECT_EQ(metrics.succeeded.load(), 1u);
  EXPECT_EQ(metrics.duration_count.load(), 3u);
  EXPECT_EQ(metrics.in_flight.load(), 0);

  // One start and one finish line per attempt, with the job id as request id (the last line
  // is written just after the outcome is recorded: wait for it).
  std::vector<std::string> started_lines;
  std::vector<std::string> finished_lines;
  const auto read_lines = [&] {
    started_lines.clear();
    finished_lines.clear();
    std::istringstream log(harness_.ReadLog());
    for (std::string line; std::getline(log, line);) {
      if (line.find("\"request_id\":\"" + job.id() + "\"") == std::string::npos) continue;
      if (line.find("\"msg\":\"job attempt started\"") != std::string::npos) {
        started_lines.push_back(line);
      }
      if (line.find("\"msg\":\"job attempt finished\"") != std::string::npos) {
        finished_lines.push_back(line);
      }
    }
    return finished_lines.size() >= 3;
  };
  EXPECT_TRUE(testing::WaitFor(read_lines, 5s));
  EXPECT_EQ(started_lines.size(), 3u);
  ASSERT_EQ(finished_lines.size(), 3u);
  for (const std::string& line : finished_lines) {
    EXPECT_NE(line.find("\"job_type\":\"test.flaky\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"duration_ms\":"), std::string::npos) << line;
  }
  EXPECT_NE(finished_lines[0].find("\"attempt\":1,\"outcome\":\"retrying\""), std::string::npos)
      << finished_lines[0];
  EXPECT_NE(finished_lines[2].find("\"attempt\":3,\"outcome\":\"succeeded\""), std::string::npos)
      << finished_lines[2];
}

TEST_F(JobServiceTest, JobFailingEveryTimeIsDeadAfterMaxAttemptsAndListedAsDead) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.flaky", R"({"fail_times":100})", 3, &job).ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_DEAD, 10s, done)) << done.DebugString();
  EXPECT_EQ(done.attempts(), 3);
  EXPECT_EQ(done.last_error(), "flaky failure 3");
  EXPECT_FALSE(done.has_result());
  EXPECT_EQ(harness_.test_jobs().StartsOf(job.id()).size(), 3u);

  EXPECT_TRUE(Contains(ListIds(harness_, v1::JOB_STATE_DEAD), job.id()));
  EXPECT_TRUE(Contains(ListIds(harness_, v1::JOB_STATE_UNSPECIFIED), job.id()));
  EXPECT_FALSE(Contains(ListIds(harness_, v1::JOB_STATE_RETRYING), job.id()));
  EXPECT_FALSE(Contains(ListIds(harness_, v1::JOB_STATE_RUNNING), job.id()));
  const JobMetrics& metrics = harness_.app().job_metrics();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return metrics.dead.load() == 1 && metrics.retried.load() == 2; }, 5s));
  EXPECT_EQ(metrics.retried.load(), 2u);
}

TEST_F(JobServiceTest, SubmitRejectsUnknownTypesAndBadPayloadsNamingTheField) {
  struct Case {
    grpc::Status status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {harness_.Submit("no.such.type", "{}"), "type: "},
      {harness_.Submit("", "{}"), "type: "},
      {harness_.Submit("data.copy", R"({"from":"a"})"), "payload.to: "},
      {harness_.Submit("data.copy", R"({"from":"bad key","to":"b"})"), "payload.from: "},
      {harness_.Submit("users.report", R"({"x":1})"), "payload.x: "},
      {harness_.Submit("data.copy", R"({"from":"a","to":"b"})", 21), "max_attempts: "},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.status.error_code(), StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(c.status.error_message().rfind(c.field, 0), 0u) << c.status.error_message();
  }
  v1::Job job;
  EXPECT_EQ(harness_.GetJob("not-a-uuid", job).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(harness_.GetJob("3f2504e0-4f89-41d3-9a0c-0305e82c3301", job).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_TRUE(ListIds(harness_, v1::JOB_STATE_UNSPECIFIED).empty());
}

TEST_F(JobServiceTest, ListJobsPagesNewestFirstWithoutGapOrRepeat) {
  std::vector<std::string> submitted;
  for (int i = 0; i < 25; ++i) {
    v1::Job job;
    ASSERT_TRUE(harness_.Submit("test.flaky", R"({"fail_times":0})", 0, &job).ok());
    submitted.push_back(job.id());
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListJobsResponse page;
    ASSERT_TRUE(harness_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 10, token, page).ok());
    for (const auto& job : page.jobs()) seen.push_back(job.id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::string>(submitted.rbegin(), submitted.rend()));

  for (const std::string& id : submitted) {
    v1::Job done;
    EXPECT_TRUE(harness_.WaitForState(id, v1::JOB_STATE_SUCCEEDED, 10s, done)) << id;
  }
  EXPECT_EQ(ListIds(harness_, v1::JOB_STATE_SUCCEEDED).size(), 25u);
  EXPECT_TRUE(ListIds(harness_, v1::JOB_STATE_QUEUED).empty());

  v1::ListJobsResponse page;
  EXPECT_EQ(harness_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 101, "", page).error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(harness_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 10, "bogus", page).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(JobServiceTest, DataCopyCopiesTheValueAsAWriteOfTheTarget) {
  ASSERT_TRUE(harness_.Put("src/a", "hello").ok());
  ASSERT_TRUE(harness_.Put("dst/a", "old").ok());
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("data.copy", R"({"from":"src/a","to":"dst/a"})", 0, &job).ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  EXPECT_EQ(done.attempts(), 1);
  EXPECT_EQ(done.result().fields().at("to").string_value(), "dst/a");
  EXPECT_EQ(done.result().fields().at("version").number_value(), 2);
  v1::DataItem item;
  ASSERT_TRUE(harness_.Get("dst/a", &item).ok());
  EXPECT_EQ(item.value(), "hello");
  EXPECT_EQ(item.version(), 2);
  ASSERT_TRUE(harness_.Get("src/a", &item).ok());
  EXPECT_EQ(item.version(), 1);
}

TEST_F(JobServiceTest, DataCopyOfAMissingSourceRetriesUntilTheSourceExists) {
  v1::Job job;
  ASSERT_TRUE(
      harness_.Submit("data.copy", R"({"from":"later/src","to":"later/dst"})", 10, &job).ok());
  v1::Job retrying;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_RETRYING, 10s, retrying))
      << retrying.DebugString();
  EXPECT_NE(retrying.last_error().find("source key 'later/src' does not exist"), std::string::npos)
      << retrying.last_error();
  ASSERT_TRUE(retrying.has_next_attempt_at());
  EXPECT_GE(retrying.next_attempt_at().seconds(), retrying.updated_at().seconds());
  EXPECT_TRUE(Contains(ListIds(harness_, v1::JOB_STATE_RETRYING), job.id()));

  ASSERT_TRUE(harness_.Put("later/src", "arrived").ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 15s, done))
      << done.DebugString();
  EXPECT_GE(done.attempts(), 2);
  v1::DataItem item;
  ASSERT_TRUE(harness_.Get("later/dst", &item).ok());
  EXPECT_EQ(item.value(), "arrived");
}

TEST_F(JobServiceTest, DataCopyOfAMissingSourceEndsDead) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("data.copy", R"({"from":"never","to":"x"})", 2, &job).ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_DEAD, 10s, done)) << done.DebugString();
  EXPECT_EQ(done.attempts(), 2);
  EXPECT_EQ(done.last_error(), "source key 'never' does not exist");
  EXPECT_EQ(harness_.Get("x").error_code(), StatusCode::NOT_FOUND);
}

TEST_F(JobServiceTest, UsersReportFailsWhileUserServiceIsUnreachable) {
  // This harness points users.report at a port nothing listens on.
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("users.report", "{}", 1, &job).ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_DEAD, 15s, done)) << done.DebugString();
  EXPECT_NE(done.last_error().find("ListUsers failed"), std::string::npos) << done.last_error();
  EXPECT_EQ(harness_.Get("reports/users").error_code(), StatusCode::NOT_FOUND);
}

HarnessOptions WithConcurrency(std::int32_t concurrency) {
  HarnessOptions options;
  options.worker.concurrency = concurrency;
  return options;
}

class JobConcurrencyTest : public JobServiceTest {
 protected:
  JobConcurrencyTest() : JobServiceTest(WithConcurrency(2)) {}
};

TEST_F(JobConcurrencyTest, AtMostJobConcurrencyAttemptsRunAtOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    v1::Job job;
    ASSERT_TRUE(harness_.Submit("test.block", "{}", 0, &job).ok());
    ids.push_back(job.id());
  }
  ASSERT_TRUE(testing::WaitFor([&] { return harness_.test_jobs().TotalStarts() == 2; }, 10s));
  // A third start would come within milliseconds if the limit did not hold.
  EXPECT_FALSE(testing::WaitFor([&] { return harness_.test_jobs().TotalStarts() > 2; }, 300ms));
  EXPECT_EQ(ListIds(harness_, v1::JOB_STATE_RUNNING).size(), 2u);
  EXPECT_EQ(ListIds(harness_, v1::JOB_STATE_QUEUED).size(), 2u);
  EXPECT_EQ(harness_.app().job_metrics().in_flight.load(), 2);

  harness_.test_jobs().Release();
  for (const std::string& id : ids) {
    v1::Job done;
    EXPECT_TRUE(harness_.WaitForState(id, v1::JOB_STATE_SUCCEEDED, 10s, done)) << id;
  }
  EXPECT_EQ(harness_.test_jobs().MaxRunning(), 2);
  EXPECT_EQ(harness_.app().job_metrics().in_flight.load(), 0);
}

HarnessOptions WithAttemptTimeout(std::chrono::milliseconds timeout) {
  HarnessOptions options;
  options.worker.attempt_timeout = timeout;
  return options;
}

class JobTimeoutTest : public JobServiceTest {
 protected:
  JobTimeoutTest() : JobServiceTest(WithAttemptTimeout(200ms)) {}
};

TEST_F(JobTimeoutTest, AnAttemptPastJobTimeoutCountsAsAFailure) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.block", "{}", 2, &job).ok());  // never released
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_DEAD, 10s, done)) << done.DebugString();
  EXPECT_EQ(done.attempts(), 2);
  EXPECT_EQ(done.last_error(), "attempt timed out after 200 ms");
  EXPECT_EQ(harness_.test_jobs().StartsOf(job.id()).size(), 2u);
  EXPECT_EQ(harness_.app().job_metrics().in_flight.load(), 0);
}

HarnessOptions WithoutWorker() {
  HarnessOptions options;
  options.worker_enabled = false;
  return options;
}

// The primary service only serves the API here; the tests start their own workers.
class JobWorkerLifecycleTest : public JobServiceTest {
 protected:
  JobWorkerLifecycleTest() : JobServiceTest(WithoutWorker()) {}

  static JobWorkerOptions ShortVisibility() {
    JobWorkerOptions options = FastWorkerOptions();
    options.visibility_timeout = 300ms;
    return options;
  }
};

TEST_F(JobWorkerLifecycleTest, WorkerKilledMidJobIsRedeliveredAndSucceedsExactlyOnce) {
  auto worker_a = harness_.StartExtraApp(true, ShortVisibility());
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.block", "{}", 0, &job).ok());
  ASSERT_TRUE(
      testing::WaitFor([&] { return harness_.test_jobs().StartsOf(job.id()).size() == 1; }, 10s));
  EXPECT_EQ(harness_.test_jobs().StartsOf(job.id())[0].consumer, worker_a->worker_consumer());
  const std::string entry = CurrentEntry(harness_, job.id());
  ASSERT_FALSE(entry.empty());

  // A dies mid-attempt: nothing is acknowledged or recorded.
  worker_a->AbandonWorker();
  v1::Job seen;
  ASSERT_TRUE(harness_.GetJob(job.id(), seen).ok());
  EXPECT_EQ(seen.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(seen.attempts(), 1);

  // B takes the entry over once it has been idle for the visibility timeout.
  auto worker_b = harness_.StartExtraApp(true, ShortVisibility());
  ASSERT_TRUE(
      testing::WaitFor([&] { return harness_.test_jobs().StartsOf(job.id()).size() == 2; }, 10s));
  const auto starts = harness_.test_jobs().StartsOf(job.id());
  EXPECT_EQ(starts[1].consumer, worker_b->worker_consumer());
  EXPECT_EQ(starts[1].attempt, 2);
  EXPECT_GE(starts[1].at - starts[0].at, 300ms);
  ASSERT_TRUE(harness_.GetJob(job.id(), seen).ok());
  EXPECT_EQ(seen.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(seen.attempts(), 2);
  EXPECT_NE(seen.last_error().find("attempt 1 was abandoned"), std::string::npos)
      << seen.last_error();

  // A late completion of attempt 1 (A was only cut off, say) changes nothing.
  const Delivery delivery{entry, job.id()};
  EXPECT_EQ(LateSucceed(harness_, delivery, 1).outcome, Completion::Outcome::kStale);
  ASSERT_TRUE(harness_.GetJob(job.id(), seen).ok());
  EXPECT_EQ(seen.state(), v1::JOB_STATE_RUNNING);
  EXPECT_FALSE(seen.has_result());

  harness_.test_jobs().Release();
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  EXPECT_EQ(done.attempts(), 2);
  EXPECT_EQ(done.result().fields().at("consumer").string_value(), worker_b->worker_consumer());
  EXPECT_TRUE(testing::WaitFor([&] { return worker_b->job_metrics().succeeded.load() == 1; }, 5s));
  EXPECT_EQ(worker_a->job_metrics().succeeded.load(), 0u);

  // Once SUCCEEDED, no completion of any attempt counts again.
  EXPECT_EQ(LateFail(harness_, delivery, 1).outcome, Completion::Outcome::kStale);
  EXPECT_EQ(LateSucceed(harness_, delivery, 2).outcome, Completion::Outcome::kStale);
  EXPECT_EQ(LateFail(harness_, delivery, 2).outcome, Completion::Outcome::kStale);
  ASSERT_TRUE(harness_.GetJob(job.id(), seen).ok());
  EXPECT_EQ(seen.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(seen.attempts(), 2);
  EXPECT_EQ(seen.result().fields().at("consumer").string_value(), worker_b->worker_consumer());
  EXPECT_EQ(ListIds(harness_, v1::JOB_STATE_SUCCEEDED), std::vector<std::string>{job.id()});
  EXPECT_TRUE(ListIds(harness_, v1::JOB_STATE_RUNNING).empty());
  EXPECT_EQ(harness_.test_jobs().StartsOf(job.id()).size(), 2u);
}

TEST_F(JobWorkerLifecycleTest, ShutdownLetsARunningJobFinishWithinTheGracePeriod) {
  auto worker = harness_.StartExtraApp(true, FastWorkerOptions());
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.block", "{}", 0, &job).ok());
  ASSERT_TRUE(
      testing::WaitFor([&] { return harness_.test_jobs().StartsOf(job.id()).size() == 1; }, 10s));

  auto stopped = std::async(std::launch::async, [&] { worker->Shutdown(); });
  // Shutdown waits for the running attempt (grace period: 2 s).
  EXPECT_EQ(stopped.wait_for(100ms), std::future_status::timeout);
  harness_.test_jobs().Release();
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready);

  v1::Job done;
  ASSERT_TRUE(harness_.GetJob(job.id(), done).ok());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.attempts(), 1);
  EXPECT_EQ(worker->job_metrics().succeeded.load(), 1u);
}

TEST_F(JobWorkerLifecycleTest, ShutdownPastTheGracePeriodLeavesTheJobToAnotherWorker) {
  auto worker_a = harness_.StartExtraApp(true, ShortVisibility());
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.block", "{}", 0, &job).ok());
  ASSERT_TRUE(
      testing::WaitFor([&] { return harness_.test_jobs().StartsOf(job.id()).size() == 1; }, 10s));
  const auto started = std::chrono::steady_clock::now();
  worker_a->Shutdown();  // the attempt never ends by itself: abandoned after the grace period
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1500ms);
  v1::Job seen;
  ASSERT_TRUE(harness_.GetJob(job.id(), seen).ok());
  EXPECT_EQ(seen.state(), v1::JOB_STATE_RUNNING);

  harness_.test_jobs().Release();
  auto worker_b = harness_.StartExtraApp(true, ShortVisibility());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  EXPECT_EQ(done.attempts(), 2);
  EXPECT_EQ(done.result().fields().at("consumer").string_value(), worker_b->worker_consumer());
}

TEST_F(JobWorkerLifecycleTest, WorkerStartedWhileRedisIsDownTakesJobsOnceRedisIsBack) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.flaky", R"({"fail_times":0})", 0, &job).ok());
  harness_.redis().Stop();
  auto worker = harness_.StartExtraApp(true, FastWorkerOptions());
  EXPECT_TRUE(harness_.test_jobs().StartsOf(job.id()).empty());

  harness_.redis().Start();
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  EXPECT_EQ(done.attempts(), 1);
  const auto starts = harness_.test_jobs().StartsOf(job.id());
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].consumer, worker->worker_consumer());
}

TEST_F(JobWorkerLifecycleTest, ShutdownWhileTheWorkerWaitsForRedisEndsWithoutTheGracePeriod) {
  harness_.redis().Stop();
  auto worker = harness_.StartExtraApp(true, FastWorkerOptions());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return harness_.ReadLog().find(R"("msg":"job worker starting")") != std::string::npos;
      },
      5s));
  const auto started = std::chrono::steady_clock::now();
  worker->Shutdown();  // grace period: 2 s
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  const std::string log = harness_.ReadLog();
  EXPECT_EQ(log.find("shutdown grace period over"), std::string::npos);
  EXPECT_NE(log.find(R"("msg":"job worker stopped")"), std::string::npos);
}

HarnessOptions WithUserService() {
  HarnessOptions options;
  options.with_user_service = true;
  return options;
}

class UsersReportTest : public JobServiceTest {
 protected:
  UsersReportTest() : JobServiceTest(WithUserService()) {}
  void TearDown() override {
    JobServiceTest::TearDown();
    if (HasFailure()) {
      std::printf("--- user-service log ---\n%s\n", harness_.ReadUserLog().c_str());
    }
  }
};

TEST_F(UsersReportTest, CountsEveryUserByDomainAcrossPagesAndWritesTheReport) {
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto health = grpc::health::v1::Health::NewStub(harness_.user_channel());
        grpc::ClientContext context;
        DataServiceHarness::Prepare(context);
        grpc::health::v1::HealthCheckResponse response;
        return health->Check(&context, {}, &response).ok() &&
               response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      },
      10s));
  auto users = user::v1::UserService::NewStub(harness_.user_channel());
  constexpr int kUsers = 130;  // more than one ListUsers page of 100
  const std::vector<std::string> domains = {"example.com", "example.org", "mail.test"};
  std::map<std::string, int> expected;
  for (int i = 0; i < kUsers; ++i) {
    const std::string& domain = domains[(i * i) % domains.size()];
    grpc::ClientContext context;
    DataServiceHarness::Prepare(context);
    user::v1::CreateUserRequest request;
    request.set_name("User " + std::to_string(i));
    request.set_email("user" + std::to_string(i) + "@" + domain);
    user::v1::CreateUserResponse response;
    ASSERT_TRUE(users->CreateUser(&context, request, &response).ok()) << i;
    ++expected[domain];
  }

  v1::Job job;
  ASSERT_TRUE(harness_.Submit("users.report", "{}", 0, &job).ok());
  v1::Job done;
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 15s, done))
      << done.DebugString();
  const auto& result = done.result().fields();
  EXPECT_EQ(result.at("user_count").number_value(), kUsers);
  const auto& per_domain = result.at("per_domain").struct_value().fields();
  EXPECT_EQ(per_domain.size(), expected.size());
  for (const auto& [domain, count] : expected) {
    ASSERT_EQ(per_domain.count(domain), 1u) << domain;
    EXPECT_EQ(per_domain.at(domain).number_value(), count) << domain;
  }

  // The same object is the value of reports/users.
  v1::DataItem item;
  ASSERT_TRUE(harness_.Get("reports/users", &item).ok());
  EXPECT_EQ(item.version(), 1);
  auto stored = JsonToStruct(item.value());
  ASSERT_TRUE(stored.ok()) << item.value();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*stored, done.result()))
      << item.value();

  // Each ListUsers call carried the job id as its request id: two pages.
  const std::string user_log = harness_.ReadUserLog();
  std::size_t calls = 0;
  for (std::size_t pos = 0;
       (pos = user_log.find("\"request_id\":\"" + job.id() + "\"", pos)) != std::string::npos;
       ++pos) {
    ++calls;
  }
  EXPECT_EQ(calls, 2u) << user_log;

  // Running it again writes the report again: its version grows.
  ASSERT_TRUE(harness_.Submit("users.report", "{}", 0, &job).ok());
  ASSERT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 15s, done));
  ASSERT_TRUE(harness_.Get("reports/users", &item).ok());
  EXPECT_EQ(item.version(), 2);
}

}  // namespace
}  // namespace switchyard::data
