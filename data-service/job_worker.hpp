#pragma once

// The job worker: coroutines inside data-service that take jobs from the queue and run them.
//
// Job states (every change is one Lua script in RedisJobQueue):
//
//   SubmitJob -> QUEUED --(a worker starts attempt n: attempts = n)--> RUNNING
//   RUNNING --(handler succeeds)--> SUCCEEDED                      (final)
//   RUNNING --(handler fails or times out, n < max_attempts)--> RETRYING (next_attempt_at)
//   RETRYING --(next_attempt_at passes; PromoteDue)--> QUEUED
//   RUNNING --(fails or times out, n = max_attempts)--> DEAD (last_error)  (final)
//   RUNNING --(its worker goes quiet for the visibility timeout; another worker claims the
//             entry)--> RUNNING as attempt n + 1, or DEAD when n = max_attempts
//
// One worker per process, on one runtime shard:
//  - a read loop: XAUTOCLAIM of entries idle past the visibility timeout (every half of it),
//    then XREADGROUP BLOCK for new ones, never asking for more than the free slots
//    (JOB_CONCURRENCY attempts run at once per process). The blocking read has its own Redis
//    connection (`reader`), so it stalls nothing else; everything else the worker does goes on
//    a second connection of its own (`client`), not on the API shards' connections.
//  - a maintenance loop: moves due retries back into the stream, refreshes the depth gauges.
//  - one coroutine per attempt: the handler, raced against the attempt timeout and a heartbeat
//    that keeps the stream entry claimed by this worker (and notices when it is not any more).
//
// Stopping: Stop() stops taking jobs and lets running attempts finish; Abandon() cancels them
// without recording anything (as a crash would): their entries stay pending and another worker
// re-delivers them after the visibility timeout, as a new attempt.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/grpc/grpc_runtime.hpp"
#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"
#include "data-service/job_metrics.hpp"
#include "data-service/job_registry.hpp"
#include "data-service/redis_data_store.hpp"
#include "data-service/redis_job_queue.hpp"

namespace switchyard::data {

struct JobWorkerOptions {
  // This process's consumer name in the group; unique per process (see DefaultConsumerName).
  std::string consumer;
  std::int32_t concurrency = 4;                         // JOB_CONCURRENCY
  std::chrono::milliseconds visibility_timeout{30000};  // JOB_VISIBILITY_TIMEOUT_MS
  std::chrono::milliseconds backoff_base{1000};         // JOB_BACKOFF_BASE_MS
  std::chrono::milliseconds backoff_max{60000};         // JOB_BACKOFF_MAX_MS
  std::chrono::milliseconds attempt_timeout{30000};     // JOB_TIMEOUT_MS
  // Longest XREADGROUP BLOCK; also capped at half the visibility timeout so claims keep up.
  std::chrono::milliseconds read_block{1000};
  // How often due retries are moved back into the stream.
  std::chrono::milliseconds promote_interval{50};
  // Pause after a failed Redis call before the loops try again.
  std::chrono::milliseconds retry_pause{200};
  // Sees the worker's Redis commands (metrics); must outlive the worker. Optional.
  redis::RedisObserver* redis_observer = nullptr;
};

// "<hostname>-<pid>-<8 hex>": unique per process start.
std::string DefaultConsumerName();

class JobWorker : public std::enable_shared_from_this<JobWorker> {
 public:
  // `shard` is where the worker's coroutines and Redis connections live; `redis` configures its
  // two connections. `registry`, `metrics` and `logger` must outlive the worker.
  static std::shared_ptr<JobWorker> Create(rpc::Shard& shard, redis::RedisConfig redis,
                                           JobWorkerOptions options,
                                           std::shared_ptr<const JobRegistry> registry,
                                           JobMetrics& metrics, Logger& logger);
  ~JobWorker();
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  // The methods below run on the shard's io thread only.

  // Connects and starts the loops.
  void Start();
  // Takes no new jobs; running attempts go on. `on_stopped` runs (on the io thread) once nothing
  // of the worker runs any more and its Redis connections are closed; at once if that is so.
  void Stop(std::function<void()> on_stopped);
  // Cancels running attempts without recording their outcome and closes the connections at once.
  // Their entries are re-delivered by another worker after the visibility timeout.
  void Abandon();

  std::size_t running() const { return attempts_.size(); }
  const std::string& consumer() const { return options_.consumer; }

 private:
  struct Attempt {
    boost::asio::cancellation_signal cancel;
  };

  JobWorker(rpc::Shard& shard, redis::RedisConfig redis, JobWorkerOptions options,
            std::shared_ptr<const JobRegistry> registry, JobMetrics& metrics, Logger& logger);

  // The worker's life, in one direction only:
  //   kIdle --Start--> kRunning --Stop--> kDraining --nothing runs--> kRetiring --> kStopped
  //   kRunning or kDraining --Abandon--> kAbandoning --nothing runs--> kStopped
  //   kIdle --Stop or Abandon--> kStopped
  // kDraining lets running attempts finish; kAbandoning cancels them without recording anything;
  // kRetiring removes this consumer from the group (XGROUP DELCONSUMER) before closing.
  enum class State { kIdle, kRunning, kDraining, kAbandoning, kRetiring, kStopped };

  // Until both connections are ready the first time: true, or false when the worker stops
  // taking jobs first. Awaits the clients' ready signal.
  boost::asio::awaitable<bool> WaitUntilConnected();
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<void> MaintenanceLoop();
  boost::asio::awaitable<void> RunAttempt(Delivery delivery);
  boost::asio::awaitable<JobResult> InvokeHandler(const JobType* type, JobContext& context,
                                                  const std::string& payload_json);
  boost::asio::awaitable<void> Heartbeat(Delivery delivery);
  boost::asio::awaitable<void> Pause(std::chrono::milliseconds delay);
  // Records an attempt's outcome, retrying a failed write a few times.
  boost::asio::awaitable<void> Complete(Delivery delivery, const AttemptStart& start,
                                        absl::StatusOr<std::string> result,
                                        std::chrono::steady_clock::duration took);

  bool taking_jobs() const { return state_ == State::kRunning; }
  bool abandoning() const { return state_ == State::kAbandoning; }
  // Ends the read and maintenance loops (leaving kRunning is the caller's part).
  void StopTakingJobs();
  void Launch(Delivery delivery);
  // Runs `work` on the shard, cancellable through `slot`; `on_done` runs after it ended.
  void Spawn(boost::asio::awaitable<void> work, boost::asio::cancellation_slot slot,
             std::function<void()> on_done);
  void MaybeFinishStop();
  void FinishStop();
  // Logs the first failure of a run of failed Redis calls, and the recovery.
  void NoteRedis(const absl::Status& status, std::string_view what);
  std::chrono::milliseconds NextRetryDelay(std::int32_t attempt);

  rpc::Shard& shard_;
  JobWorkerOptions options_;
  std::shared_ptr<const JobRegistry> registry_;
  JobMetrics& metrics_;
  Logger& logger_;
  std::shared_ptr<redis::RedisClient> client_;  // every command but the blocking read
  std::shared_ptr<redis::RedisClient> reader_;  // XREADGROUP BLOCK only
  RedisDataStore data_;
  RedisJobQueue queue_;

  std::map<std::string, std::unique_ptr<Attempt>> attempts_;  // by stream entry id
  boost::asio::cancellation_signal read_cancel_;
  boost::asio::cancellation_signal maintenance_cancel_;
  boost::asio::steady_timer slot_free_;  // cancelled whenever an attempt ends
  std::string claim_cursor_ = "0-0";
  std::chrono::steady_clock::time_point next_claim_{};
  std::size_t live_coroutines_ = 0;
  State state_ = State::kIdle;
  bool redis_trouble_ = false;
  std::vector<std::function<void()>> on_stopped_;
  std::minstd_rand rng_;
};

}  // namespace switchyard::data
