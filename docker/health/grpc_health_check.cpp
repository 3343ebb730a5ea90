// grpc-health-check: the gRPC services' Docker HEALTHCHECK. Calls grpc.health.v1.Health/Check
// on ADDRESS (plaintext) and exits 0 only when the answer is SERVING; otherwise it prints one line
// saying why and exits 1.
//
//   grpc-health-check ADDRESS [SERVICE] [TIMEOUT_MS]    (SERVICE "" = the whole server)
//
// Built in the image's builder stage from grpc-proto's health.proto; it is not part of the
// project's CMake build, so it adds nothing to the services.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include <grpcpp/grpcpp.h>

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

int Usage() {
  std::fprintf(stderr, "usage: grpc-health-check ADDRESS [SERVICE] [TIMEOUT_MS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) return Usage();
  const std::string address = argv[1];
  HealthCheckRequest request;
  if (argc > 2) request.set_service(argv[2]);
  long timeout_ms = 2000;
  if (argc > 3) {
    char* end = nullptr;
    timeout_ms = std::strtol(argv[3], &end, 10);
    if (*end != '\0' || timeout_ms <= 0) return Usage();
  }

  auto stub = Health::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "grpc-health-check: %s: %s (code %d)\n", address.c_str(),
                 status.error_message().c_str(), static_cast<int>(status.error_code()));
    return 1;
  }
  if (response.status() != HealthCheckResponse::SERVING) {
    std::fprintf(stderr, "grpc-health-check: %s: %s\n", address.c_str(),
                 HealthCheckResponse::ServingStatus_Name(response.status()).c_str());
    return 1;
  }
  return 0;
}
