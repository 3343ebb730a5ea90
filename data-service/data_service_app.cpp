#include "data-service/data_service_app.hpp"

#include <utility>

#include <boost/asio/post.hpp>

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
  for (const auto& redis : host_.AddRedis(config_.redis)) {
    auto state = std::make_unique<ShardState>();
    state->data_store = std::make_unique<RedisDataStore>(*redis);
    state->job_store = std::make_unique<RedisJobStore>(*redis);
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
  // The worker stops before the host closes the shards' Redis clients.
  host_.AddStopHook([this] {
    if (started_ && worker_) FinishWorker(shutdown_started_ + config_.host.shutdown_grace);
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
}

}  // namespace switchyard::data
