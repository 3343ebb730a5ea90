#pragma once

// Storage for jobs, as JobServiceImpl needs it (the worker's side is RedisJobQueue). Arguments
// arrive validated; payload and result travel as JSON text.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>

#include "data-service/data_store.hpp"

namespace switchyard::data {

// Where a job is in its life (see job_worker.hpp for the transitions).
enum class JobState { kQueued, kRunning, kRetrying, kSucceeded, kDead };

inline constexpr JobState kAllJobStates[] = {JobState::kQueued, JobState::kRunning,
                                             JobState::kRetrying, JobState::kSucceeded,
                                             JobState::kDead};

// "queued", "running", "retrying", "succeeded", "dead": the names stored in Redis.
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);

struct JobRecord {
  std::string id;
  std::string type;
  std::string payload_json;  // a JSON object
  JobState state = JobState::kQueued;
  std::int32_t attempts = 0;  // started so far
  std::int32_t max_attempts = 0;
  std::string last_error;
  std::string result_json;  // a JSON object once succeeded, else empty
  std::int64_t created_at_us = 0;
  std::int64_t updated_at_us = 0;
  std::int64_t next_attempt_at_us = 0;  // when RETRYING, else 0
  std::int64_t seq = 0;                 // submission order, the page cursor
};

struct NewJob {
  std::string id;
  std::string type;
  std::string payload_json;
  std::int32_t max_attempts = 0;
};

struct JobPage {
  std::vector<JobRecord> jobs;
  // seq of the last job of this page when more jobs follow; 0 on the last page.
  std::int64_t next_before = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Stores the job as QUEUED and enqueues it for the workers, in one step. ALREADY_EXISTS when
  // the id is taken.
  virtual boost::asio::awaitable<absl::StatusOr<JobRecord>> Submit(NewJob job,
                                                                   Deadline deadline) = 0;
  // NOT_FOUND when there is no such job.
  virtual boost::asio::awaitable<absl::StatusOr<JobRecord>> Get(std::string id,
                                                                Deadline deadline) = 0;
  // Newest first: jobs submitted before position `before` (0: from the newest), only those in
  // `state` when given.
  virtual boost::asio::awaitable<absl::StatusOr<JobPage>> List(std::optional<JobState> state,
                                                               std::int64_t before,
                                                               std::int32_t limit,
                                                               Deadline deadline) = 0;
};

}  // namespace switchyard::data
