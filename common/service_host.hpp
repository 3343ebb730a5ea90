#pragma once

// The process shell shared by every gRPC service: a Runtime, one gRPC server with health and
// reflection (both on the runtime's own queues), graceful shutdown on SIGTERM/SIGINT.
//
//   ServiceHost host(options, logger);
//   host.builder().RegisterService(&async_service);
//   if (auto status = host.Start(); !status.ok()) { ...exit 1... }
//   UnaryRpc<...>::Serve(host.runtime(), ...);
//   host.WaitForSignal();
//   host.Shutdown();

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "common/grpc_runtime.hpp"
#include "common/health_service.hpp"
#include "common/logger.hpp"
#include "common/metrics.hpp"
#include "common/reflection_service.hpp"
#include "common/stop_signal.hpp"

namespace switchyard {

struct ServiceHostOptions {
  std::string listen_address = "0.0.0.0:50051";  // port 0 picks a free one (tests)
  std::size_t shards = 1;
  std::chrono::milliseconds shutdown_grace{20000};
  // On shutdown, how long health reports NOT_SERVING before the server stops taking calls.
  std::chrono::milliseconds drain_delay{0};
  // Fully qualified names whose grpc.health.v1 status follows SetServing (the overall "" too).
  std::vector<std::string> health_services;
  // Where GET /metrics answers in Prometheus text (host:port); empty: not served.
  std::string metrics_address;
};

class ServiceHost {
 public:
  ServiceHost(ServiceHostOptions options, Logger& logger);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  rpc::Runtime& runtime() { return runtime_; }
  Metrics& metrics() { return metrics_; }
  RpcMetrics& rpc_metrics() { return rpc_metrics_; }
  // Register async services here before Start().
  grpc::ServerBuilder& builder() { return builder_; }

  // Binds, starts the server (health NOT_SERVING until SetServing(true)) and the runtime threads.
  // Fails with a one-line reason when the address cannot be bound.
  absl::Status Start();
  int port() const { return port_; }

  // Thread-safe; changes grpc.health.v1 for "" and every health service.
  void SetServing(bool serving);

  // Thread-safe. For a service whose shards each depend on a connection of their own (Redis):
  // records whether `shard`'s is usable, and sets SERVING exactly when every shard's is. Shards
  // report from their own threads, so the count and the change are made under one lock (an
  // older NOT_SERVING cannot land after a newer SERVING). Ignored once Shutdown has begun, so a
  // reconnect during the drain cannot make the service SERVING again.
  void SetShardReady(std::size_t shard, bool ready);

  // Runs between the server's shutdown and the runtime's: stop what keeps io_contexts busy
  // (Redis clients, timers). Each hook is called once, on the thread calling Shutdown().
  void AddStopHook(std::function<void()> hook);

  // Blocks until SIGTERM or SIGINT arrives (or RequestStop is called).
  void WaitForSignal();
  void RequestStop();

  // Graceful stop: NOT_SERVING, no new calls, in-flight calls get up to shutdown_grace to finish
  // (then they are cancelled), then hooks, then the runtime. Idempotent.
  void Shutdown();

 private:
  ServiceHostOptions options_;
  Logger& logger_;
  Metrics metrics_;
  RpcMetrics rpc_metrics_{metrics_.registry()};
  rpc::Runtime runtime_;
  HealthService health_;
  ReflectionService reflection_;
  grpc::ServerBuilder builder_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::function<void()>> stop_hooks_;
  std::mutex ready_mutex_;
  std::vector<bool> shard_ready_;  // guarded by ready_mutex_
  std::size_t ready_shards_ = 0;   // guarded by ready_mutex_
  bool draining_ = false;          // guarded by ready_mutex_
  int port_ = 0;
  bool shut_down_ = false;
  bool runtime_started_ = false;
  StopSignal stop_signal_;
};

}  // namespace switchyard
