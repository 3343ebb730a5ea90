#include "common/service_host.hpp"

#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

namespace switchyard {

ServiceHost::ServiceHost(ServiceHostOptions options, Logger& logger)
    : options_(std::move(options)), logger_(logger), runtime_(options_.shards) {
  // Both must be set before the server is built; they are process-wide switches.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
}

ServiceHost::~ServiceHost() { Shutdown(); }

absl::Status ServiceHost::Start() {
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
  logger_.Info("grpc server listening", {{"address", options_.listen_address},
                                         {"port", port_},
                                         {"metrics_port", metrics_.port()},
                                         {"shards", static_cast<std::int64_t>(options_.shards)}});
  return absl::OkStatus();
}

void ServiceHost::SetServing(bool serving) {
  if (!server_) return;
  auto* health = server_->GetHealthCheckService();
  if (!health) return;
  health->SetServingStatus(serving);
  for (const auto& name : options_.health_services) health->SetServingStatus(name, serving);
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
    SetServing(false);
    if (options_.drain_delay.count() > 0) std::this_thread::sleep_for(options_.drain_delay);
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
    runtime_.Stop();
  }
  server_.reset();
}

}  // namespace switchyard
