#pragma once

// The business rules of JobService, free of transport: validate (the type against the registry,
// the payload with the type's validator), call the store, build the response.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include <boost/asio/awaitable.hpp>

#include "data-service/data_service_impl.hpp"
#include "data-service/job_metrics.hpp"
#include "data-service/job_registry.hpp"
#include "data-service/job_store.hpp"
#include "switchyard/data/v1/job_service.pb.h"

namespace switchyard::data {

class JobServiceImpl {
 public:
  using IdGenerator = std::function<std::string()>;  // a fresh UUIDv4

  // `registry` and `metrics` are shared by every shard and must outlive the impl.
  JobServiceImpl(JobStore& store, const JobRegistry& registry, JobMetrics& metrics,
                 IdGenerator new_id);

  boost::asio::awaitable<absl::Status> SubmitJob(CallContext call,
                                                 const v1::SubmitJobRequest& request,
                                                 v1::SubmitJobResponse& response);
  boost::asio::awaitable<absl::Status> GetJob(CallContext call, const v1::GetJobRequest& request,
                                              v1::GetJobResponse& response);
  boost::asio::awaitable<absl::Status> ListJobs(CallContext call,
                                                const v1::ListJobsRequest& request,
                                                v1::ListJobsResponse& response);

 private:
  JobStore& store_;
  const JobRegistry& registry_;
  JobMetrics& metrics_;
  IdGenerator new_id_;
};

// INTERNAL when the stored payload or result is not a JSON object (a broken record).
absl::Status ToProto(const JobRecord& record, v1::Job& job);

}  // namespace switchyard::data
