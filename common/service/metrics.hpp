#pragma once

// Prometheus metrics: one registry per process (passed by reference), process_* metrics read
// from /proc, a text endpoint on the process's metrics port, and the metric sets shared by the
// services (gRPC server side, Redis client side). Label values are always bounded: method names
// from the contracts, status codes, command names, route templates; never an id or an email.

#include <array>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/redis/redis_client.hpp"

namespace prometheus {
class Exposer;
}

namespace switchyard {

// The standard name of a gRPC status code ("OK", "NOT_FOUND", ...): the `code` label.
std::string_view GrpcCodeName(int code);

// Latency buckets in seconds, from 0.25 ms to 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// The series of one family by label values, remembered after their first use, so a hot path pays
// one hash lookup instead of prometheus-cpp's per-call label map (allocations, hashing, a lock).
// Label values must be bounded, as for any series. Thread-safe.
template <class Metric>
class SeriesCache {
 public:
  // `make(labels)` creates the series, e.g. [&](auto& l) -> auto& { return family.Add(l); }.
  using Make = std::function<Metric&(const prometheus::Labels&)>;

  SeriesCache(std::vector<std::string> label_names, Make make)
      : names_(std::move(label_names)), make_(std::move(make)) {}

  // `values` in the order of the label names.
  Metric& Get(std::initializer_list<std::string_view> values) {
    thread_local std::string key;  // scratch: no allocation once it has grown
    key.clear();
    for (std::string_view value : values) {
      key.append(value);
      key.push_back('\x1f');
    }
    std::lock_guard lock(mutex_);
    if (auto it = series_.find(key); it != series_.end()) return *it->second;
    prometheus::Labels labels;
    auto value = values.begin();
    for (const std::string& name : names_) labels.emplace(name, std::string(*value++));
    Metric& metric = make_(labels);
    series_.emplace(key, &metric);
    return metric;
  }

 private:
  const std::vector<std::string> names_;
  const Make make_;
  std::mutex mutex_;
  absl::flat_hash_map<std::string, Metric*> series_;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // Adds metrics computed at scrape time (before Serve); kept alive here.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  // Every metric of the registry and the process, in Prometheus text format.
  std::string Serialize() const;

  // Serves GET /metrics on `address` (host:port; port 0 picks one) from a small thread pool of
  // its own. One line of reason when it cannot bind.
  absl::Status Serve(const std::string& address);
  int port() const { return port_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// grpc_server_started_total{method}, grpc_server_handled_total{method,code} and
// grpc_server_handling_seconds{method}.
class RpcMetrics {
 public:
  struct Method {
    prometheus::Counter* started = nullptr;
    std::array<prometheus::Counter*, 17> handled{};  // by grpc::StatusCode
    prometheus::Histogram* seconds = nullptr;
  };

  explicit RpcMetrics(prometheus::Registry& registry);

  // Creates the series of `method` (call at registration, not per call); stable reference.
  const Method& ForMethod(const std::string& method);

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  std::mutex mutex_;
  std::map<std::string, Method> methods_;
};

// redis_command_duration_seconds{command,status} and redis_reconnects_total.
class RedisMetrics final : public redis::RedisObserver {
 public:
  explicit RedisMetrics(prometheus::Registry& registry);

  void OnCommand(std::string_view command, std::string_view status, double seconds) override;
  void OnReconnect() override;

 private:
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Counter& reconnects_;
  SeriesCache<prometheus::Histogram> series_;
};

}  // namespace switchyard
