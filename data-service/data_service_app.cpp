#include "data-service/data_service_app.hpp"

#include <future>
#include <utility>

#include <boost/asio/post.hpp>

#include "common/grpc/status.hpp"
#include "common/uuid.hpp"
#include "data-service/redis_keys.hpp"

namespace switchyard::data {

namespace {

constexpr std::string_view kDataServiceName = "switchyard.data.v1.DataService";
constexpr std::string_view kJobServiceName = "switchyard.data.v1.JobService";
// How long an abandoned worker may take to unwind (it only cancels and closes).
constexpr auto kAbandonWait = std::chrono::seconds(10);

// Runs `fn` on `io`'s thread and waits for it.
template <class Fn>
void RunOn(boost::asio::io_context& io, Fn fn) {
  std::promise<void> done;
  boost::asio::post(io, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

DataServiceApp::DataServiceApp(DataServiceConfig config,
                               std::shared_ptr<const JobRegistry> registry, Logger& logger)
    : config_(std::move(config)),
      registry_(std::move(registry)),
      logger_(logger),
      host_(
          [&] {
            ServiceHostOptions options = config_.host;
            options.health_services.emplace_back(kDataServiceName);
            options.health_services.emplace_back(kJobServiceName);
            return options;
          }(),
          logger) {
  if (!registry_) registry_ = std::make_shared<const JobRegistry>();
  std::size_t shard = 0;
  for (const auto& redis : host_.AddRedis(config_.redis)) {
    auto state = std::make_unique<ShardState>();
    state->data_store = std::make_unique<RedisDataStore>(*redis);
    state->job_store = std::make_unique<RedisJobStore>(*redis);
    RegisterStreamScripts(*redis);
    ChangeFeedOptions feed;
    feed.streams = {std::string(keys::kDataEvents), std::string(keys::kJobEvents)};
    state->feed = ChangeFeed::Create(host_.runtime().shard(shard++).io.get_executor(),
                                     config_.redis, std::move(feed), logger_);
    state->watch_impl = std::make_unique<WatchServiceImpl>(*state->feed, *redis, *state->job_store);
    state->data_impl = std::make_unique<DataServiceImpl>(*state->data_store);
    state->job_impl =
        std::make_unique<JobServiceImpl>(*state->job_store, *registry_, metrics_, NewUuidV4);
    shards_.push_back(std::move(state));
  }
  ServeRpcs();
  host_.metrics().AddCollectable(MakeJobMetricsCollector(metrics_));
  if (config_.worker_enabled) {
    config_.worker.redis_observer = host_.redis_metrics();
    worker_ = JobWorker::Create(host_.runtime().shard(0), config_.redis, config_.worker, registry_,
                                metrics_, logger_);
  }
  // The feeds stop with the runtime's threads still there (normally already in Shutdown).
  host_.AddStopHook([this] { StopFeeds(); });
  // The worker stops before the host closes the shards' Redis clients.
  host_.AddStopHook([this] {
    if (started_ && worker_) FinishWorker(shutdown_started_ + config_.host.shutdown_grace);
  });
}

DataServiceApp::~DataServiceApp() {
  Shutdown();
  // Like the worker's: each feed's client goes while the io_contexts still exist.
  for (auto& state : shards_) state->feed.reset();
  // The worker's last references went with its coroutines; its clients close with it here,
  // while the io_contexts still exist.
  worker_.reset();
}

absl::Status DataServiceApp::Start() {
  if (auto status = host_.Start(); !status.ok()) return status;
  started_ = true;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    boost::asio::post(host_.runtime().shard(i).io, [feed = shards_[i]->feed] { feed->Start(); });
  }
  if (worker_) {
    boost::asio::post(host_.runtime().shard(0).io, [worker = worker_] { worker->Start(); });
  }
  return absl::OkStatus();
}

std::string DataServiceApp::worker_consumer() const {
  return worker_ ? worker_->consumer() : std::string();
}

std::size_t DataServiceApp::open_watches() {
  if (!started_ || feeds_stopped_) return 0;
  std::size_t total = 0;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    RunOn(host_.runtime().shard(i).io, [&] { total += shards_[i]->feed->subscriptions(); });
  }
  return total;
}

void DataServiceApp::StopFeeds() {
  if (!started_ || feeds_stopped_) return;
  feeds_stopped_ = true;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    RunOn(host_.runtime().shard(i).io, [&] { shards_[i]->feed->Stop(); });
  }
}

void DataServiceApp::Shutdown() {
  shutdown_started_ = std::chrono::steady_clock::now();
  // The worker stops taking jobs while in-flight calls drain.
  if (started_) RequestWorkerStop();
  // Watches never end by themselves: end them now (clients resume elsewhere), so they do not
  // hold the drain up for the whole grace period.
  StopFeeds();
  host_.Shutdown();
}

void DataServiceApp::RequestWorkerStop() {
  if (!worker_ || worker_stopped_) return;
  auto stopped = std::make_shared<std::promise<void>>();
  worker_stopped_ = stopped->get_future().share();
  boost::asio::post(host_.runtime().shard(0).io, [worker = worker_, stopped] {
    worker->Stop([stopped] { stopped->set_value(); });
  });
}

void DataServiceApp::FinishWorker(std::chrono::steady_clock::time_point deadline) {
  RequestWorkerStop();
  if (worker_stopped_->wait_until(deadline) == std::future_status::ready) return;
  logger_.Warn("shutdown grace period over; abandoning running jobs (they are re-delivered)");
  boost::asio::post(host_.runtime().shard(0).io, [worker = worker_] { worker->Abandon(); });
  if (worker_stopped_->wait_for(kAbandonWait) != std::future_status::ready) {
    logger_.Error("job worker did not stop");
  }
}

void DataServiceApp::AbandonWorker() {
  if (!started_ || !worker_) return;
  RequestWorkerStop();
  boost::asio::post(host_.runtime().shard(0).io, [worker = worker_] { worker->Abandon(); });
  if (worker_stopped_->wait_for(kAbandonWait) != std::future_status::ready) {
    logger_.Error("job worker did not stop");
  }
}

void DataServiceApp::ServeRpcs() {
  using DataService = v1::DataService::AsyncService;
  using JobService = v1::JobService::AsyncService;
  auto data = host_.AddService(data_service_, [this](std::size_t shard) -> DataServiceImpl& {
    return *shards_[shard]->data_impl;
  });
  data.Serve(&DataService::RequestPutData, &DataServiceImpl::PutData);
  data.Serve(&DataService::RequestGetData, &DataServiceImpl::GetData);
  data.Serve(&DataService::RequestListData, &DataServiceImpl::ListData);
  data.Serve(&DataService::RequestDeleteData, &DataServiceImpl::DeleteData);
  data.Serve(&DataService::RequestGetTime, &DataServiceImpl::GetTime);
  auto jobs = host_.AddService(job_service_, [this](std::size_t shard) -> JobServiceImpl& {
    return *shards_[shard]->job_impl;
  });
  jobs.Serve(&JobService::RequestSubmitJob, &JobServiceImpl::SubmitJob);
  jobs.Serve(&JobService::RequestGetJob, &JobServiceImpl::GetJob);
  jobs.Serve(&JobService::RequestListJobs, &JobServiceImpl::ListJobs);

  using DataStream =
      rpc::ServerStreamingRpc<DataService, v1::WatchDataRequest, v1::WatchDataResponse>::Stream;
  data.Serve(
      &DataService::RequestWatchData,
      [this](rpc::RpcContext& rpc, const v1::WatchDataRequest& request,
             DataStream& stream) -> boost::asio::awaitable<grpc::Status> {
        const CallContext call{rpc.request_id, rpc.deadline};
        // Named, not a temporary inside the co_await: g++ 12 destroys such a lambda
        // temporary twice (GCC PR 101367).
        WriteMessage<v1::WatchDataResponse> write =
            [&stream](const v1::WatchDataResponse& message) { return stream.Write(message); };
        const absl::Status status =
            co_await shards_[rpc.shard]->watch_impl->WatchData(call, request, std::move(write));
        co_return ToGrpcStatus(status);
      });
  using JobStream =
      rpc::ServerStreamingRpc<JobService, v1::WatchJobRequest, v1::WatchJobResponse>::Stream;
  jobs.Serve(&JobService::RequestWatchJob,
             [this](rpc::RpcContext& rpc, const v1::WatchJobRequest& request,
                    JobStream& stream) -> boost::asio::awaitable<grpc::Status> {
               const CallContext call{rpc.request_id, rpc.deadline};
               // Named, not a temporary inside the co_await: g++ 12 destroys such a lambda
               // temporary twice (GCC PR 101367).
               WriteMessage<v1::WatchJobResponse> write =
                   [&stream](const v1::WatchJobResponse& message) { return stream.Write(message); };
               const absl::Status status = co_await shards_[rpc.shard]->watch_impl->WatchJob(
                   call, request, std::move(write));
               co_return ToGrpcStatus(status);
             });
}

}  // namespace switchyard::data
