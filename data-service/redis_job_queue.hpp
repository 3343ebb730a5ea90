#pragma once

// The workers' side of the job keys (see redis_job_store.hpp for the layout), on Redis Streams:
//
//   - Delivery: one stream, sy:jobs:stream, whose entries name a job (job=<id>); consumer group
//     "workers"; each worker process is one consumer. XREADGROUP ... > hands out new entries;
//     an entry stays in the group's pending list (PEL) until the worker completes the attempt.
//   - At-least-once: an entry whose consumer went quiet for the visibility timeout is taken over
//     by another worker with XAUTOCLAIM. A running attempt keeps its entry fresh with a heartbeat
//     (XCLAIM ... JUSTID by its owner only), so only a dead or cut-off worker loses it.
//   - Every state change is one Lua script that checks the job's current state, attempt and
//     stream entry, then changes the hash, moves the id between the state indexes, and
//     acknowledges (XACK + XDEL) the entry. A completion for an attempt that is no longer the
//     current one (the job was taken over, or is already SUCCEEDED or DEAD) changes nothing.
//   - Retries: a failed attempt moves the job to RETRYING and into sy:jobs:delayed (a zset scored
//     by the due time in µs); PromoteDue moves due jobs back into the stream (QUEUED) with a new
//     entry, atomically.
//
// Every method runs on the executor of the clients it was given.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>

#include "common/redis/redis_client.hpp"
#include "data-service/data_store.hpp"

namespace switchyard::data {

// One stream entry handed to this worker.
struct Delivery {
  std::string entry_id;  // e.g. "1700000000000-0"
  std::string job_id;
};

struct AttemptStart {
  enum class Outcome {
    kRun,   // the attempt is this worker's: run it
    kSkip,  // nothing to run (a stale entry, or the job is done); the entry was acknowledged
    kDead,  // a taken-over job had no attempts left: now DEAD; the entry was acknowledged
  };
  Outcome outcome = Outcome::kSkip;
  std::int32_t attempt = 0;  // kRun: the number of this attempt (1 for the first)
  std::int32_t max_attempts = 0;
  std::string type;
  std::string payload_json;
  std::string detail;  // kSkip: the job's state ("missing" if gone); kDead: the error recorded
};

struct Completion {
  enum class Outcome {
    kSucceeded,  // the job is SUCCEEDED
    kRetrying,   // the job is RETRYING until next_attempt_at_us
    kDead,       // no attempts left: the job is DEAD
    kStale,      // the attempt was no longer the job's current one; nothing changed
  };
  Outcome outcome = Outcome::kStale;
  std::int64_t next_attempt_at_us = 0;  // kRetrying
  std::string state;                    // kStale: the job's state ("missing" if gone)
};

struct QueueDepth {
  std::int64_t queued = 0;    // waiting in the stream for a worker
  std::int64_t retrying = 0;  // waiting for their next attempt to be due
  std::int64_t running = 0;   // held by a worker
};

class RedisJobQueue {
 public:
  // `client` carries every command except the blocking read, which goes to `reader` (its own
  // connection, with a command timeout above the block time). Registers scripts with `client`:
  // construct before client.Start().
  RedisJobQueue(redis::RedisClient& client, redis::RedisClient& reader);

  // XGROUP CREATE ... 0 MKSTREAM; an existing group is fine.
  boost::asio::awaitable<absl::Status> EnsureGroup();

  // XREADGROUP of up to `count` new entries, blocking up to `block`. An empty list when none
  // came. FAILED_PRECONDITION when the group is gone (call EnsureGroup).
  boost::asio::awaitable<absl::StatusOr<std::vector<Delivery>>> Read(
      std::string consumer, std::int32_t count, std::chrono::milliseconds block);

  // XAUTOCLAIM of up to `count` entries idle for more than `min_idle`, from `cursor` (updated;
  // "0-0" starts over).
  boost::asio::awaitable<absl::StatusOr<std::vector<Delivery>>> Claim(
      std::string consumer, std::chrono::milliseconds min_idle, std::string& cursor,
      std::int32_t count);

  // Starts the next attempt of the delivered job (RUNNING, attempts + 1) when `delivery` is its
  // current entry and it is QUEUED, or RUNNING under a lost worker.
  boost::asio::awaitable<absl::StatusOr<AttemptStart>> Start(Delivery delivery);

  // Attempt `attempt` succeeded with `result_json`.
  boost::asio::awaitable<absl::StatusOr<Completion>> Succeed(Delivery delivery,
                                                             std::int32_t attempt,
                                                             std::string result_json);

  // Attempt `attempt` failed with `error`: RETRYING, due after `retry_delay`, or DEAD when it
  // was the last allowed attempt.
  boost::asio::awaitable<absl::StatusOr<Completion>> Fail(Delivery delivery, std::int32_t attempt,
                                                          std::string error,
                                                          std::chrono::milliseconds retry_delay);

  // Resets the idle time of `delivery` while `consumer` still owns it; false when it does not
  // (another worker took it over).
  boost::asio::awaitable<absl::StatusOr<bool>> Heartbeat(Delivery delivery, std::string consumer);

  // Moves up to `limit` RETRYING jobs whose time has come back into the stream; returns how many.
  boost::asio::awaitable<absl::StatusOr<std::int64_t>> PromoteDue(std::int32_t limit);

  boost::asio::awaitable<absl::StatusOr<QueueDepth>> Depth();

  // Removes `consumer` from the group when nothing is pending for it (a clean stop).
  boost::asio::awaitable<absl::Status> Retire(std::string consumer);

 private:
  redis::RedisClient& client_;
  redis::RedisClient& reader_;
};

}  // namespace switchyard::data
