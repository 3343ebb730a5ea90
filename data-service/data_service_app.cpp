#include "data-service/data_service_app.hpp"

#include <utility>

#include <boost/asio/post.hpp>

#include "common/grpc_server.hpp"
#include "common/shard_handler.hpp"
#include "common/uuid.hpp"

namespace switchyard::data {

namespace {

constexpr std::string_view kDataServiceName = "switchyard.data.v1.DataService";
constexpr std::string_view kJobServiceName = "switchyard.data.v1.JobService";
// How long an abandoned worker may take to unwind (it only cancels and closes).
constexpr auto kAbandonWait = std::chrono::seconds(10);

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
  host_.builder().RegisterService(&data_service_);
  host_.builder().RegisterService(&job_service_);
  for (std::size_t i = 0; i < host_.runtime().size(); ++i) {
    auto state = std::make_unique<ShardState>();
    state->redis = redis::RedisClient::Create(host_.runtime().shard(i).io.get_executor(),
                                              config_.redis, logger_);
    state->data_store = std::make_unique<RedisDataStore>(*state->redis);
    state->job_store = std::make_unique<RedisJobStore>(*state->redis);
    state->data_impl = std::make_unique<DataServiceImpl>(*state->data_store);
    state->job_impl =
        std::make_unique<JobServiceImpl>(*state->job_store, *registry_, metrics_, NewUuidV4);
    state->redis->SetStateCallback([this, i](bool ready) { host_.SetShardReady(i, ready); });
    state->redis->SetObserver(&redis_metrics_);
    shards_.push_back(std::move(state));
  }
  host_.metrics().AddCollectable(MakeJobMetricsCollector(metrics_));
  if (config_.worker_enabled) {
    config_.worker.redis_observer = &redis_metrics_;
    worker_ = JobWorker::Create(host_.runtime().shard(0), config_.redis, config_.worker, registry_,
                                metrics_, logger_);
  }
  host_.AddStopHook([this] {
    if (!started_) return;  // nothing runs on the io threads
    if (worker_) FinishWorker(shutdown_started_ + config_.host.shutdown_grace);
    // Each client lives on its shard's io thread: stop it there and wait.
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      std::promise<void> stopped;
      boost::asio::post(host_.runtime().shard(i).io, [&, i] {
        shards_[i]->redis->Stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
    }
  });
}

DataServiceApp::~DataServiceApp() {
  Shutdown();
  // The worker's last references went with its coroutines; its clients close with it here,
  // while the io_contexts still exist.
  worker_.reset();
}

absl::Status DataServiceApp::Start() {
  if (auto status = host_.Start(); !status.ok()) return status;
  started_ = true;
  ServeRpcs();
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    boost::asio::post(host_.runtime().shard(i).io, [this, i] { shards_[i]->redis->Start(); });
  }
  if (worker_) {
    boost::asio::post(host_.runtime().shard(0).io, [worker = worker_] { worker->Start(); });
  }
  return absl::OkStatus();
}

std::string DataServiceApp::worker_consumer() const {
  return worker_ ? worker_->consumer() : std::string();
}

void DataServiceApp::Shutdown() {
  shutdown_started_ = std::chrono::steady_clock::now();
  // The worker stops taking jobs while in-flight calls drain.
  if (started_) RequestWorkerStop();
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
  auto& runtime = host_.runtime();
  const auto data_impl = [this](std::size_t shard) -> DataServiceImpl& {
    return *shards_[shard]->data_impl;
  };
  const auto job_impl = [this](std::size_t shard) -> JobServiceImpl& {
    return *shards_[shard]->job_impl;
  };
  const auto bind_data = [&data_impl](auto method) { return rpc::ShardHandler(data_impl, method); };
  const auto bind_jobs = [&job_impl](auto method) { return rpc::ShardHandler(job_impl, method); };
  rpc::UnaryRpc<DataService, v1::PutDataRequest, v1::PutDataResponse>::Serve(
      runtime, data_service_, &DataService::RequestPutData, "PutData",
      bind_data(&DataServiceImpl::PutData), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<DataService, v1::GetDataRequest, v1::GetDataResponse>::Serve(
      runtime, data_service_, &DataService::RequestGetData, "GetData",
      bind_data(&DataServiceImpl::GetData), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<DataService, v1::ListDataRequest, v1::ListDataResponse>::Serve(
      runtime, data_service_, &DataService::RequestListData, "ListData",
      bind_data(&DataServiceImpl::ListData), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<DataService, v1::DeleteDataRequest, v1::DeleteDataResponse>::Serve(
      runtime, data_service_, &DataService::RequestDeleteData, "DeleteData",
      bind_data(&DataServiceImpl::DeleteData), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<DataService, v1::GetTimeRequest, v1::GetTimeResponse>::Serve(
      runtime, data_service_, &DataService::RequestGetTime, "GetTime",
      bind_data(&DataServiceImpl::GetTime), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<JobService, v1::SubmitJobRequest, v1::SubmitJobResponse>::Serve(
      runtime, job_service_, &JobService::RequestSubmitJob, "SubmitJob",
      bind_jobs(&JobServiceImpl::SubmitJob), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<JobService, v1::GetJobRequest, v1::GetJobResponse>::Serve(
      runtime, job_service_, &JobService::RequestGetJob, "GetJob",
      bind_jobs(&JobServiceImpl::GetJob), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<JobService, v1::ListJobsRequest, v1::ListJobsResponse>::Serve(
      runtime, job_service_, &JobService::RequestListJobs, "ListJobs",
      bind_jobs(&JobServiceImpl::ListJobs), logger_, &host_.rpc_metrics());
}

}  // namespace switchyard::data
