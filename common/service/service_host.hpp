#pragma once

// The process shell shared by every gRPC service: a Runtime, one gRPC server with health and
// reflection (both on the runtime's own queues), the methods it serves, optionally one Redis
// client per shard that health follows, graceful shutdown on SIGTERM/SIGINT.
//
//   ServiceHost host(options, logger);
//   const auto& redis = host.AddRedis(redis_config);      // one client per shard
//   auto users = host.AddService(async_service, [&](std::size_t shard) -> Impl& { ... });
//   users.Serve(&AsyncService::RequestGetUser, &Impl::GetUser);
//   if (auto status = host.Start(); !status.ok()) { ...exit 1... }
//   host.WaitForSignal();
//   host.Shutdown();

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/grpc/grpc_server.hpp"
#include "common/grpc/grpc_stream.hpp"
#include "common/grpc/health_service.hpp"
#include "common/grpc/reflection_service.hpp"
#include "common/grpc/shard_handler.hpp"
#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"
#include "common/service/metrics.hpp"
#include "common/service/stop_signal.hpp"

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

class ServiceHost;

// The methods of one generated async service that a ServiceHost serves; see
// ServiceHost::AddService. `ImplFor` gives the shard's implementation (std::nullptr_t: none).
template <class Service, class ImplFor>
class ServiceMethods {
 public:
  // Serves the method that `request_method` (e.g. &Service::RequestGetUser) requests: its request
  // and response types come from the pointer's type, its name from the generated descriptor.
  // `handler` is either a member function of the implementation, awaitable<absl::Status>
  // (CallContext, const Request&, Response&), run on the shard's implementation with its status
  // mapped once; or a handler taking the RpcContext, as rpc::Register takes. A method whose name
  // cannot be derived makes ServiceHost::Start fail.
  template <class RequestMethod, class Handler>
  ServiceMethods& Serve(RequestMethod request_method, Handler handler);

 private:
  friend class ServiceHost;
  ServiceMethods(ServiceHost& host, Service& service, ImplFor impl_for)
      : host_(host), service_(service), impl_for_(std::move(impl_for)) {}

  ServiceHost& host_;
  Service& service_;
  ImplFor impl_for_;
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
  // Services added by AddService are registered; anything else the server needs goes here,
  // before Start().
  grpc::ServerBuilder& builder() { return builder_; }

  // Registers `service` (a generated AsyncService, outliving the host) with the server; serve its
  // methods through the result, before Start(). `impl_for(shard)` returns the implementation
  // whose member functions serve calls on that shard; it must stay valid while the server runs.
  template <class Service>
  ServiceMethods<Service, std::nullptr_t> AddService(Service& service) {
    return AddService(service, nullptr);
  }
  template <class Service, class ImplFor>
  ServiceMethods<Service, ImplFor> AddService(Service& service, ImplFor impl_for) {
    builder_.RegisterService(&service);
    return ServiceMethods<Service, ImplFor>(*this, service, std::move(impl_for));
  }

  // One Redis client per runtime shard, on that shard's executor (use each only there). Health
  // follows them: SERVING exactly when every shard's client is ready. Their commands are measured
  // (redis_* metrics). Start() starts them; Shutdown() stops them after the stop hooks. Once,
  // before Start(); scripts are registered on the clients before Start() too.
  const std::vector<std::shared_ptr<redis::RedisClient>>& AddRedis(
      const redis::RedisConfig& config);
  const std::vector<std::shared_ptr<redis::RedisClient>>& redis() const { return redis_; }
  // What measures Redis commands; null until AddRedis.
  RedisMetrics* redis_metrics() { return redis_metrics_.get(); }

  // Binds, starts the server (health NOT_SERVING until SetServing(true) or, with AddRedis, until
  // Redis is ready), the runtime threads, the served methods and the Redis clients. Fails with a
  // one-line reason when a method's name cannot be derived (before binding anything) or the
  // address cannot be bound.
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

  // Runs between the server's shutdown and the runtime's, before the Redis clients stop: stop
  // what keeps io_contexts busy (timers, workers). Each hook is called once, on the thread
  // calling Shutdown().
  void AddStopHook(std::function<void()> hook);

  // Blocks until SIGTERM or SIGINT arrives (or RequestStop is called).
  void WaitForSignal();
  void RequestStop();

  // Graceful stop: NOT_SERVING, no new calls, in-flight calls get up to shutdown_grace to finish
  // (then they are cancelled), then hooks, then the Redis clients, then the runtime. Idempotent.
  void Shutdown();

 private:
  template <class Service, class ImplFor>
  friend class ServiceMethods;

  // Before Start: kept for Start (the first error fails it). After: served at once.
  void Add(absl::StatusOr<rpc::Registration> registration);
  // Runs `work` on every shard's io thread, one shard after the other, and waits for each.
  void OnEachShard(const std::function<void(std::size_t shard)>& work);

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
  std::vector<rpc::Registration> registrations_;            // served by Start()
  absl::Status registration_error_;                         // the first one
  std::unique_ptr<RedisMetrics> redis_metrics_;             // outlives the clients
  std::vector<std::shared_ptr<redis::RedisClient>> redis_;  // one per shard, or none
  std::mutex ready_mutex_;
  std::vector<bool> shard_ready_;  // guarded by ready_mutex_
  std::size_t ready_shards_ = 0;   // guarded by ready_mutex_
  bool draining_ = false;          // guarded by ready_mutex_
  int port_ = 0;
  bool shut_down_ = false;
  bool runtime_started_ = false;
  StopSignal stop_signal_;
};

template <class Service, class ImplFor>
template <class RequestMethod, class Handler>
ServiceMethods<Service, ImplFor>& ServiceMethods<Service, ImplFor>::Serve(
    RequestMethod request_method, Handler handler) {
  if constexpr (std::is_member_function_pointer_v<Handler>) {
    static_assert(!std::is_same_v<ImplFor, std::nullptr_t>,
                  "a member function handler needs AddService(service, impl_for)");
    host_.Add(rpc::Register(service_, request_method, rpc::ShardHandler(impl_for_, handler),
                            host_.logger_, &host_.rpc_metrics_));
  } else {
    host_.Add(rpc::Register(service_, request_method, std::move(handler), host_.logger_,
                            &host_.rpc_metrics_));
  }
  return *this;
}

}  // namespace switchyard
