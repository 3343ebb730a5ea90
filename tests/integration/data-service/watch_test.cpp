// WatchData and WatchJob over real gRPC on loopback against a real redis-server: the first
// message, changes in order, resume with no gap and no duplicate, the errors, and a client's
// cancellation reaching the service.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/data-service/data_service_harness.hpp"

namespace switchyard::data {
namespace {

using namespace std::chrono_literals;
using grpc::StatusCode;

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(harness_.Ready()); }
  void TearDown() override {
    if (HasFailure()) std::printf("--- data-service log ---\n%s\n", harness_.ReadLog().c_str());
  }

  // An open WatchData call; every read is bounded by the call's deadline.
  struct DataWatch {
    std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<grpc::ClientReader<v1::WatchDataResponse>> reader;
  };

  DataWatch OpenDataWatch(const std::string& prefix, const std::string& resume_after = "") {
    DataWatch watch;
    watch.context->set_deadline(std::chrono::system_clock::now() + 20s);
    v1::WatchDataRequest request;
    request.set_prefix(prefix);
    request.set_resume_after(resume_after);
    watch.reader = harness_.data().WatchData(watch.context.get(), request);
    return watch;
  }

  // Runs redis-cli against the test's Redis.
  int RedisCli(const std::string& args) {
    const std::string command = "redis-cli --no-auth-warning -p " +
                                std::to_string(harness_.redis().port()) + " -a " +
                                harness_.redis().password() + " " + args + " > /dev/null";
    return std::system(command.c_str());
  }

  DataServiceHarness harness_;
};

TEST_F(WatchTest, WatchDataStartsSyncedThenStreamsPutsAndDeletesUnderItsPrefix) {
  auto watch = OpenDataWatch("watched/");
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  EXPECT_EQ(message.kind(), v1::DATA_CHANGE_KIND_SYNCED);
  EXPECT_FALSE(message.position().empty());
  EXPECT_FALSE(message.has_item());

  ASSERT_TRUE(harness_.Put("watched/a", "one").ok());
  ASSERT_TRUE(harness_.Put("elsewhere/b", "not for this watch").ok());
  ASSERT_TRUE(harness_.Put("watched/a", "two").ok());
  ASSERT_TRUE(harness_.Delete("watched/a").ok());

  std::string last_position = message.position();
  const std::vector<std::pair<v1::DataChangeKind, std::int64_t>> expected = {
      {v1::DATA_CHANGE_KIND_PUT, 1},
      {v1::DATA_CHANGE_KIND_PUT, 2},
      {v1::DATA_CHANGE_KIND_DELETE, 2}};
  for (const auto& [kind, version] : expected) {
    ASSERT_TRUE(watch.reader->Read(&message));
    EXPECT_EQ(message.kind(), kind);
    EXPECT_EQ(message.item().key(), "watched/a");
    EXPECT_EQ(message.item().version(), version);
    EXPECT_GT(message.item().updated_at().seconds(), 1'600'000'000);
    EXPECT_GT(*StreamId::Parse(message.position()), *StreamId::Parse(last_position));
    last_position = message.position();
  }
  EXPECT_EQ(message.item().value(), "");  // a delete carries no value
  watch.context->TryCancel();
}

TEST_F(WatchTest, ResumeAfterAPositionMissesNothingAndRepeatsNothing) {
  std::vector<std::string> positions;
  {
    auto watch = OpenDataWatch("r/");
    v1::WatchDataResponse message;
    ASSERT_TRUE(watch.reader->Read(&message));  // SYNCED
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(harness_.Put("r/" + std::to_string(i), "x").ok());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(watch.reader->Read(&message));
      EXPECT_EQ(message.item().key(), "r/" + std::to_string(i));
      positions.push_back(message.position());
    }
    watch.context->TryCancel();  // the connection drops after two changes
  }
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(harness_.Put("r/" + std::to_string(i), "x").ok());

  auto watch = OpenDataWatch("r/", positions.back());
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  EXPECT_EQ(message.kind(), v1::DATA_CHANGE_KIND_SYNCED);
  EXPECT_EQ(message.position(), positions.back());
  for (int i = 2; i < 10; ++i) {
    ASSERT_TRUE(watch.reader->Read(&message)) << i;
    EXPECT_EQ(message.kind(), v1::DATA_CHANGE_KIND_PUT);
    EXPECT_EQ(message.item().key(), "r/" + std::to_string(i));
  }
  // And live changes continue after the history.
  ASSERT_TRUE(harness_.Put("r/live", "y").ok());
  ASSERT_TRUE(watch.reader->Read(&message));
  EXPECT_EQ(message.item().key(), "r/live");
  watch.context->TryCancel();
}

TEST_F(WatchTest, ManyWritesWhileWatchingArriveInOrderOnce) {
  auto watch = OpenDataWatch("burst/");
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  constexpr int kWrites = 2000;
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      ASSERT_TRUE(harness_.Put("burst/k", std::to_string(i)).ok());
    }
  });
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(watch.reader->Read(&message)) << i;
    ASSERT_EQ(message.item().version(), i + 1);
    ASSERT_EQ(message.item().value(), std::to_string(i));
  }
  writer.join();
  watch.context->TryCancel();
}

TEST_F(WatchTest, AResumePositionOlderThanTheHistoryIsOutOfRange) {
  std::vector<std::string> positions;
  auto watch = OpenDataWatch("old/");
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(harness_.Put("old/" + std::to_string(i), "x").ok());
    ASSERT_TRUE(watch.reader->Read(&message));
    positions.push_back(message.position());
  }
  watch.context->TryCancel();
  ASSERT_EQ(RedisCli("XTRIM sy:data:events MAXLEN 2"), 0);  // keeps the last two

  auto old = OpenDataWatch("old/", positions[0]);
  ASSERT_TRUE(old.reader->Read(&message));  // SYNCED, then the error
  EXPECT_FALSE(old.reader->Read(&message));
  const grpc::Status status = old.reader->Finish();
  EXPECT_EQ(status.error_code(), StatusCode::OUT_OF_RANGE) << status.error_message();
  EXPECT_NE(status.error_message().find("older than the retained history"), std::string::npos);

  // The oldest position still retained resumes fine.
  auto recent = OpenDataWatch("old/", positions[3]);
  ASSERT_TRUE(recent.reader->Read(&message));
  ASSERT_TRUE(recent.reader->Read(&message));
  EXPECT_EQ(message.item().key(), "old/4");
  recent.context->TryCancel();
}

TEST_F(WatchTest, BadRequestsAreInvalidArgumentBeforeAnyMessage) {
  for (const auto& [prefix, position] : std::vector<std::pair<std::string, std::string>>{
           {"bad prefix!", ""}, {"ok/", "not-a-position"}, {"ok/", "12"}}) {
    auto watch = OpenDataWatch(prefix, position);
    v1::WatchDataResponse message;
    EXPECT_FALSE(watch.reader->Read(&message));
    const grpc::Status status = watch.reader->Finish();
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT) << prefix << " " << position;
  }
}

TEST_F(WatchTest, ClientCancellationEndsTheWatchInTheService) {
  auto watch = OpenDataWatch("");
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  EXPECT_EQ(harness_.app().open_watches(), 1u);
  watch.context->TryCancel();
  EXPECT_TRUE(testing::WaitFor([&] { return harness_.app().open_watches() == 0; }, 5s));
}

TEST_F(WatchTest, ShutdownEndsOpenWatchesWithUnavailable) {
  auto watch = OpenDataWatch("");
  v1::WatchDataResponse message;
  ASSERT_TRUE(watch.reader->Read(&message));
  const auto started = std::chrono::steady_clock::now();
  harness_.StopService();
  EXPECT_FALSE(watch.reader->Read(&message));
  EXPECT_EQ(watch.reader->Finish().error_code(), StatusCode::UNAVAILABLE);
  // Well within the 2 s grace: the watch did not hold the drain up.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

// Reads a WatchJob call to its end.
struct JobWatchResult {
  std::vector<v1::WatchJobResponse> messages;
  grpc::Status status;
};

JobWatchResult WatchJobToEnd(v1::JobService::Stub& stub, const std::string& id,
                             const std::string& resume_after = "") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 20s);
  v1::WatchJobRequest request;
  request.set_id(id);
  request.set_resume_after(resume_after);
  auto reader = stub.WatchJob(&context, request);
  JobWatchResult result;
  v1::WatchJobResponse message;
  while (reader->Read(&message)) result.messages.push_back(message);
  result.status = reader->Finish();
  return result;
}

TEST_F(WatchTest, WatchJobFollowsEveryStateUntilTheJobEndsAndResumes) {
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("test.flaky", R"({"fail_times": 1})", 3, &job).ok());
  const auto all = WatchJobToEnd(harness_.jobs(), job.id());
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  ASSERT_GE(all.messages.size(), 1u);
  EXPECT_EQ(all.messages.back().job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(all.messages.back().job().result().fields().at("attempt").number_value(), 2);
  EXPECT_EQ(all.messages.back().job().type(), "test.flaky");
  for (std::size_t i = 1; i < all.messages.size(); ++i) {
    EXPECT_GT(*StreamId::Parse(all.messages[i].position()),
              *StreamId::Parse(all.messages[i - 1].position()));
  }

  // From the very first change on, the whole history: QUEUED, RUNNING, RETRYING, QUEUED,
  // RUNNING, SUCCEEDED, each once.
  std::vector<v1::WatchJobResponse> history;
  {
    auto first = WatchJobToEnd(harness_.jobs(), job.id(), "0-0");
    ASSERT_TRUE(first.status.ok()) << first.status.error_message();
    history = first.messages;
  }
  const std::vector<v1::JobState> states = {v1::JOB_STATE_QUEUED,   v1::JOB_STATE_RUNNING,
                                            v1::JOB_STATE_RETRYING, v1::JOB_STATE_QUEUED,
                                            v1::JOB_STATE_RUNNING,  v1::JOB_STATE_SUCCEEDED};
  ASSERT_EQ(history.size(), states.size());
  for (std::size_t i = 0; i < states.size(); ++i) EXPECT_EQ(history[i].job().state(), states[i]);

  // Resuming after the third change gives exactly the three after it.
  const auto rest = WatchJobToEnd(harness_.jobs(), job.id(), history[2].position());
  ASSERT_TRUE(rest.status.ok());
  ASSERT_EQ(rest.messages.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rest.messages[i].position(), history[i + 3].position());
    EXPECT_EQ(rest.messages[i].job().state(), states[i + 3]);
  }
  // After the last one: nothing more, the stream just ends.
  const auto none = WatchJobToEnd(harness_.jobs(), job.id(), history.back().position());
  EXPECT_TRUE(none.status.ok());
  EXPECT_TRUE(none.messages.empty());
}

TEST_F(WatchTest, WatchJobErrors) {
  auto missing = WatchJobToEnd(harness_.jobs(), "7f1c1f0e-5b1a-4c1e-9f1a-1b2c3d4e5f60");
  EXPECT_EQ(missing.status.error_code(), StatusCode::NOT_FOUND);
  EXPECT_TRUE(missing.messages.empty());
  auto bad = WatchJobToEnd(harness_.jobs(), "nope");
  EXPECT_EQ(bad.status.error_code(), StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace switchyard::data
