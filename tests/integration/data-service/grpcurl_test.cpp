// What an operator sees with the real grpcurl (pinned, installed by `make deps`) against a live
// data-service: reflection lists and describes both services, calls work, health answers.

#include "tests/support/grpcurl.hpp"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/integration/data-service/data_service_harness.hpp"

namespace switchyard::data {
namespace {

using namespace std::chrono_literals;

using Result = testing::GrpcurlResult;

class DataGrpcurlTest : public testing::GrpcurlFixture<DataServiceHarness> {
 protected:
  DataGrpcurlTest() : GrpcurlFixture("switchyard.data.v1.") {}
};

TEST_F(DataGrpcurlTest, ListShowsDataJobHealthAndReflectionServices) {
  const Result result = Grpcurl("list");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("switchyard.data.v1.DataService\n"), std::string::npos);
  EXPECT_NE(result.output.find("switchyard.data.v1.JobService\n"), std::string::npos);
  EXPECT_NE(result.output.find("grpc.health.v1.Health\n"), std::string::npos);
  EXPECT_NE(result.output.find("grpc.reflection.v1alpha.ServerReflection\n"), std::string::npos);
}

TEST_F(DataGrpcurlTest, DescribeShowsMethodsAndHttpRules) {
  Result result = Grpcurl("describe switchyard.data.v1.DataService");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* method :
       {"PutData", "GetData", "ListData", "DeleteData", "GetTime", "WatchData"}) {
    EXPECT_NE(result.output.find(std::string("rpc ") + method + " "), std::string::npos) << method;
  }
  EXPECT_NE(result.output.find("/api/data/{key=**}"), std::string::npos) << result.output;
  result = Grpcurl("describe switchyard.data.v1.JobService");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* method : {"SubmitJob", "GetJob", "ListJobs", "WatchJob"}) {
    EXPECT_NE(result.output.find(std::string("rpc ") + method + " "), std::string::npos) << method;
  }
  EXPECT_NE(result.output.find("returns ( stream .switchyard.data.v1.WatchJobResponse )"),
            std::string::npos)
      << result.output;
}

TEST_F(DataGrpcurlTest, WatchJobStreamsTheJobUntilItEnds) {
  const auto submitted =
      CallJson("JobService/SubmitJob", R"({"type":"test.flaky","payload":{"fail_times":0}})");
  const std::string id(submitted.at("job").at("id").as_string());
  // The stream ends by itself once the job has succeeded: one JSON object per message.
  const Result result =
      Grpcurl("switchyard.data.v1.JobService/WatchJob", R"({"id":")" + id + R"("})");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("\"position\""), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("JOB_STATE_SUCCEEDED"), std::string::npos) << result.output;
}

TEST_F(DataGrpcurlTest, GetTimeAnswersWithATimestamp) {
  const auto response = CallJson("DataService/GetTime", "{}");
  ASSERT_TRUE(response.contains("time")) << boost::json::serialize(response);
  const std::string time(response.at("time").as_string());
  EXPECT_EQ(time.back(), 'Z') << time;
  EXPECT_EQ(time.size(), std::string("2026-01-01T00:00:00.000000Z").size()) << time;
}

TEST_F(DataGrpcurlTest, DataAndJobMethodsCanBeCalled) {
  const auto put = CallJson("DataService/PutData", R"({"key":"cli/a","value":"hi"})");
  EXPECT_EQ(put.at("item").at("version").as_string(), "1");  // int64 is a string in JSON
  const auto got = CallJson("DataService/GetData", R"({"key":"cli/a"})");
  EXPECT_EQ(got.at("item").at("value").as_string(), "hi");

  const auto submitted = CallJson(
      "JobService/SubmitJob", R"({"type":"data.copy","payload":{"from":"cli/a","to":"cli/b"}})");
  const std::string id(submitted.at("job").at("id").as_string());
  EXPECT_EQ(submitted.at("job").at("state").as_string(), "JOB_STATE_QUEUED");
  v1::Job done;
  EXPECT_TRUE(harness_.WaitForState(id, v1::JOB_STATE_SUCCEEDED, 10s, done));
  const auto job = CallJson("JobService/GetJob", R"({"id":")" + id + R"("})");
  EXPECT_EQ(job.at("job").at("state").as_string(), "JOB_STATE_SUCCEEDED");
  EXPECT_EQ(job.at("job").at("result").at("to").as_string(), "cli/b");

  const Result conflict = Grpcurl("switchyard.data.v1.DataService/PutData",
                                  R"({"key":"cli/a","value":"x","expected_version":0})");
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.output.find("FailedPrecondition"), std::string::npos) << conflict.output;
}

TEST_F(DataGrpcurlTest, HealthCheckAnswersServingForBothServices) {
  for (const char* service : {"switchyard.data.v1.DataService", "switchyard.data.v1.JobService"}) {
    const Result result =
        Grpcurl("grpc.health.v1.Health/Check", std::string(R"({"service":")") + service + "\"}");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("\"SERVING\""), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace switchyard::data
