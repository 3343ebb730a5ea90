#include "common/service/service_host.hpp"

#include <future>
#include <thread>
#include <utility>

#include <boost/asio/post.hpp>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

namespace switchyard {

namespace {

// What reflection lists: the services' own names and health.
std::vector<std::string> ListedServices(const ServiceHostOptions& options) {
  std::vector<std::string> names = options.health_services;
  names.emplace_back("grpc.health.v1.Health");
  return names;
}

}  // namespace

ServiceHost::ServiceHost(ServiceHostOptions options, Logger& logger)
    : options_(std::move(options)),
      logger_(logger),
      runtime_(options_.shards),
      health_(options_.health_services),
      reflection_(ListedServices(options_)),
      shard_ready_(runtime_.size(), false) {
  // gRPC's own health and reflection services bring threads of their own; ours do not.
  grpc::EnableDefaultHealthCheckService(false);
  health_.Register(builder_);
  reflection_.Register(builder_);
}

ServiceHost::~ServiceHost() { Shutdown(); }

const std::vector<std::shared_ptr<redis::RedisClient>>& ServiceHost::AddRedis(
    const redis::RedisConfig& config) {
  if (!redis_.empty()) return redis_;
  redis_metrics_ = std::make_unique<RedisMetrics>(metrics_.registry());
  for (std::size_t i = 0; i < runtime_.size(); ++i) {
    auto client = redis::RedisClient::Create(runtime_.shard(i).io.get_executor(), config, logger_);
    client->SetStateCallback([this, i](bool ready) { SetShardReady(i, ready); });
    client->SetObserver(redis_metrics_.get());
    redis_.push_back(std::move(client));
  }
  return redis_;
}

void ServiceHost::Add(absl::StatusOr<rpc::Registration> registration) {
  if (runtime_started_) {
    if (auto status = rpc::Serve(runtime_, std::move(registration)); !status.ok()) {
      logger_.Error("cannot serve a method", {{"error", status.message()}});
    }
    return;
  }
  if (!registration.ok()) {
    if (registration_error_.ok()) registration_error_ = registration.status();
    return;
  }
  registrations_.push_back(*std::move(registration));
}

void ServiceHost::OnEachShard(const std::function<void(std::size_t shard)>& work) {
  for (std::size_t i = 0; i < runtime_.size(); ++i) {
    std::promise<void> done;
    boost::asio::post(runtime_.shard(i).io, [&, i] {
      work(i);
      done.set_value();
    });
    done.get_future().wait();
  }
}

absl::Status ServiceHost::Start() {
  // A method that cannot be served stops the start before anything is bound.
  if (!registration_error_.ok()) return registration_error_;
  // Metrics first: a port that cannot be bound stops the start before any gRPC state exists.
  if (!options_.metrics_address.empty()) {
    if (auto status = metrics_.Serve(options_.metrics_address); !status.ok()) return status;
  }
  builder_.AddListeningPort(options_.listen_address, grpc::InsecureServerCredentials(), &port_);
  // Clients reconnect (and so re-resolve) every few minutes, so pods added by a scale-up get
  // their share of long-lived channels; in-flight calls get a grace period to finish.
  builder_.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, 5 * 60 * 1000);
  builder_.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30 * 1000);
  runtime_.AddServerQueues(builder_);
  server_ = builder_.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return absl::UnavailableError("cannot listen on " + options_.listen_address +
                                  " (address in use or not valid)");
  }
  SetServing(false);
  runtime_.Start();
  runtime_started_ = true;
  if (auto status = health_.Serve(runtime_, logger_, &rpc_metrics_); !status.ok()) return status;
  if (auto status = reflection_.Serve(runtime_, logger_); !status.ok()) return status;
  for (auto& registration : std::exchange(registrations_, {})) registration(runtime_);
  for (std::size_t i = 0; i < redis_.size(); ++i) {
    boost::asio::post(runtime_.shard(i).io, [client = redis_[i]] { client->Start(); });
  }
  logger_.Info("grpc server listening", {{"address", options_.listen_address},
                                         {"port", port_},
                                         {"metrics_port", metrics_.port()},
                                         {"shards", static_cast<std::int64_t>(options_.shards)}});
  return absl::OkStatus();
}

void ServiceHost::SetServing(bool serving) { health_.SetAllServing(serving); }

void ServiceHost::SetShardReady(std::size_t shard, bool ready) {
  std::lock_guard lock(ready_mutex_);
  if (draining_ || shard >= shard_ready_.size() || shard_ready_[shard] == ready) return;
  shard_ready_[shard] = ready;
  ready_shards_ = ready ? ready_shards_ + 1 : ready_shards_ - 1;
  SetServing(ready_shards_ == shard_ready_.size());
}

void ServiceHost::AddStopHook(std::function<void()> hook) {
  stop_hooks_.push_back(std::move(hook));
}

void ServiceHost::WaitForSignal() { stop_signal_.Wait(logger_); }

void ServiceHost::RequestStop() { stop_signal_.Request(); }

void ServiceHost::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) {
    {
      std::lock_guard lock(ready_mutex_);
      draining_ = true;
    }
    SetServing(false);
    if (options_.drain_delay.count() > 0) std::this_thread::sleep_for(options_.drain_delay);
    health_.Shutdown();  // open watches end, so they do not hold the shutdown up
    const auto started = std::chrono::steady_clock::now();
    server_->Shutdown(std::chrono::system_clock::now() + options_.shutdown_grace);
    const auto took =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    logger_.Info("grpc server stopped", {{"drain_ms", took}});
  }
  // Hooks run on the io threads: only when they were ever started.
  if (runtime_started_) {
    for (auto& hook : stop_hooks_) hook();
    // Each client lives on its shard's io thread: stop it there.
    if (!redis_.empty()) OnEachShard([this](std::size_t shard) { redis_[shard]->Stop(); });
    runtime_.Stop();
  }
  server_.reset();
}

}  // namespace switchyard
