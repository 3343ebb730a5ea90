// user-service: reads configuration, wires UserServiceApp, runs until SIGTERM/SIGINT.

#include "common/grpc/grpc_logging.hpp"
#include "common/service/service_settings.hpp"
#include "user-service/user_service_app.hpp"

int main(int argc, char** argv) {
  using namespace switchyard;
  BlockStopSignals();

  ConfigReader config(argc, argv);
  std::vector<std::string> errors;
  ServiceSettings settings = ReadServiceSettings(config, "0.0.0.0:50051", "0.0.0.0:9091", errors);
  Logger logger("user-service", SWITCHYARD_VERSION, settings.log_level);
  RouteGrpcLogsTo(logger);
  if (auto exit_code = FinishConfiguration(config, "user-service", errors, logger)) {
    return *exit_code;
  }

  user::UserServiceConfig app{std::move(settings.host), std::move(settings.redis)};
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
