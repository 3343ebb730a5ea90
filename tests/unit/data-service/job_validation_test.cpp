// The field rules of JobService and the built-in job types' payload rules: table-driven, no I/O.

#include "data-service/job_validation.hpp"

#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "data-service/builtin_jobs.hpp"
#include "data-service/struct_json.hpp"

namespace switchyard::data {
namespace {

google::protobuf::Struct Json(const std::string& text) {
  auto value = JsonToStruct(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *value : google::protobuf::Struct();
}

TEST(JobValidationTest, MaxAttemptsDefaultsTo5AndAllows1To20) {
  const std::vector<std::pair<std::int32_t, std::int32_t>> valid = {
      {0, 5}, {1, 1}, {5, 5}, {20, 20}};
  for (const auto& [in, out] : valid) {
    const auto attempts = NormalizeMaxAttempts(in);
    ASSERT_TRUE(attempts.ok()) << in;
    EXPECT_EQ(*attempts, out);
  }
  for (const std::int32_t bad : {-1, 21, 100}) {
    const auto attempts = NormalizeMaxAttempts(bad);
    EXPECT_EQ(attempts.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(attempts.status().message().substr(0, 14), "max_attempts: ");
  }
}

TEST(JobValidationTest, JobIdsAreUuidsLowerCased) {
  const auto id = NormalizeJobId("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  for (const std::string& bad :
       std::vector<std::string>{"", "job-1", "3f2504e0-4f89-41d3-9a0c-0305e82c330"}) {
    const auto result = NormalizeJobId(bad);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(result.status().message().substr(0, 4), "id: ");
  }
}

TEST(JobValidationTest, StateFilterMapsEveryProtoState) {
  const std::vector<std::pair<v1::JobState, std::optional<JobState>>> cases = {
      {v1::JOB_STATE_UNSPECIFIED, std::nullopt},
      {v1::JOB_STATE_QUEUED, JobState::kQueued},
      {v1::JOB_STATE_RUNNING, JobState::kRunning},
      {v1::JOB_STATE_RETRYING, JobState::kRetrying},
      {v1::JOB_STATE_SUCCEEDED, JobState::kSucceeded},
      {v1::JOB_STATE_DEAD, JobState::kDead},
  };
  for (const auto& [proto, state] : cases) {
    const auto filter = StateFilter(proto);
    ASSERT_TRUE(filter.ok()) << proto;
    EXPECT_EQ(*filter, state) << proto;
    if (state) {
      EXPECT_EQ(ToProtoState(*state), proto);
    }
  }
  const auto unknown = StateFilter(42);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message().substr(0, 7), "state: ");
}

TEST(JobValidationTest, StateNamesRoundTrip) {
  for (const JobState state : kAllJobStates) {
    EXPECT_EQ(ParseJobState(JobStateName(state)), state);
  }
  EXPECT_EQ(ParseJobState("paused"), std::nullopt);
}

TEST(JobValidationTest, PageTokensRoundTripUnderTheirOwnFilterOnly) {
  const std::string all = EncodeJobPageToken(std::nullopt, 42);
  const std::string dead = EncodeJobPageToken(JobState::kDead, 42);
  EXPECT_NE(all, dead);
  ASSERT_TRUE(DecodeJobPageToken(all, std::nullopt).ok());
  EXPECT_EQ(*DecodeJobPageToken(all, std::nullopt), 42);
  EXPECT_EQ(*DecodeJobPageToken(dead, JobState::kDead), 42);
  EXPECT_EQ(*DecodeJobPageToken("", JobState::kDead), 0);
  for (const auto& [token, filter] : std::vector<std::pair<std::string, std::optional<JobState>>>{
           {dead, std::nullopt},
           {all, JobState::kQueued},
           {"garbage!", std::nullopt},
           {EncodeJobPageToken(std::nullopt, 0), std::nullopt},
       }) {
    const auto decoded = DecodeJobPageToken(token, filter);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_EQ(decoded.status().message().substr(0, 12), "page_token: ");
  }
}

struct PayloadCase {
  std::string json;
  std::string error_prefix;  // empty: valid
};

TEST(BuiltinJobsTest, DataCopyPayloadNeedsTwoDifferentValidKeys) {
  const std::vector<PayloadCase> cases = {
      {R"({"from":"a/b","to":"c/d"})", ""},
      {R"({"to":"c/d"})", "payload.from: "},
      {R"({"from":"a/b"})", "payload.to: "},
      {R"({"from":7,"to":"c/d"})", "payload.from: "},
      {R"({"from":"a/b","to":["c"]})", "payload.to: "},
      {R"({"from":"bad key","to":"c/d"})", "payload.from: "},
      {R"({"from":"a/b","to":""})", "payload.to: "},
      {R"({"from":"a/b","to":"a/b"})", "payload.to: "},
      {R"({"from":"a/b","to":"c/d","extra":1})", "payload.extra: "},
      {R"({})", "payload.from: "},
  };
  for (const auto& c : cases) {
    const absl::Status status = ValidateDataCopyPayload(Json(c.json));
    if (c.error_prefix.empty()) {
      EXPECT_TRUE(status.ok()) << c.json << ": " << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.json;
      EXPECT_EQ(status.message().substr(0, c.error_prefix.size()), c.error_prefix)
          << c.json << ": " << status;
    }
  }
}

TEST(BuiltinJobsTest, UsersReportPayloadTakesNoFields) {
  EXPECT_TRUE(ValidateUsersReportPayload(Json("{}")).ok());
  const absl::Status status = ValidateUsersReportPayload(Json(R"({"domain":"x"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, 16), "payload.domain: ") << status;
}

TEST(StructJsonTest, RoundTripsAndRejectsNonObjects) {
  const auto value = JsonToStruct(R"({"n":3,"s":"x","l":[true,null],"o":{"k":1.5}})");
  ASSERT_TRUE(value.ok()) << value.status();
  const auto again = JsonToStruct(StructToJson(*value));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*again, *value));
  EXPECT_EQ(StructToJson(google::protobuf::Struct()), "{}");
  for (const std::string& bad : std::vector<std::string>{"", "[1]", "3", "{", "{\"a\":}"}) {
    EXPECT_EQ(JsonToStruct(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace switchyard::data
