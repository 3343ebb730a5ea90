#pragma once

// The gateway wired together: a client-only runtime, one Upstream (channel) per distinct
// address, routes from the linked descriptors of the configured services, the REST handler and
// the HTTP server. main() and the tests both use this.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"
#include "common/service/metrics.hpp"
#include "common/service/stop_signal.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/http/http_server.hpp"
#include "gateway/routing/rest_handler.hpp"
#include "gateway/routing/route_table.hpp"
#include "gateway/routing/upstream.hpp"

namespace switchyard::gateway {

struct GatewayConfig {
  HttpServerOptions http;
  RestOptions rest;
  // Fully qualified gRPC service name -> upstream host:port. Every annotated method of these
  // services becomes a route; services sharing an address share one channel.
  std::map<std::string, std::string> services;
  std::size_t shards = 1;
  // Where GET /metrics answers in Prometheus text (host:port); empty: not served.
  std::string metrics_address;
  std::chrono::milliseconds shutdown_grace{20000};
  // On shutdown, how long readiness reports "draining" while connections are still accepted
  // (time for a load balancer to stop sending new requests).
  std::chrono::milliseconds drain_delay{0};
};

class GatewayApp {
 public:
  GatewayApp(GatewayConfig config, Logger& logger);
  ~GatewayApp();

  // Builds the routes (failing on an unknown service or a bad annotation) and starts serving.
  absl::Status Start();
  std::uint16_t port() const { return server_ ? server_->port() : 0; }
  const RouteTable* routes() const { return routes_.get(); }
  RestHandler* handler() { return handler_.get(); }
  Metrics& metrics() { return metrics_; }

  void WaitForSignal() { stop_signal_.Wait(logger_); }
  void RequestStop() { stop_signal_.Request(); }
  // Graceful: readiness fails, no new connections, in-flight requests get the grace period.
  void Shutdown();

 private:
  GatewayConfig config_;
  Logger& logger_;
  rpc::Runtime runtime_;
  Metrics metrics_;
  GatewayMetrics gateway_metrics_{metrics_.registry()};
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<RestHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  StopSignal stop_signal_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace switchyard::gateway
