#pragma once

// The job types a process knows: type name -> payload validator + coroutine handler.
//
// main() registers the production types (builtin_jobs.hpp); tests build their own registry with
// extra types, so no configuration of the production binary can reach a test type. A registry is
// filled before the app starts and only read afterwards (from every shard: no lock needed).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>
#include <google/protobuf/struct.pb.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"
#include "data-service/data_store.hpp"

namespace switchyard::data {

// What a handler knows about the attempt it runs, and what it may use.
struct JobContext {
  std::string job_id;  // also the request id (x-request-id) of calls made for the job
  std::string type;
  std::int32_t attempt = 0;  // 1 for the first
  std::int32_t max_attempts = 0;
  // When the attempt times out (JOB_TIMEOUT_MS after its start); outbound calls derive their
  // deadlines from it. The handler is cancelled then.
  Deadline deadline = Deadline::max();
  std::string consumer;  // the worker running the attempt
  rpc::Shard& shard;     // the io_context and completion queue the handler runs on
  DataStore& data;       // the data store (on the worker's own Redis connection)
  Logger& logger;
};

using JobResult = absl::StatusOr<google::protobuf::Struct>;
// Runs one attempt. A non-OK status (or an exception) fails the attempt; its message becomes the
// job's last_error. `payload` was validated at submission.
using JobHandler = std::function<boost::asio::awaitable<JobResult>(
    JobContext& context, const google::protobuf::Struct& payload)>;
// Checks a payload at submission: INVALID_ARGUMENT whose message names the field
// ("payload.from: ...").
using PayloadValidator = std::function<absl::Status(const google::protobuf::Struct& payload)>;

struct JobType {
  PayloadValidator validate;
  JobHandler run;
};

class JobRegistry {
 public:
  // False (and nothing changes) when `type` is empty or already registered.
  bool Register(std::string type, PayloadValidator validate, JobHandler run);

  // Null when the type is unknown.
  const JobType* Find(std::string_view type) const;

  // Every registered name, sorted.
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, JobType, std::less<>> types_;
};

}  // namespace switchyard::data
