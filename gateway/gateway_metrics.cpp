#include "gateway/gateway_metrics.hpp"

#include <array>
#include <string>

#include "common/metrics.hpp"

namespace switchyard::gateway {

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests answered, by method, route template and status.")
                    .Register(registry)),
      request_seconds_(prometheus::BuildHistogram()
                           .Name("http_request_duration_seconds")
                           .Help("Time from a request's arrival to its response, by route.")
                           .Register(registry)),
      upstream_seconds_(prometheus::BuildHistogram()
                            .Name("upstream_request_duration_seconds")
                            .Help("gRPC calls to upstream services, by service, method, code.")
                            .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("http_requests_in_flight")
                     .Help("Requests being transcoded and waiting on an upstream.")
                     .Register(registry)
                     .Add({})) {}

void GatewayMetrics::ObserveRequest(std::string_view method, std::string_view route,
                                    unsigned status, double seconds) {
  const std::string route_label(route);
  requests_
      .Add({{"method", std::string(MethodLabel(method))},
            {"route", route_label},
            {"code", std::to_string(status)}})
      .Increment();
  request_seconds_.Add({{"route", route_label}}, LatencyBuckets()).Observe(seconds);
}

void GatewayMetrics::ObserveUpstream(std::string_view service, std::string_view method,
                                     int grpc_code, double seconds) {
  const std::string code(GrpcCodeName(grpc_code));
  upstream_seconds_
      .Add({{"service", std::string(service)}, {"method", std::string(method)}, {"code", code}},
           LatencyBuckets())
      .Observe(seconds);
}

}  // namespace switchyard::gateway
