#include "gateway/routing/http_mapping.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace switchyard::gateway {
namespace {

TEST(HttpMappingTest, GrpcCodesMapToTheSharedStatusTable) {
  const std::pair<grpc::StatusCode, unsigned> table[] = {
      {grpc::StatusCode::OK, 200},
      {grpc::StatusCode::CANCELLED, 499},
      {grpc::StatusCode::UNKNOWN, 500},
      {grpc::StatusCode::INVALID_ARGUMENT, 400},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 504},
      {grpc::StatusCode::NOT_FOUND, 404},
      {grpc::StatusCode::ALREADY_EXISTS, 409},
      {grpc::StatusCode::PERMISSION_DENIED, 403},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 429},
      {grpc::StatusCode::FAILED_PRECONDITION, 400},
      {grpc::StatusCode::ABORTED, 409},
      {grpc::StatusCode::OUT_OF_RANGE, 400},
      {grpc::StatusCode::UNIMPLEMENTED, 501},
      {grpc::StatusCode::INTERNAL, 500},
      {grpc::StatusCode::UNAVAILABLE, 503},
      {grpc::StatusCode::DATA_LOSS, 500},
      {grpc::StatusCode::UNAUTHENTICATED, 401},
  };
  for (const auto& [code, http] : table) {
    EXPECT_EQ(HttpStatusFromGrpc(code), http) << static_cast<int>(code);
  }
}

TEST(HttpMappingTest, RequestIdKeptOnlyWhenWellFormed) {
  EXPECT_EQ(RequestIdOrNew("abc-123"), "abc-123");
  EXPECT_EQ(RequestIdOrNew(std::string(128, 'x')), std::string(128, 'x'));
  for (const std::string& bad :
       {std::string(), std::string(129, 'x'), std::string("has space"), std::string("tab\there"),
        std::string("nl\n"), std::string("\xC3\xA9")}) {
    const std::string id = RequestIdOrNew(bad);
    EXPECT_NE(id, bad);
    EXPECT_EQ(id.size(), 36u) << "a UUIDv4 replaces " << bad;
  }
}

TEST(HttpMappingTest, GrpcTimeoutParsesEveryUnitAndRejectsJunk) {
  using namespace std::chrono;
  EXPECT_EQ(ParseGrpcTimeout("2H"), hours(2));
  EXPECT_EQ(ParseGrpcTimeout("3M"), minutes(3));
  EXPECT_EQ(ParseGrpcTimeout("5S"), seconds(5));
  EXPECT_EQ(ParseGrpcTimeout("200m"), milliseconds(200));
  EXPECT_EQ(ParseGrpcTimeout("7u"), microseconds(7));
  EXPECT_EQ(ParseGrpcTimeout("9n"), nanoseconds(9));
  for (const char* bad : {"", "S", "5", "5s", "-5S", "123456789S", "1.5S", "soon"}) {
    EXPECT_FALSE(ParseGrpcTimeout(bad).has_value()) << bad;
  }
}

TEST(HttpMappingTest, ErrorBodyIsAGoogleRpcStatusWithTheRequestId) {
  const auto body =
      boost::json::parse(ErrorBody(grpc::StatusCode::NOT_FOUND, "user \"x\" not found", "rid-1"));
  EXPECT_EQ(body.at("code").as_int64(), 5);
  EXPECT_EQ(body.at("message").as_string(), "user \"x\" not found");
  const auto& detail = body.at("details").as_array().at(0);
  EXPECT_EQ(detail.at("@type").as_string(), "type.googleapis.com/google.rpc.RequestInfo");
  EXPECT_EQ(detail.at("request_id").as_string(), "rid-1");
}

TEST(HttpMappingTest, JsonContentTypeWithOrWithoutParameters) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType(""));
}

}  // namespace
}  // namespace switchyard::gateway
