// DataService over real gRPC on loopback against a real redis-server.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/data-service/data_service_harness.hpp"

namespace switchyard::data {
namespace {

using namespace std::chrono_literals;
using grpc::StatusCode;
using grpc::health::v1::HealthCheckResponse;

class DataServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(harness_.Ready()); }
  void TearDown() override {
    if (HasFailure()) std::printf("--- data-service log ---\n%s\n", harness_.ReadLog().c_str());
  }

  DataServiceHarness harness_;
};

std::string KeyName(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "items/%04d", i);
  return name;
}

TEST_F(DataServiceTest, PutGetDeleteRoundTripWithGrowingVersions) {
  v1::DataItem item;
  ASSERT_TRUE(harness_.Put("config/colour", "blue", std::nullopt, &item).ok());
  EXPECT_EQ(item.key(), "config/colour");
  EXPECT_EQ(item.value(), "blue");
  EXPECT_EQ(item.version(), 1);
  EXPECT_GT(item.updated_at().seconds(), 1'600'000'000);

  v1::DataItem got;
  ASSERT_TRUE(harness_.Get("config/colour", &got).ok());
  EXPECT_EQ(got.SerializeAsString(), item.SerializeAsString());

  for (int version = 2; version <= 4; ++version) {
    ASSERT_TRUE(
        harness_.Put("config/colour", "v" + std::to_string(version), std::nullopt, &item).ok());
    EXPECT_EQ(item.version(), version);
  }
  ASSERT_TRUE(harness_.Get("config/colour", &got).ok());
  EXPECT_EQ(got.value(), "v4");
  EXPECT_EQ(got.version(), 4);

  ASSERT_TRUE(harness_.Delete("config/colour").ok());
  EXPECT_EQ(harness_.Get("config/colour").error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(harness_.Delete("config/colour").error_code(), StatusCode::NOT_FOUND);
  // A key written again after a delete starts over at version 1.
  ASSERT_TRUE(harness_.Put("config/colour", "red", std::nullopt, &item).ok());
  EXPECT_EQ(item.version(), 1);
}

TEST_F(DataServiceTest, ExpectedVersionMismatchIsFailedPreconditionAndChangesNothing) {
  // 0: create only.
  v1::DataItem item;
  ASSERT_TRUE(harness_.Put("lock/a", "first", 0, &item).ok());
  EXPECT_EQ(item.version(), 1);
  grpc::Status status = harness_.Put("lock/a", "second", 0);
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message().rfind("expected_version: ", 0), 0u) << status.error_message();

  status = harness_.Put("lock/a", "stale", 7);
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(harness_.Put("lock/missing", "x", 1).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(harness_.Get("lock/missing").error_code(), StatusCode::NOT_FOUND);

  v1::DataItem got;
  ASSERT_TRUE(harness_.Get("lock/a", &got).ok());
  EXPECT_EQ(got.value(), "first");
  EXPECT_EQ(got.version(), 1);

  ASSERT_TRUE(harness_.Put("lock/a", "second", 1, &item).ok());
  EXPECT_EQ(item.version(), 2);

  EXPECT_EQ(harness_.Delete("lock/a", 1).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(harness_.Delete("lock/a", 0).error_code(), StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(harness_.Get("lock/a", &got).ok());
  EXPECT_EQ(got.value(), "second");
  EXPECT_TRUE(harness_.Delete("lock/a", 2).ok());
  EXPECT_EQ(harness_.Get("lock/a").error_code(), StatusCode::NOT_FOUND);
}

TEST_F(DataServiceTest, ListDataPagesThrough250KeysOfAPrefixWithoutGapOrRepeat) {
  constexpr int kKeys = 250;
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    expected.push_back(KeyName(i));
    ASSERT_TRUE(harness_.Put(KeyName(i), "value " + std::to_string(i)).ok());
  }
  // Neighbours that the prefix must leave out, on both sides in key order.
  for (const std::string& other :
       {std::string("item"), std::string("items"), std::string("itemsz/1"), std::string("a/1"),
        std::string("zz/1")}) {
    ASSERT_TRUE(harness_.Put(other, "x").ok());
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListDataResponse page;
    ASSERT_TRUE(harness_.List("items/", 7, token, page).ok());
    ASSERT_LE(page.items_size(), 7);
    for (const auto& item : page.items()) {
      seen.push_back(item.key());
      EXPECT_EQ(item.version(), 1);
    }
    token = page.next_page_token();
    if (pages == 3) {
      // Deleting a key already seen shifts nothing on later pages.
      ASSERT_TRUE(harness_.Delete(KeyName(5)).ok());
    }
    ++pages;
    ASSERT_LT(pages, 100);
  } while (!token.empty());
  EXPECT_EQ(pages, (kKeys + 6) / 7);
  EXPECT_EQ(seen, expected);

  v1::ListDataResponse page;
  ASSERT_TRUE(harness_.List("items/", 0, "", page).ok());
  EXPECT_EQ(page.items_size(), 20);
  EXPECT_EQ(page.items(5).key(), KeyName(6));
  EXPECT_EQ(page.items(0).value(), "value 0");

  // No prefix: every key in key order, 100 a page.
  std::vector<std::string> all;
  token.clear();
  do {
    v1::ListDataResponse next;
    ASSERT_TRUE(harness_.List("", 100, token, next).ok());
    for (const auto& item : next.items()) all.push_back(item.key());
    token = next.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kKeys - 1 + 5));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(all.front(), "a/1");
  EXPECT_EQ(all.back(), "zz/1");

  v1::ListDataResponse none;
  ASSERT_TRUE(harness_.List("nothing/", 10, "", none).ok());
  EXPECT_EQ(none.items_size(), 0);
  EXPECT_TRUE(none.next_page_token().empty());
}

TEST_F(DataServiceTest, InvalidArgumentsNameTheField) {
  struct Case {
    grpc::Status status;
    std::string field;
  };
  v1::ListDataResponse page;
  const std::vector<Case> cases = {
      {harness_.Put("", "v"), "key: "},
      {harness_.Put("has space", "v"), "key: "},
      {harness_.Put(std::string(257, 'k'), "v"), "key: "},
      {harness_.Put("k", std::string(64 * 1024 + 1, 'v')), "value: "},
      {harness_.Put("k", "v", -1), "expected_version: "},
      {harness_.Get("no*star"), "key: "},
      {harness_.Delete(""), "key: "},
      {harness_.List("bad prefix", 10, "", page), "prefix: "},
      {harness_.List("", 101, "", page), "page_size: "},
      {harness_.List("", 10, "bogus", page), "page_token: "},
  };
  // (Invalid UTF-8 never reaches the service over gRPC: protobuf refuses to parse it. The
  // check behind it is covered by the unit tests.)
  for (const auto& c : cases) {
    EXPECT_EQ(c.status.error_code(), StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(c.status.error_message().rfind(c.field, 0), 0u) << c.status.error_message();
  }
  // The largest value is fine.
  v1::DataItem item;
  ASSERT_TRUE(harness_.Put("k", std::string(64 * 1024, 'v'), std::nullopt, &item).ok());
  EXPECT_EQ(item.value().size(), 64u * 1024u);
}

TEST_F(DataServiceTest, GetTimeIsCloseToTheLocalClock) {
  grpc::ClientContext context;
  DataServiceHarness::Prepare(context);
  v1::GetTimeResponse response;
  const auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(harness_.data().GetTime(&context, v1::GetTimeRequest(), &response).ok());
  const auto after = std::chrono::system_clock::now();
  const auto redis_time = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(response.time().seconds()) +
          std::chrono::nanoseconds(response.time().nanos())));
  EXPECT_GE(redis_time, before - 1s);
  EXPECT_LE(redis_time, after + 1s);
  EXPECT_EQ(response.time().nanos() % 1000, 0);  // microseconds
}

TEST_F(DataServiceTest, HealthServesForBothServices) {
  EXPECT_EQ(harness_.HealthStatus("switchyard.data.v1.DataService"), HealthCheckResponse::SERVING);
  EXPECT_EQ(harness_.HealthStatus("switchyard.data.v1.JobService"), HealthCheckResponse::SERVING);
}

TEST_F(DataServiceTest, RedisDownGivesUnavailableFastThenRecovers) {
  ASSERT_TRUE(harness_.Put("kept", "before").ok());
  harness_.redis().Stop();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(harness_.Get("kept").error_code(), StatusCode::UNAVAILABLE);
  EXPECT_EQ(harness_.Put("k", "v").error_code(), StatusCode::UNAVAILABLE);
  EXPECT_EQ(harness_.Submit("data.copy", R"({"from":"kept","to":"copy"})").error_code(),
            StatusCode::UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // answers, not hangs
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return harness_.HealthStatus("switchyard.data.v1.JobService") ==
               HealthCheckResponse::NOT_SERVING;
      },
      5s));
  EXPECT_EQ(harness_.HealthStatus("switchyard.data.v1.DataService"),
            HealthCheckResponse::NOT_SERVING);

  harness_.redis().Start();
  EXPECT_TRUE(testing::WaitFor([&] { return harness_.Get("kept").ok(); }, 10s));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return harness_.HealthStatus() == HealthCheckResponse::SERVING; }, 5s));
  v1::DataItem item;
  ASSERT_TRUE(harness_.Get("kept", &item).ok());
  EXPECT_EQ(item.value(), "before");

  // The worker is back too: a job submitted now runs.
  v1::Job job;
  ASSERT_TRUE(harness_.Submit("data.copy", R"({"from":"kept","to":"copy"})", 0, &job).ok());
  v1::Job done;
  EXPECT_TRUE(harness_.WaitForState(job.id(), v1::JOB_STATE_SUCCEEDED, 10s, done))
      << done.DebugString();
  ASSERT_TRUE(harness_.Get("copy", &item).ok());
  EXPECT_EQ(item.value(), "before");
}

}  // namespace
}  // namespace switchyard::data
