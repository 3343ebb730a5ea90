// gateway: reads configuration, wires GatewayApp, runs until SIGTERM/SIGINT.

#include <cstdio>
#include <sstream>

#include "common/grpc/grpc_logging.hpp"
#include "common/service/config.hpp"
#include "common/service/logger.hpp"
#include "common/service/stop_signal.hpp"
#include "gateway/gateway_app.hpp"

namespace {

// "a.b.Svc=host:port,c.d.Svc=host:port" -> map; false on a malformed entry.
bool ParseUpstreams(const std::string& text, std::map<std::string, std::string>& out,
                    std::string& error) {
  std::stringstream stream(text);
  std::string entry;
  while (std::getline(stream, entry, ',')) {
    if (entry.empty()) continue;
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      error = "EXTRA_UPSTREAMS: expected service=host:port, got '" + entry + "'";
      return false;
    }
    out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return true;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace switchyard;
  BlockStopSignals();

  ConfigReader config(argc, argv);
  gateway::GatewayConfig app;
  app.http.listen_address = config.String("HTTP_LISTEN", "0.0.0.0:8080", "HTTP listen address");
  app.metrics_address =
      config.String("METRICS_LISTEN", "0.0.0.0:9090", "Prometheus /metrics address (empty: off)");
  const std::string user_service = config.String("USER_SERVICE_ADDR", "127.0.0.1:50051",
                                                 "user-service gRPC address (empty: not routed)");
  const std::string data_service = config.String("DATA_SERVICE_ADDR", "127.0.0.1:50052",
                                                 "data-service gRPC address (empty: not routed)");
  const std::string extra = config.String(
      "EXTRA_UPSTREAMS", "", "more routed services: pkg.Service=host:port,... (comma-separated)");
  app.shards = static_cast<std::size_t>(
      config.Int("WORKER_THREADS", 1, 1, 64, "event-loop threads serving HTTP"));
  app.rest.default_timeout = config.Millis("REQUEST_TIMEOUT_MS", 10000, 1, 600000,
                                           "deadline of an upstream call without Grpc-Timeout");
  app.rest.max_timeout =
      config.Millis("MAX_TIMEOUT_MS", 60000, 1, 3600000, "cap on a client's Grpc-Timeout");
  app.rest.max_in_flight = static_cast<std::size_t>(
      config.Int("MAX_IN_FLIGHT", 4096, 1, 1000000, "requests in flight before 429"));
  app.http.body_limit = static_cast<std::size_t>(
      config.Int("MAX_BODY_BYTES", 1048576, 1, 64 * 1048576, "largest request body (413)"));
  app.http.header_limit = static_cast<std::size_t>(
      config.Int("MAX_HEADER_BYTES", 16384, 1024, 1048576, "largest request header block (431)"));
  app.http.header_count_limit = static_cast<std::size_t>(
      config.Int("MAX_HEADER_COUNT", 100, 1, 10000, "most request header lines (431 past it)"));
  app.rest.max_streams = static_cast<std::size_t>(
      config.Int("MAX_STREAMS", 10000, 1, 1000000, "streams (SSE/NDJSON) open at once before 429"));
  app.rest.stream_max_duration =
      config.Millis("STREAM_MAX_DURATION_MS", 3600000, 1000, 86400000,
                    "longest a stream stays open; then a final event asks the client to reconnect");
  app.rest.stream_idle_timeout = config.Millis("STREAM_IDLE_TIMEOUT_MS", 600000, 1000, 86400000,
                                               "a stream with no message this long ends");
  app.rest.stream_keepalive = config.Millis("STREAM_KEEPALIVE_MS", 15000, 100, 3600000,
                                            "SSE keepalive comment interval while idle");
  app.http.header_timeout =
      config.Millis("HEADER_TIMEOUT_MS", 10000, 1, 600000, "time to receive a request's headers");
  app.http.idle_timeout =
      config.Millis("IDLE_TIMEOUT_MS", 60000, 1, 3600000, "keep-alive idle time before closing");
  const std::string json_names =
      config.String("JSON_NAMES", "proto", "output field names: proto (created_at) or camel");
  const std::string cors =
      config.String("CORS_ORIGINS", "", "allowed origins, comma-separated, or *");
  app.shutdown_grace = config.Millis("SHUTDOWN_GRACE_MS", 20000, 0, 600000,
                                     "time in-flight requests get on SIGTERM");
  app.drain_delay = config.Millis("DRAIN_DELAY_MS", 0, 0, 600000,
                                  "on SIGTERM, time not-ready before the listener closes");
  const std::string level_name = config.String("LOG_LEVEL", "info", "debug, info, warn or error");
  config.RejectUnknownFlags();

  if (config.help_requested()) {
    std::fputs(config.Usage("gateway").c_str(), stdout);
    return 0;
  }
  std::vector<std::string> errors = config.errors();
  LogLevel level = LogLevel::kInfo;
  if (!ParseLogLevel(level_name, level))
    errors.push_back("LOG_LEVEL: unknown level '" + level_name + "'");
  if (json_names != "proto" && json_names != "camel") {
    errors.push_back("JSON_NAMES: expected proto or camel, got '" + json_names + "'");
  }
  app.rest.camel_case_json = json_names == "camel";
  app.rest.cors_origins = SplitList(cors);
  if (!user_service.empty()) app.services["switchyard.user.v1.UserService"] = user_service;
  if (!data_service.empty()) {
    app.services["switchyard.data.v1.DataService"] = data_service;
    app.services["switchyard.data.v1.JobService"] = data_service;
  }
  std::string error;
  if (!ParseUpstreams(extra, app.services, error)) errors.push_back(error);

  Logger logger("gateway", SWITCHYARD_VERSION, level);
  RouteGrpcLogsTo(logger);
  if (!errors.empty()) {
    for (const auto& e : errors) logger.Error("bad configuration", {{"error", e}});
    return 2;
  }
  gateway::GatewayApp gateway(std::move(app), logger);
  if (auto status = gateway.Start(); !status.ok()) {
    logger.Error("cannot start", {{"error", status.message()}});
    return 1;
  }
  gateway.WaitForSignal();
  gateway.Shutdown();
  logger.Info("stopped");
  return 0;
}
