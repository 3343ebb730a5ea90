#include "data-service/builtin_jobs.hpp"

#include <map>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "common/grpc/grpc_client.hpp"
#include "data-service/data_validation.hpp"
#include "data-service/struct_json.hpp"
#include "switchyard/user/v1/user_service.grpc.pb.h"

namespace switchyard::data {

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// A string field of a payload; INVALID_ARGUMENT naming "payload.<name>" when absent or not a
// string.
absl::StatusOr<std::string> StringField(const Struct& payload, const std::string& name) {
  const auto it = payload.fields().find(name);
  if (it == payload.fields().end()) {
    return absl::InvalidArgumentError("payload." + name + ": is required");
  }
  if (it->second.kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError("payload." + name + ": must be a string");
  }
  return it->second.string_value();
}

absl::Status OnlyFields(const Struct& payload, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : payload.fields()) {
    bool known = false;
    for (const std::string_view field : allowed) known = known || name == field;
    if (!known) return absl::InvalidArgumentError("payload." + name + ": is not a known field");
  }
  return absl::OkStatus();
}

std::string DomainOf(const std::string& email) {
  const auto at = email.rfind('@');
  return at == std::string::npos ? std::string() : email.substr(at + 1);
}

// users.report: every page of ListUsers, counted by email domain, written to reports/users.
boost::asio::awaitable<JobResult> RunUsersReport(std::shared_ptr<user::v1::UserService::Stub> users,
                                                 std::chrono::milliseconds call_timeout,
                                                 JobContext& context) {
  std::int64_t user_count = 0;
  std::map<std::string, std::int64_t> per_domain;
  std::string page_token;
  do {
    grpc::ClientContext call;
    rpc::PrepareClientContext(call, context.deadline, call_timeout, context.job_id);
    user::v1::ListUsersRequest request;
    request.set_page_size(100);
    request.set_page_token(page_token);
    user::v1::ListUsersResponse response;
    const grpc::Status status = co_await rpc::CallUnary(
        context.shard, call,
        [&](grpc::CompletionQueue* cq) { return users->PrepareAsyncListUsers(&call, request, cq); },
        response);
    if (!status.ok()) {
      co_return absl::UnavailableError("user-service ListUsers failed (code " +
                                       std::to_string(static_cast<int>(status.error_code())) +
                                       "): " + status.error_message());
    }
    for (const auto& u : response.users()) {
      ++user_count;
      ++per_domain[DomainOf(u.email())];
    }
    if (!response.next_page_token().empty() && response.next_page_token() == page_token) {
      co_return absl::InternalError("user-service returned the same page token twice");
    }
    page_token = response.next_page_token();
  } while (!page_token.empty());

  Struct report;
  auto& fields = *report.mutable_fields();
  fields["user_count"].set_number_value(static_cast<double>(user_count));
  auto& domains = *fields["per_domain"].mutable_struct_value()->mutable_fields();
  for (const auto& [domain, count] : per_domain) {
    domains[domain].set_number_value(static_cast<double>(count));
  }
  auto written = co_await context.data.Put(std::string(kUsersReportKey), StructToJson(report),
                                           std::nullopt, context.deadline);
  if (!written.ok()) co_return written.status();
  co_return report;
}

// data.copy: one atomic copy in the store.
boost::asio::awaitable<JobResult> RunDataCopy(JobContext& context, const Struct& payload) {
  auto from = StringField(payload, "from");
  if (!from.ok()) co_return from.status();
  auto to = StringField(payload, "to");
  if (!to.ok()) co_return to.status();
  auto copied = co_await context.data.Copy(*from, *to, context.deadline);
  if (absl::IsNotFound(copied.status())) {
    co_return absl::NotFoundError("source key '" + *from + "' does not exist");
  }
  if (!copied.ok()) co_return copied.status();
  Struct result;
  auto& fields = *result.mutable_fields();
  fields["to"].set_string_value(*to);
  fields["version"].set_number_value(static_cast<double>(copied->version));
  co_return result;
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeUserServiceChannel(const std::string& address) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   rpc::UpstreamChannelArguments());
}

absl::Status ValidateUsersReportPayload(const Struct& payload) { return OnlyFields(payload, {}); }

absl::Status ValidateDataCopyPayload(const Struct& payload) {
  if (auto status = OnlyFields(payload, {"from", "to"}); !status.ok()) return status;
  auto from = StringField(payload, "from");
  if (!from.ok()) return from.status();
  if (auto status = ValidateKey(*from, "payload.from"); !status.ok()) return status;
  auto to = StringField(payload, "to");
  if (!to.ok()) return to.status();
  if (auto status = ValidateKey(*to, "payload.to"); !status.ok()) return status;
  if (*from == *to) return absl::InvalidArgumentError("payload.to: must differ from payload.from");
  return absl::OkStatus();
}

void RegisterBuiltinJobs(JobRegistry& registry, BuiltinJobOptions options) {
  std::shared_ptr<user::v1::UserService::Stub> users =
      user::v1::UserService::NewStub(options.user_service);
  const auto call_timeout = options.user_call_timeout;
  registry.Register(std::string(kUsersReportType), ValidateUsersReportPayload,
                    [users, call_timeout](JobContext& context,
                                          const Struct&) -> boost::asio::awaitable<JobResult> {
                      return RunUsersReport(users, call_timeout, context);
                    });
  registry.Register(std::string(kDataCopyType), ValidateDataCopyPayload, RunDataCopy);
}

}  // namespace switchyard::data
