#include "common/service/service_settings.hpp"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace switchyard {

bool ParseEndpointList(std::string_view text, std::vector<redis::RedisEndpoint>& endpoints) {
  endpoints.clear();
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    redis::RedisEndpoint endpoint;
    if (!SplitHostPort(std::string_view(item.data(), item.size()), endpoint.host, endpoint.port)) {
      endpoints.clear();
      return false;
    }
    endpoints.push_back(std::move(endpoint));
  }
  return true;
}

ServiceSettings ReadServiceSettings(ConfigReader& config, std::string_view default_grpc_listen,
                                    std::string_view default_metrics_listen,
                                    std::vector<std::string>& errors) {
  ServiceSettings settings;
  settings.host.listen_address =
      config.String("GRPC_LISTEN", default_grpc_listen, "gRPC listen address (host:port)");
  settings.host.shards = static_cast<std::size_t>(
      config.Int("WORKER_THREADS", 1, 1, 64, "event-loop threads, each with its own Redis link"));
  settings.host.shutdown_grace =
      config.Millis("SHUTDOWN_GRACE_MS", 20000, 0, 600000, "time in-flight work gets on SIGTERM");
  settings.host.drain_delay = config.Millis(
      "DRAIN_DELAY_MS", 0, 0, 600000, "on SIGTERM, time NOT_SERVING before calls are refused");
  settings.host.metrics_address = config.String("METRICS_LISTEN", default_metrics_listen,
                                                "Prometheus /metrics address (empty: off)");
  const std::string redis_addr =
      config.String("REDIS_ADDR", "127.0.0.1:6379", "Redis address (host:port)");
  settings.redis.password =
      config.String("REDIS_PASSWORD", "", "Redis password (AUTH); never logged");
  settings.redis.db = static_cast<int>(config.Int("REDIS_DB", 0, 0, 15, "Redis database number"));
  settings.redis.command_timeout =
      config.Millis("REDIS_TIMEOUT_MS", 1000, 1, 60000, "limit for one Redis command");
  const std::string sentinels = config.String(
      "REDIS_SENTINELS", "",
      "Redis Sentinel addresses (host:port,host:port,...); set: find the primary through them "
      "and ignore REDIS_ADDR");
  settings.redis.sentinel_master =
      config.String("REDIS_SENTINEL_MASTER", "switchyard", "the master name the sentinels monitor");
  settings.redis.sentinel_password =
      config.String("REDIS_SENTINEL_PASSWORD", "", "Sentinel password (AUTH); never logged");
  settings.redis.min_replica_acks = static_cast<int>(
      config.Int("REDIS_MIN_REPLICA_ACKS", 0, 0, 16,
                 "durability: acknowledge a write only once WAIT counts this many replicas"));
  settings.redis.replica_ack_timeout =
      config.Millis("REDIS_REPLICA_ACK_TIMEOUT_MS", 1000, 1, 60000,
                    "longest WAIT for REDIS_MIN_REPLICA_ACKS replicas; then UNAVAILABLE");
  const std::string level = config.String("LOG_LEVEL", "info", "debug, info, warn or error");
  if (!ParseLogLevel(level, settings.log_level)) {
    errors.push_back("LOG_LEVEL: unknown level '" + level + "'");
  }
  if (!SplitHostPort(redis_addr, settings.redis.host, settings.redis.port)) {
    errors.push_back("REDIS_ADDR: expected host:port, got '" + redis_addr + "'");
  }
  if (!ParseEndpointList(sentinels, settings.redis.sentinels)) {
    errors.push_back("REDIS_SENTINELS: expected host:port,host:port,..., got '" + sentinels + "'");
  }
  if (!settings.redis.sentinels.empty() && settings.redis.sentinel_master.empty()) {
    errors.push_back("REDIS_SENTINEL_MASTER: must not be empty with REDIS_SENTINELS");
  }
  return settings;
}

std::optional<int> FinishConfiguration(ConfigReader& config, std::string_view program,
                                       const std::vector<std::string>& errors, Logger& logger) {
  config.RejectUnknownFlags();
  if (config.help_requested()) {
    std::fputs(config.Usage(program).c_str(), stdout);
    return 0;
  }
  std::vector<std::string> all = config.errors();
  all.insert(all.end(), errors.begin(), errors.end());
  if (all.empty()) return std::nullopt;
  for (const auto& error : all) logger.Error("bad configuration", {{"error", error}});
  return 2;
}

}  // namespace switchyard
