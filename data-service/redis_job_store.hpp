#pragma once

// JobStore on Redis (the API side; RedisJobQueue is the workers' side of the same keys):
//   sy:job:<id>            hash    type, payload, state, attempts, max_attempts, last_error,
//                                  result, created, updated, next_attempt (µs), seq, entry
//   sy:jobs:all            zset    id by seq: every job, newest first with ZREVRANGEBYSCORE
//   sy:jobs:state:<state>  zset    id by seq, one per state; a job moves between them in the
//                                  same script that changes its state
//   sy:jobs:seq            string  submission counter
//   sy:jobs:stream         stream  entries job=<id>; consumer group "workers"
//   sy:jobs:events         stream  one entry per change of a job: job=<id> and its changing
//                                  fields as they are after it (state, attempts, last_error,
//                                  result, updated, next_attempt), for WatchJob
// Submit writes the hash, both indexes and the stream entry in one Lua script.

#include "common/redis/redis_client.hpp"
#include "data-service/job_store.hpp"

namespace switchyard::data {

// A job and the position in the job change stream (sy:jobs:events) it was read at.
struct JobAtPosition {
  JobRecord job;
  std::string position;  // a stream entry id; "0-0" when the stream is empty
};

class RedisJobStore final : public JobStore {
 public:
  // Registers the store's scripts with `client`: construct before client.Start().
  explicit RedisJobStore(redis::RedisClient& client);

  boost::asio::awaitable<absl::StatusOr<JobRecord>> Submit(NewJob job, Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<JobRecord>> Get(std::string id, Deadline deadline) override;
  // The job and the change stream's last entry id, read atomically: every later change of the
  // job has a greater id. NOT_FOUND when there is no such job.
  boost::asio::awaitable<absl::StatusOr<JobAtPosition>> GetWithPosition(std::string id,
                                                                        Deadline deadline);
  boost::asio::awaitable<absl::StatusOr<JobPage>> List(std::optional<JobState> state,
                                                       std::int64_t before, std::int32_t limit,
                                                       Deadline deadline) override;

 private:
  redis::RedisClient& client_;
};

}  // namespace switchyard::data
