#include "common/service_settings.hpp"

#include <cstdio>

namespace switchyard {

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
  const std::string level = config.String("LOG_LEVEL", "info", "debug, info, warn or error");
  if (!ParseLogLevel(level, settings.log_level)) {
    errors.push_back("LOG_LEVEL: unknown level '" + level + "'");
  }
  if (!SplitHostPort(redis_addr, settings.redis.host, settings.redis.port)) {
    errors.push_back("REDIS_ADDR: expected host:port, got '" + redis_addr + "'");
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
