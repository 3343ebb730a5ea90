#include "common/grpc/grpc_logging.hpp"

#include <atomic>

#include <grpc/support/log.h>

#include "common/service/logger.hpp"

namespace switchyard {

namespace {

std::atomic<Logger*> g_logger{nullptr};

void WriteGrpcLog(gpr_log_func_args* args) {
  Logger* logger = g_logger.load(std::memory_order_acquire);
  if (logger == nullptr) return;
  const LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR  ? LogLevel::kError
                         : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                                   : LogLevel::kDebug;
  logger->Log(level, args->message,
              {{"source", "grpc"}, {"file", args->file}, {"line", args->line}});
}

}  // namespace

void RouteGrpcLogsTo(Logger& logger) {
  g_logger.store(&logger, std::memory_order_release);
  gpr_set_log_function(&WriteGrpcLog);
}

}  // namespace switchyard
