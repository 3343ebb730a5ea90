#include "gateway/json_codec.hpp"

#include <gtest/gtest.h>

#include "switchyard/test/v1/echo_service.pb.h"
#include "switchyard/user/v1/user_service.pb.h"

namespace switchyard::gateway {
namespace {

using switchyard::test::v1::EchoRequest;

struct BadBody {
  std::string json;
  std::string names;  // a part of the message that names the problem
};

void PrintTo(const BadBody& body, std::ostream* out) { *out << body.json; }

class JsonStrictnessTest : public ::testing::TestWithParam<BadBody> {};

TEST_P(JsonStrictnessTest, RejectsWithMessageNamingTheProblem) {
  EchoRequest message;
  const absl::Status status = ParseJsonBody(GetParam().json, message);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << GetParam().json;
  EXPECT_EQ(status.message().rfind("invalid JSON body: ", 0), 0u);
  EXPECT_NE(status.message().find(GetParam().names), std::string::npos) << status.message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonStrictnessTest,
    ::testing::Values(BadBody{R"({"unknown_field": 1})", "unknown_field"},
                      BadBody{R"({"nested": {"nope": true}})", "nope"},
                      BadBody{R"({"single_int32": "abc"})", "single_int32"},
                      BadBody{R"({"single_int32": 3000000000})", "single_int32"},
                      BadBody{R"({"color": "COLOR_PURPLE"})", "color"},
                      BadBody{R"({"single_string": 5})", "single_string"},
                      BadBody{R"({"name": "x",)", ""}, BadBody{R"([1, 2])", ""},
                      BadBody{"not json", ""}),
    [](const ::testing::TestParamInfo<BadBody>& param) { return std::to_string(param.index); });

TEST(JsonCodecTest, AcceptsProtoAndCamelNamesAndCanonicalForms) {
  EchoRequest message;
  ASSERT_TRUE(ParseJsonBody(R"({"single_int64": "9007199254740993", "singleInt32": 7,
                                "color": "COLOR_GREEN", "otherName": "alias",
                                "timestamp": "2024-01-02T03:04:05Z", "duration": "1.5s"})",
                            message)
                  .ok());
  EXPECT_EQ(message.single_int64(), 9007199254740993);
  EXPECT_EQ(message.single_int32(), 7);
  EXPECT_EQ(message.color(), switchyard::test::v1::COLOR_GREEN);
  EXPECT_EQ(message.aliased(), "alias");
  EXPECT_EQ(message.timestamp().seconds(), 1704164645);
  EXPECT_EQ(message.duration().nanos(), 500000000);
}

TEST(JsonCodecTest, PrintsProtoNamesByDefaultAndCamelOnRequest) {
  switchyard::user::v1::ListUsersResponse response;
  response.add_users()->set_id("u1");
  std::string proto_names;
  ASSERT_TRUE(PrintJson(response, JsonOutputOptions{}, proto_names).ok());
  EXPECT_NE(proto_names.find("\"next_page_token\":\"\""), std::string::npos) << proto_names;
  std::string camel;
  ASSERT_TRUE(PrintJson(response, JsonOutputOptions{true}, camel).ok());
  EXPECT_NE(camel.find("\"nextPageToken\":\"\""), std::string::npos) << camel;
}

TEST(JsonCodecTest, Int64IsPrintedAsAString) {
  EchoRequest message;
  message.set_single_int64(9007199254740993);
  std::string json;
  ASSERT_TRUE(PrintJson(message, JsonOutputOptions{}, json).ok());
  EXPECT_NE(json.find("\"single_int64\":\"9007199254740993\""), std::string::npos) << json;
}

}  // namespace
}  // namespace switchyard::gateway
