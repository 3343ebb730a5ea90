// user-service: reads configuration, wires UserServiceApp, runs until SIGTERM/SIGINT.

#include <cstdio>

#include "common/config.hpp"
#include "common/logger.hpp"
#include "user-service/user_service_app.hpp"

int main(int argc, char** argv) {
  using namespace switchyard;
  BlockStopSignals();

  ConfigReader config(argc, argv);
  user::UserServiceConfig app;
  app.host.listen_address =
      config.String("GRPC_LISTEN", "0.0.0.0:50051", "gRPC listen address (host:port)");
  app.host.shards = static_cast<std::size_t>(
      config.Int("WORKER_THREADS", 1, 1, 64, "event-loop threads, each with its own Redis link"));
  app.host.shutdown_grace =
      config.Millis("SHUTDOWN_GRACE_MS", 20000, 0, 600000, "time in-flight calls get on SIGTERM");
  app.host.metrics_address =
      config.String("METRICS_LISTEN", "0.0.0.0:9091", "Prometheus /metrics address (empty: off)");
  app.host.drain_delay = config.Millis("DRAIN_DELAY_MS", 0, 0, 600000,
                                       "on SIGTERM, time NOT_SERVING before calls are refused");
  const std::string redis_addr =
      config.String("REDIS_ADDR", "127.0.0.1:6379", "Redis address (host:port)");
  app.redis.password = config.String("REDIS_PASSWORD", "", "Redis password (AUTH); never logged");
  app.redis.db = static_cast<int>(config.Int("REDIS_DB", 0, 0, 15, "Redis database number"));
  app.redis.command_timeout =
      config.Millis("REDIS_TIMEOUT_MS", 1000, 1, 60000, "limit for one Redis command");
  const std::string level_name = config.String("LOG_LEVEL", "info", "debug, info, warn or error");
  config.RejectUnknownFlags();

  if (config.help_requested()) {
    std::fputs(config.Usage("user-service").c_str(), stdout);
    return 0;
  }
  LogLevel level = LogLevel::kInfo;
  std::vector<std::string> errors = config.errors();
  if (!ParseLogLevel(level_name, level))
    errors.push_back("LOG_LEVEL: unknown level '" + level_name + "'");
  if (!SplitHostPort(redis_addr, app.redis.host, app.redis.port)) {
    errors.push_back("REDIS_ADDR: expected host:port, got '" + redis_addr + "'");
  }
  Logger logger("user-service", SWITCHYARD_VERSION, level);
  if (!errors.empty()) {
    for (const auto& error : errors) logger.Error("bad configuration", {{"error", error}});
    return 2;
  }

  user::UserServiceApp service(std::move(app), logger);
  if (auto status = service.Start(); !status.ok()) {
    logger.Error("cannot start", {{"error", status.message()}});
    return 1;
  }
  service.WaitForSignal();
  service.Shutdown();
  logger.Info("stopped");
  return 0;
}
