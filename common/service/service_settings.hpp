#pragma once

// The settings every gRPC service reads the same way (listen address, threads, drain, metrics,
// Redis, log level), and the common end of configuration: --help, or one line per problem.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/service/config.hpp"
#include "common/service/logger.hpp"
#include "common/service/service_host.hpp"

namespace switchyard {

struct ServiceSettings {
  ServiceHostOptions host;
  redis::RedisConfig redis;
  LogLevel log_level = LogLevel::kInfo;
};

// Reads GRPC_LISTEN, WORKER_THREADS, SHUTDOWN_GRACE_MS, DRAIN_DELAY_MS, METRICS_LISTEN,
// REDIS_ADDR, REDIS_PASSWORD, REDIS_DB, REDIS_TIMEOUT_MS, REDIS_SENTINELS, REDIS_SENTINEL_MASTER,
// REDIS_SENTINEL_PASSWORD, REDIS_MIN_REPLICA_ACKS, REDIS_REPLICA_ACK_TIMEOUT_MS and LOG_LEVEL.
// Values that parse but make no sense (a malformed address, an unknown level) are appended to
// `errors`.
ServiceSettings ReadServiceSettings(ConfigReader& config, std::string_view default_grpc_listen,
                                    std::string_view default_metrics_listen,
                                    std::vector<std::string>& errors);

// "host:port,host:port" (blanks around items ignored; empty text: no endpoints). False, with
// `endpoints` empty, when an item is not host:port.
bool ParseEndpointList(std::string_view text, std::vector<redis::RedisEndpoint>& endpoints);

// Call after every setting is read. With --help, prints the usage and returns 0; with problems,
// logs each on one line and returns 2; otherwise nullopt (start the service).
std::optional<int> FinishConfiguration(ConfigReader& config, std::string_view program,
                                       const std::vector<std::string>& errors, Logger& logger);

}  // namespace switchyard
