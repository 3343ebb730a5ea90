// data-service: reads configuration, registers the production job types, wires DataServiceApp,
// runs until SIGTERM/SIGINT.

#include <cstdio>

#include "common/grpc/grpc_logging.hpp"
#include "common/service/logger.hpp"
#include "common/service/service_settings.hpp"
#include "data-service/builtin_jobs.hpp"
#include "data-service/data_service_app.hpp"

int main(int argc, char** argv) {
  using namespace switchyard;
  BlockStopSignals();

  ConfigReader config(argc, argv);
  std::vector<std::string> errors;
  ServiceSettings settings = ReadServiceSettings(config, "0.0.0.0:50052", "0.0.0.0:9092", errors);
  data::DataServiceConfig app;
  app.host = std::move(settings.host);
  app.redis = std::move(settings.redis);
  const std::string user_service_addr = config.String(
      "USER_SERVICE_ADDR", "127.0.0.1:50051", "user-service address (host:port) for users.report");
  app.worker_enabled =
      config.Int("WORKER_ENABLED", 1, 0, 1, "1: run jobs in this process; 0: the API only") == 1;
  app.worker.concurrency = static_cast<std::int32_t>(
      config.Int("JOB_CONCURRENCY", 4, 1, 1024, "job attempts running at once in this process"));
  app.worker.visibility_timeout =
      config.Millis("JOB_VISIBILITY_TIMEOUT_MS", 30000, 100, 3600000,
                    "silence after which another worker takes over a running job");
  app.worker.backoff_base = config.Millis("JOB_BACKOFF_BASE_MS", 1000, 1, 3600000,
                                          "delay before the first retry; doubles per retry");
  app.worker.backoff_max =
      config.Millis("JOB_BACKOFF_MAX_MS", 60000, 1, 86400000, "longest delay between attempts");
  app.worker.attempt_timeout = config.Millis("JOB_TIMEOUT_MS", 30000, 1, 3600000,
                                             "limit for one attempt; past it the attempt fails");
  std::string user_host;
  int user_port = 0;
  if (!SplitHostPort(user_service_addr, user_host, user_port)) {
    errors.push_back("USER_SERVICE_ADDR: expected host:port, got '" + user_service_addr + "'");
  }
  if (app.worker.backoff_max < app.worker.backoff_base) {
    errors.push_back("JOB_BACKOFF_MAX_MS: must not be below JOB_BACKOFF_BASE_MS");
  }
  Logger logger("data-service", SWITCHYARD_VERSION, settings.log_level);
  RouteGrpcLogsTo(logger);
  if (auto exit_code = FinishConfiguration(config, "data-service", errors, logger)) {
    return *exit_code;
  }

  // Production knows exactly these job types; test types exist only in test binaries.
  auto registry = std::make_shared<data::JobRegistry>();
  data::RegisterBuiltinJobs(*registry, {data::MakeUserServiceChannel(user_service_addr)});

  data::DataServiceApp service(std::move(app), registry, logger);
  if (auto status = service.Start(); !status.ok()) {
    logger.Error("cannot start", {{"error", status.message()}});
    return 1;
  }
  service.WaitForSignal();
  service.Shutdown();
  logger.Info("stopped");
  return 0;
}
