#pragma once

// What a service method knows about the call it serves, whatever brought the call in (a gRPC
// handler, a background job, a test).

#include <chrono>
#include <string_view>

namespace switchyard {

using Deadline = std::chrono::steady_clock::time_point;

struct CallContext {
  std::string_view request_id;  // empty when the caller sent none
  Deadline deadline = Deadline::max();
};

}  // namespace switchyard
