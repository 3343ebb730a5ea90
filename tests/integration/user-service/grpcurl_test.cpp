// What an operator sees with the real grpcurl (pinned, installed by `make deps`) against a live
// user-service: reflection lists and describes the services, every method can be called, health
// answers.

#include "tests/support/grpcurl.hpp"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/integration/user-service/user_service_harness.hpp"

namespace switchyard::user {
namespace {

using Result = testing::GrpcurlResult;

class GrpcurlTest : public testing::GrpcurlFixture<UserServiceHarness> {
 protected:
  GrpcurlTest() : GrpcurlFixture("switchyard.user.v1.UserService/") {}
};

TEST_F(GrpcurlTest, ListShowsUserHealthAndReflectionServices) {
  const Result result = Grpcurl("list");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("switchyard.user.v1.UserService\n"), std::string::npos);
  EXPECT_NE(result.output.find("grpc.health.v1.Health\n"), std::string::npos);
  EXPECT_NE(result.output.find("grpc.reflection.v1alpha.ServerReflection\n"), std::string::npos);
}

TEST_F(GrpcurlTest, DescribeShowsMethodsHttpRulesAndMessages) {
  Result result = Grpcurl("describe switchyard.user.v1.UserService");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* method : {"CreateUser", "GetUser", "ListUsers", "UpdateUser", "DeleteUser"}) {
    EXPECT_NE(result.output.find(std::string("rpc ") + method + " "), std::string::npos) << method;
  }
  EXPECT_NE(result.output.find("/api/users"), std::string::npos) << result.output;

  result = Grpcurl("describe switchyard.user.v1.User");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(".google.protobuf.Timestamp created_at = 4;"), std::string::npos)
      << result.output;

  result = Grpcurl("describe grpc.health.v1.Health");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("rpc Check"), std::string::npos) << result.output;
}

TEST_F(GrpcurlTest, EveryMethodCanBeCalled) {
  const auto created = CallJson("CreateUser", R"({"name":"Ada","email":"ada@example.com"})");
  ASSERT_TRUE(created.contains("user"));
  const std::string id(created.at("user").at("id").as_string());
  EXPECT_EQ(created.at("user").at("email").as_string(), "ada@example.com");

  const auto got = CallJson("GetUser", R"({"id":")" + id + R"("})");
  EXPECT_EQ(got.at("user").at("name").as_string(), "Ada");

  const auto listed = CallJson("ListUsers", R"({"page_size":10})");
  ASSERT_EQ(listed.at("users").as_array().size(), 1u);

  const auto updated = CallJson("UpdateUser", R"({"id":")" + id + R"(","name":"Ada L."})");
  EXPECT_EQ(updated.at("user").at("name").as_string(), "Ada L.");

  const Result deleted =
      Grpcurl("switchyard.user.v1.UserService/DeleteUser", R"({"id":")" + id + R"("})");
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;

  // An error is shown with its code and message.
  const Result missing =
      Grpcurl("switchyard.user.v1.UserService/GetUser", R"({"id":")" + id + R"("})");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("NotFound"), std::string::npos) << missing.output;
}

TEST_F(GrpcurlTest, HealthCheckAnswersServing) {
  Result result = Grpcurl("grpc.health.v1.Health/Check");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("\"SERVING\""), std::string::npos) << result.output;
  result =
      Grpcurl("grpc.health.v1.Health/Check", R"({"service":"switchyard.user.v1.UserService"})");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("\"SERVING\""), std::string::npos) << result.output;
}

}  // namespace
}  // namespace switchyard::user
