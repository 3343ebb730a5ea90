#pragma once

// data-service wired together: per runtime shard one Redis connection (the host's) with a
// RedisDataStore, a RedisJobStore and the two impls; each DataService and JobService RPC served
// by the shard's impl; health that follows Redis; and (unless disabled) the job worker on shard 0
// with its own Redis connections. main() and the integration tests both use this.

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/service/service_host.hpp"
#include "data-service/change_feed.hpp"
#include "data-service/data_service_impl.hpp"
#include "data-service/job_metrics.hpp"
#include "data-service/job_registry.hpp"
#include "data-service/job_service_impl.hpp"
#include "data-service/job_worker.hpp"
#include "data-service/redis_data_store.hpp"
#include "data-service/redis_job_store.hpp"
#include "data-service/watch_service_impl.hpp"
#include "switchyard/data/v1/data_service.grpc.pb.h"
#include "switchyard/data/v1/job_service.grpc.pb.h"

namespace switchyard::data {

struct DataServiceConfig {
  ServiceHostOptions host;  // listen_address defaults to 0.0.0.0:50052 in main()
  redis::RedisConfig redis;
  bool worker_enabled = true;  // WORKER_ENABLED; false: the API only
  JobWorkerOptions worker;
};

class DataServiceApp {
 public:
  // `registry` holds the job types SubmitJob accepts and the worker runs.
  DataServiceApp(DataServiceConfig config, std::shared_ptr<const JobRegistry> registry,
                 Logger& logger);
  ~DataServiceApp();
  DataServiceApp(const DataServiceApp&) = delete;
  DataServiceApp& operator=(const DataServiceApp&) = delete;

  // Binds the port and starts serving and the worker; health is SERVING once Redis is reachable.
  absl::Status Start();
  int port() const { return host_.port(); }
  ServiceHost& host() { return host_; }
  JobMetrics& job_metrics() { return metrics_; }
  // The worker's consumer name (empty without a worker).
  std::string worker_consumer() const;
  // WatchData and WatchJob calls open now, over every shard (thread-safe; blocks briefly).
  std::size_t open_watches();

  // Blocks until SIGTERM/SIGINT or host().RequestStop().
  void WaitForSignal() { host_.WaitForSignal(); }

  // Graceful: the worker takes no new jobs; NOT_SERVING; in-flight calls drain; running jobs get
  // what is left of the grace period (then they are abandoned un-acknowledged: another worker
  // re-delivers them after the visibility timeout); Redis closed; threads stopped. Idempotent.
  void Shutdown();

  // Stops the worker at once, as a crash would: running attempts are cancelled without
  // recording anything and its connections close. The API keeps serving. Blocks until done.
  void AbandonWorker();

 private:
  struct ShardState {
    std::unique_ptr<RedisDataStore> data_store;
    std::unique_ptr<RedisJobStore> job_store;
    std::unique_ptr<DataServiceImpl> data_impl;
    std::unique_ptr<JobServiceImpl> job_impl;
    std::shared_ptr<ChangeFeed> feed;  // its own Redis connection: XREAD BLOCK holds it
    std::unique_ptr<WatchServiceImpl> watch_impl;
  };

  void ServeRpcs();
  // Ends every open watch (UNAVAILABLE: resume elsewhere) and stops the feeds. Idempotent.
  void StopFeeds();
  // Asks the worker to stop (once); its future becomes ready when it has.
  void RequestWorkerStop();
  // Waits for the worker until `deadline`, then abandons what still runs.
  void FinishWorker(std::chrono::steady_clock::time_point deadline);

  DataServiceConfig config_;
  std::shared_ptr<const JobRegistry> registry_;
  Logger& logger_;
  JobMetrics metrics_;
  ServiceHost host_;
  v1::DataService::AsyncService data_service_;
  v1::JobService::AsyncService job_service_;
  std::vector<std::unique_ptr<ShardState>> shards_;
  std::shared_ptr<JobWorker> worker_;
  std::optional<std::shared_future<void>> worker_stopped_;
  std::chrono::steady_clock::time_point shutdown_started_{};
  bool started_ = false;
  bool feeds_stopped_ = false;
};

}  // namespace switchyard::data
