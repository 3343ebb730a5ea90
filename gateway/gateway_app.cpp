#include "gateway/gateway_app.hpp"

#include <thread>

#include "gateway/openapi/openapi.hpp"
#include "gateway/routing/http_mapping.hpp"

namespace switchyard::gateway {

GatewayApp::GatewayApp(GatewayConfig config, Logger& logger)
    : config_(std::move(config)), logger_(logger), runtime_(config_.shards) {}

GatewayApp::~GatewayApp() { Shutdown(); }

absl::Status GatewayApp::Start() {
  if (!config_.metrics_address.empty()) {
    if (auto status = metrics_.Serve(config_.metrics_address); !status.ok()) return status;
  }
  std::map<std::string, std::size_t> upstream_index;  // address -> index
  std::map<std::string, std::size_t> services;        // service -> upstream index
  std::vector<std::pair<std::string, std::size_t>> health_targets;
  for (const auto& [service, address] : config_.services) {
    auto [it, added] = upstream_index.emplace(address, upstreams_.size());
    if (added) upstreams_.push_back(std::make_unique<Upstream>(address));
    services[service] = it->second;
    health_targets.emplace_back(service, it->second);
  }
  auto routes = RouteTable::Build(services);
  if (!routes.ok()) return routes.status();
  routes_ = *std::move(routes);

  handler_ =
      std::make_unique<RestHandler>(config_.rest, *routes_, upstreams_, std::move(health_targets),
                                    runtime_, logger_, gateway_metrics_);
  OpenApiOptions openapi;
  openapi.camel_case = config_.rest.camel_case_json;
  handler_->SetOpenApi(BuildOpenApi(*routes_, openapi));
  runtime_.Start();
  started_ = true;
  server_ = std::make_unique<HttpServer>(
      runtime_, config_.http,
      [this](HttpRequest& request, const RequestInfo& info) {
        return handler_->Handle(request, info);
      },
      [this](unsigned status, std::string_view message, const HttpRequest* request) {
        const std::string request_id =
            request ? RequestIdOrNew(std::string_view((*request)["X-Request-ID"].data(),
                                                      (*request)["X-Request-ID"].size()))
                    : RequestIdOrNew("");
        const auto code = status == 413 || status == 431 ? grpc::StatusCode::RESOURCE_EXHAUSTED
                          : status >= 500                ? grpc::StatusCode::INTERNAL
                                                         : grpc::StatusCode::INVALID_ARGUMENT;
        return handler_->Error(status, code, message, request_id, request);
      },
      logger_);
  if (auto status = server_->Start(); !status.ok()) return status;
  for (const RouteTarget& route : routes_->routes()) {
    logger_.Debug(
        "route",
        {{"method", route.http_method}, {"path", route.path_template}, {"grpc", route.grpc_path}});
  }
  logger_.Info("gateway ready", {{"routes", static_cast<std::int64_t>(routes_->routes().size())},
                                 {"upstreams", static_cast<std::int64_t>(upstreams_.size())}});
  return absl::OkStatus();
}

void GatewayApp::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (handler_) handler_->SetDraining();
  if (server_ && config_.drain_delay.count() > 0) {
    logger_.Info("draining",
                 {{"delay_ms", static_cast<std::int64_t>(config_.drain_delay.count())}});
    std::this_thread::sleep_for(config_.drain_delay);
  }
  // Streams end (with a final event) once the listener is closed, so clients reconnect
  // elsewhere; they are ordinary busy connections for the grace period after that.
  if (server_) server_->Stop(config_.shutdown_grace, [this] { handler_->EndStreams(); });
  if (started_) runtime_.Stop();
}

}  // namespace switchyard::gateway
