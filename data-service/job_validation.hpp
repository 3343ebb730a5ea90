#pragma once

// The rules for JobService's request fields, as pure functions. Each failure is INVALID_ARGUMENT
// whose message starts with the field's name.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "data-service/job_store.hpp"
#include "switchyard/data/v1/job_service.pb.h"

namespace switchyard::data {

inline constexpr std::int32_t kDefaultMaxAttempts = 5;
inline constexpr std::int32_t kMaxMaxAttempts = 20;
inline constexpr std::size_t kMaxPayloadBytes = 64 * 1024;  // as JSON text

// 0 means the default of 5; otherwise 1 to 20.
absl::StatusOr<std::int32_t> NormalizeMaxAttempts(std::int32_t max_attempts);

// A UUID, lower-cased.
absl::StatusOr<std::string> NormalizeJobId(std::string_view id);

// JOB_STATE_UNSPECIFIED is no filter (nullopt); an unknown number is an error.
absl::StatusOr<std::optional<JobState>> StateFilter(int proto_state);

v1::JobState ToProtoState(JobState state);

// Opaque ListJobs page tokens around the seq of the last job of a page. The token names the
// state filter it was made for; decoding it under another filter fails. Empty decodes to 0.
std::string EncodeJobPageToken(std::optional<JobState> filter, std::int64_t before);
absl::StatusOr<std::int64_t> DecodeJobPageToken(std::string_view token,
                                                std::optional<JobState> filter);

}  // namespace switchyard::data
