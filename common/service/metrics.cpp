#include "common/service/metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

namespace switchyard {

namespace {

// process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds and
// process_start_time_seconds, read from /proc/self at each scrape.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    const auto add = [&](std::string name, std::string help, prometheus::MetricType type,
                         double value) {
      prometheus::MetricFamily family;
      family.name = std::move(name);
      family.help = std::move(help);
      family.type = type;
      prometheus::ClientMetric metric;
      if (type == prometheus::MetricType::Counter) {
        metric.counter.value = value;
      } else {
        metric.gauge.value = value;
      }
      family.metric.push_back(std::move(metric));
      families.push_back(std::move(family));
    };
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(line.substr(close + 2));
      std::vector<std::string> f;
      for (std::string field; fields >> field;) f.push_back(field);
      // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
      if (f.size() > 21) {
        const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
        add("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
            prometheus::MetricType::Counter, cpu);
        add("process_resident_memory_bytes", "Resident memory size, in bytes.",
            prometheus::MetricType::Gauge, std::stod(f[21]) * page);
        add("process_start_time_seconds", "Start time of the process since the Unix epoch.",
            prometheus::MetricType::Gauge, BootTime() + std::stod(f[19]) / ticks);
      }
    }
    add("process_open_fds", "Open file descriptors.", prometheus::MetricType::Gauge,
        static_cast<double>(OpenFds()));
    return families;
  }

 private:
  static double BootTime() {
    std::ifstream stat("/proc/stat");
    for (std::string key; stat >> key;) {
      if (key == "btime") {
        double value = 0;
        stat >> value;
        return value;
      }
    }
    return 0;
  }

  static int OpenFds() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
      while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
      }
      ::closedir(dir);
      --count;  // the directory stream's own descriptor
    }
    return count;
  }
};

}  // namespace

std::string_view GrpcCodeName(int code) {
  static constexpr std::array<std::string_view, 17> kNames = {"OK",
                                                              "CANCELLED",
                                                              "UNKNOWN",
                                                              "INVALID_ARGUMENT",
                                                              "DEADLINE_EXCEEDED",
                                                              "NOT_FOUND",
                                                              "ALREADY_EXISTS",
                                                              "PERMISSION_DENIED",
                                                              "RESOURCE_EXHAUSTED",
                                                              "FAILED_PRECONDITION",
                                                              "ABORTED",
                                                              "OUT_OF_RANGE",
                                                              "UNIMPLEMENTED",
                                                              "INTERNAL",
                                                              "UNAVAILABLE",
                                                              "DATA_LOSS",
                                                              "UNAUTHENTICATED"};
  return code >= 0 && code < static_cast<int>(kNames.size())
             ? kNames[static_cast<std::size_t>(code)]
             : "UNKNOWN";
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {}

Metrics::~Metrics() = default;

void Metrics::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));
}

std::string Metrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& family : process_->Collect()) families.push_back(std::move(family));
  for (const auto& collectable : collectables_) {
    for (auto& family : collectable->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::Status Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot serve metrics on " + address + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_);
  for (const auto& collectable : collectables_) exposer_->RegisterCollectable(collectable);
  const auto ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server, by method.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by method and status code.")
                   .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Time from an RPC's arrival to its answer, by method.")
                   .Register(registry)) {}

const RpcMetrics::Method& RpcMetrics::ForMethod(const std::string& method) {
  std::lock_guard lock(mutex_);
  auto [it, added] = methods_.try_emplace(method);
  if (added) {
    for (std::size_t code = 0; code < it->second.handled.size(); ++code) {
      it->second.handled[code] = &handled_.Add(
          {{"method", method}, {"code", std::string(GrpcCodeName(static_cast<int>(code)))}});
    }
    it->second.seconds = &seconds_.Add({{"method", method}}, LatencyBuckets());
    it->second.started = &started_.Add({{"method", method}});
  }
  return it->second;
}

RedisMetrics::RedisMetrics(prometheus::Registry& registry)
    : duration_(prometheus::BuildHistogram()
                    .Name("redis_command_duration_seconds")
                    .Help("Redis command round trips, by command and outcome.")
                    .Register(registry)),
      reconnects_(prometheus::BuildCounter()
                      .Name("redis_reconnects_total")
                      .Help("Redis connections re-established after a loss.")
                      .Register(registry)
                      .Add({})),
      series_(
          {"command", "status"}, [this](const prometheus::Labels& labels) -> auto& {
            return duration_.Add(labels, LatencyBuckets());
          }) {}

void RedisMetrics::OnCommand(std::string_view command, std::string_view status, double seconds) {
  series_.Get({command, status}).Observe(seconds);
}

void RedisMetrics::OnReconnect() { reconnects_.Increment(); }

}  // namespace switchyard
