#pragma once

// grpc.health.v1.Health on the service's own completion queues: Check and Watch as coroutines
// on the runtime's shards, like every other method.
//
// gRPC's built-in health service runs on its callback API, which brings its own polling threads
// into the process; they pick up network events meant for the shards' queues and hand them
// over, a thread switch per call (measured: ~10 us of CPU per unrelated call, see
// docs/benchmarks.md). This one adds no thread.
//
// Statuses: "" (the whole server) and every name given at construction are known, NOT_SERVING
// until set. Check on any other name is NOT_FOUND; Watch on it reports SERVICE_UNKNOWN and then
// every change, as the protocol says. After Shutdown every status is NOT_SERVING for good and
// open watches end.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include <boost/asio/steady_timer.hpp>
#include <grpcpp/server_builder.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"
#include "common/service/metrics.hpp"

namespace switchyard {

class HealthService {
 public:
  explicit HealthService(const std::vector<std::string>& services);

  // Before the server is built.
  void Register(grpc::ServerBuilder& builder) { builder.RegisterService(&service_); }
  // After the server has started.
  absl::Status Serve(rpc::Runtime& runtime, Logger& logger, RpcMetrics* metrics);

  // Thread-safe; every known status ("" and each service) at once.
  void SetAllServing(bool serving);
  // NOT_SERVING everywhere, later changes ignored, open watches end. Idempotent.
  void Shutdown();

  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
  // SERVICE_UNKNOWN for a name that is not known.
  ServingStatus Status(const std::string& service) const;

 private:
  // One open Watch: its timer is cancelled to wake it when a status changes.
  struct Watcher {
    explicit Watcher(boost::asio::any_io_executor executor) : wake(std::move(executor)) {}
    boost::asio::steady_timer wake;
    bool changed = false;  // the watcher's io thread only
  };

  ServingStatus StatusLocked(const std::string& service) const;  // with mutex_ held
  void NotifyWatchers();                                         // with mutex_ held

  grpc::health::v1::Health::AsyncService service_;
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, bool> serving_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  bool shut_down_ = false;
};

}  // namespace switchyard
