#include "data-service/job_validation.hpp"

#include <charconv>

#include "absl/strings/escaping.h"

#include "common/uuid.hpp"
#include "common/validation.hpp"

namespace switchyard::data {

namespace {

constexpr std::string_view kJobTokenPrefix = "j1:";

std::string FilterName(std::optional<JobState> filter) {
  return filter ? std::string(JobStateName(*filter)) : std::string("all");
}

}  // namespace

absl::StatusOr<std::int32_t> NormalizeMaxAttempts(std::int32_t max_attempts) {
  if (max_attempts == 0) return kDefaultMaxAttempts;
  if (max_attempts < 1 || max_attempts > kMaxMaxAttempts) {
    return absl::InvalidArgumentError("max_attempts: must be from 1 to 20 (0 means 5)");
  }
  return max_attempts;
}

absl::StatusOr<std::string> NormalizeJobId(std::string_view id) { return NormalizeUuid("id", id); }

absl::StatusOr<std::optional<JobState>> StateFilter(int proto_state) {
  switch (proto_state) {
    case v1::JOB_STATE_UNSPECIFIED:
      return std::optional<JobState>();
    case v1::JOB_STATE_QUEUED:
      return std::optional<JobState>(JobState::kQueued);
    case v1::JOB_STATE_RUNNING:
      return std::optional<JobState>(JobState::kRunning);
    case v1::JOB_STATE_RETRYING:
      return std::optional<JobState>(JobState::kRetrying);
    case v1::JOB_STATE_SUCCEEDED:
      return std::optional<JobState>(JobState::kSucceeded);
    case v1::JOB_STATE_DEAD:
      return std::optional<JobState>(JobState::kDead);
    default:
      return absl::InvalidArgumentError("state: is not a known job state");
  }
}

v1::JobState ToProtoState(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return v1::JOB_STATE_QUEUED;
    case JobState::kRunning:
      return v1::JOB_STATE_RUNNING;
    case JobState::kRetrying:
      return v1::JOB_STATE_RETRYING;
    case JobState::kSucceeded:
      return v1::JOB_STATE_SUCCEEDED;
    case JobState::kDead:
      return v1::JOB_STATE_DEAD;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

std::string EncodeJobPageToken(std::optional<JobState> filter, std::int64_t before) {
  return absl::WebSafeBase64Escape(std::string(kJobTokenPrefix) + FilterName(filter) + ":" +
                                   std::to_string(before));
}

absl::StatusOr<std::int64_t> DecodeJobPageToken(std::string_view token,
                                                std::optional<JobState> filter) {
  const auto invalid = [] {
    return absl::InvalidArgumentError(
        "page_token: is not a token returned by ListJobs for this state");
  };
  if (token.empty()) return 0;
  if (token.size() > 128) return invalid();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw)) {
    return invalid();
  }
  const std::string expected_prefix = std::string(kJobTokenPrefix) + FilterName(filter) + ":";
  if (raw.rfind(expected_prefix, 0) != 0) return invalid();
  std::int64_t before = 0;
  const char* begin = raw.data() + expected_prefix.size();
  const char* end = raw.data() + raw.size();
  const auto [ptr, ec] = std::from_chars(begin, end, before);
  if (ec != std::errc() || ptr != end || begin == end || before < 1) return invalid();
  return before;
}

}  // namespace switchyard::data
