#pragma once

// The production job types:
//   users.report  payload {}: pages through every user of user-service (ListUsers, 100 a page),
//                 writes {"user_count": N, "per_domain": {"example.com": 3, ...}} as the value
//                 of data key "reports/users", and returns the same object.
//   data.copy     payload {"from": key, "to": key}: copies the value of one data key to another
//                 in one step; a missing source fails the attempt. Returns {"to": key,
//                 "version": N}.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include <google/protobuf/struct.pb.h>
#include <grpcpp/channel.h>

#include "data-service/job_registry.hpp"

namespace switchyard::data {

inline constexpr std::string_view kUsersReportType = "users.report";
inline constexpr std::string_view kDataCopyType = "data.copy";
inline constexpr std::string_view kUsersReportKey = "reports/users";

struct BuiltinJobOptions {
  // A channel to user-service (see MakeUserServiceChannel).
  std::shared_ptr<grpc::Channel> user_service;
  // Limit for one ListUsers call; the attempt's deadline caps it further.
  std::chrono::milliseconds user_call_timeout{5000};
};

// A channel that reconnects quickly after user-service restarts (backoff 100 ms to 1 s).
std::shared_ptr<grpc::Channel> MakeUserServiceChannel(const std::string& address);

// Registers users.report and data.copy.
void RegisterBuiltinJobs(JobRegistry& registry, BuiltinJobOptions options);

absl::Status ValidateUsersReportPayload(const google::protobuf::Struct& payload);
absl::Status ValidateDataCopyPayload(const google::protobuf::Struct& payload);

}  // namespace switchyard::data
