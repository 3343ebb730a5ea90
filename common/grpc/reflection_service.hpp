#pragma once

// gRPC server reflection (grpc.reflection.v1 and the older v1alpha that many tools still ask
// for first) on the service's own completion queues, so `grpcurl list/describe` and ghz work
// without proto files and the process carries no extra threads. gRPC's packaged reflection is a
// synchronous service with a thread pool of its own that polls the server's network events;
// this one is a coroutine per stream like every other method.
//
// Answers from the process's generated descriptor pool: every file linked in (link the protos
// whole-archive, see proto/CMakeLists.txt). A file comes with every file it depends on, the
// asked-for one first.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include <grpcpp/server_builder.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"

namespace switchyard {

class ReflectionService {
 public:
  // `services`: the fully qualified names `list_services` reports (reflection itself is added).
  explicit ReflectionService(std::vector<std::string> services);

  // Before the server is built.
  void Register(grpc::ServerBuilder& builder);
  // After the server has started.
  absl::Status Serve(rpc::Runtime& runtime, Logger& logger);

  // One request answered (v1 messages; v1alpha ones are converted through the wire format,
  // which the two versions share). Exposed for tests.
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const;

 private:
  std::vector<std::string> services_;
  grpc::reflection::v1::ServerReflection::AsyncService v1_;
  grpc::reflection::v1alpha::ServerReflection::AsyncService v1alpha_;
};

}  // namespace switchyard
