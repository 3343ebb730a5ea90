#pragma once

#include "absl/status/status.h"
#include <grpcpp/support/status.h>

namespace switchyard {

// absl::StatusCode and grpc::StatusCode share their numbering, so the mapping is a cast; these
// are the one place where a status crosses between the two.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace switchyard
