#include "data-service/job_store.hpp"

namespace switchyard::data {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kRetrying:
      return "retrying";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kDead:
      return "dead";
  }
  return "queued";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const JobState state : kAllJobStates) {
    if (JobStateName(state) == name) return state;
  }
  return std::nullopt;
}

}  // namespace switchyard::data
