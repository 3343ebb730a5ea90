#pragma once

// data-service (the same wiring as main, plus the test job types) on a free loopback port,
// logging to a temp file, in front of its own real redis-server. Optionally a real user-service
// (in-process, same Redis) for users.report. Waits until the service reports SERVING.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "data-service/builtin_jobs.hpp"
#include "data-service/data_service_app.hpp"
#include "data-service/struct_json.hpp"
#include "switchyard/data/v1/data_service.grpc.pb.h"
#include "switchyard/data/v1/job_service.grpc.pb.h"
#include "tests/integration/data-service/test_jobs.hpp"
#include "tests/support/redis_server.hpp"
#include "user-service/user_service_app.hpp"

namespace switchyard::data {

// Worker settings that keep tests quick: 100 ms backoff base, 1 s visibility timeout.
inline JobWorkerOptions FastWorkerOptions() {
  using namespace std::chrono_literals;
  JobWorkerOptions options;
  options.concurrency = 4;
  options.visibility_timeout = 1s;
  options.backoff_base = 100ms;
  options.backoff_max = 2s;
  options.attempt_timeout = 10s;
  options.read_block = 200ms;
  options.promote_interval = 10ms;
  options.retry_pause = 50ms;
  return options;
}

struct HarnessOptions {
  bool worker_enabled = true;
  JobWorkerOptions worker = FastWorkerOptions();
  bool with_user_service = false;  // start a real user-service on the same Redis
};

class DataServiceHarness {
 public:
  explicit DataServiceHarness(HarnessOptions options = {})
      : options_(std::move(options)), redis_("s3cret-pass") {
    using namespace std::chrono_literals;
    static int counter = 0;
    const std::string base = ::testing::TempDir() + "data_service_" + std::to_string(::getpid()) +
                             "_" + std::to_string(++counter);
    log_path_ = base + ".log";
    user_log_path_ = base + "_user.log";
    log_fd_ = ::open(log_path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    user_log_fd_ = ::open(user_log_path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    logger_ = std::make_unique<Logger>("data-service", "test", LogLevel::kInfo, log_fd_);
    user_logger_ = std::make_unique<Logger>("user-service", "test", LogLevel::kInfo, user_log_fd_);

    redis_config_.host = "127.0.0.1";
    redis_config_.port = redis_.port();
    redis_config_.password = redis_.password();
    redis_config_.reconnect_max_backoff = 200ms;

    std::string user_address = "127.0.0.1:1";  // nothing listens: users.report fails
    if (options_.with_user_service) {
      user::UserServiceConfig user_config;
      user_config.host.listen_address = "127.0.0.1:0";
      user_config.host.shutdown_grace = 2s;
      user_config.redis = redis_config_;
      user_app_ = std::make_unique<user::UserServiceApp>(user_config, *user_logger_);
      const absl::Status started = user_app_->Start();
      EXPECT_TRUE(started.ok()) << started;
      user_address = "127.0.0.1:" + std::to_string(user_app_->port());
      user_channel_ = grpc::CreateChannel(user_address, grpc::InsecureChannelCredentials());
    }

    auto registry = std::make_shared<JobRegistry>();
    RegisterBuiltinJobs(*registry, {MakeUserServiceChannel(user_address)});
    RegisterTestJobs(*registry, test_jobs_);
    registry_ = registry;

    config_ = MakeConfig(options_.worker_enabled, options_.worker);
    app_ = std::make_unique<DataServiceApp>(config_, registry_, *logger_);
    start_status_ = app_->Start();
    if (!start_status_.ok()) return;
    address_ = "127.0.0.1:" + std::to_string(app_->port());
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    health_ = grpc::health::v1::Health::NewStub(channel_);
    data_ = v1::DataService::NewStub(channel_);
    jobs_ = v1::JobService::NewStub(channel_);
  }

  ~DataServiceHarness() {
    app_.reset();
    user_app_.reset();
    logger_.reset();  // their writer threads write to the log files until they end
    user_logger_.reset();
    if (log_fd_ >= 0) ::close(log_fd_);
    if (user_log_fd_ >= 0) ::close(user_log_fd_);
    std::remove(log_path_.c_str());
    std::remove(user_log_path_.c_str());
  }

  DataServiceConfig MakeConfig(bool worker_enabled, JobWorkerOptions worker) const {
    using namespace std::chrono_literals;
    DataServiceConfig config;
    config.host.listen_address = "127.0.0.1:0";
    config.host.shards = 2;
    config.host.shutdown_grace = 2s;
    config.redis = redis_config_;
    config.worker_enabled = worker_enabled;
    config.worker = std::move(worker);
    return config;
  }

  // Another data-service on the same Redis and registry (its own port and worker), started.
  std::unique_ptr<DataServiceApp> StartExtraApp(bool worker_enabled, JobWorkerOptions worker) {
    auto app = std::make_unique<DataServiceApp>(MakeConfig(worker_enabled, std::move(worker)),
                                                registry_, *logger_);
    const absl::Status started = app->Start();
    EXPECT_TRUE(started.ok()) << started;
    return app;
  }

  // Started, and SERVING within a bounded wait.
  bool Ready() {
    using namespace std::chrono_literals;
    return start_status_.ok() &&
           testing::WaitFor(
               [&] { return HealthStatus() == grpc::health::v1::HealthCheckResponse::SERVING; },
               10s);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus HealthStatus(
      const std::string& service = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health_->Check(&context, request, &response);
    return status.ok() ? response.status() : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }

  static void Prepare(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  grpc::Status Submit(const std::string& type, const std::string& payload_json,
                      int max_attempts = 0, v1::Job* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    v1::SubmitJobRequest request;
    request.set_type(type);
    auto payload = JsonToStruct(payload_json);
    EXPECT_TRUE(payload.ok()) << payload_json;
    if (payload.ok()) *request.mutable_payload() = *payload;
    request.set_max_attempts(max_attempts);
    v1::SubmitJobResponse response;
    const grpc::Status status = jobs_->SubmitJob(&context, request, &response);
    if (out) *out = response.job();
    return status;
  }

  grpc::Status GetJob(const std::string& id, v1::Job& out) {
    grpc::ClientContext context;
    Prepare(context);
    v1::GetJobRequest request;
    request.set_id(id);
    v1::GetJobResponse response;
    const grpc::Status status = jobs_->GetJob(&context, request, &response);
    out = response.job();
    return status;
  }

  grpc::Status ListJobs(v1::JobState state, int page_size, const std::string& token,
                        v1::ListJobsResponse& out) {
    grpc::ClientContext context;
    Prepare(context);
    v1::ListJobsRequest request;
    request.set_state(state);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return jobs_->ListJobs(&context, request, &out);
  }

  // Polls GetJob until `done` holds (true) or `timeout` passes (false); `job` is the last seen.
  bool WaitForJob(const std::string& id, const std::function<bool(const v1::Job&)>& done,
                  std::chrono::milliseconds timeout, v1::Job& job) {
    return testing::WaitFor(
        [&] {
          v1::Job seen;
          if (!GetJob(id, seen).ok()) return false;
          job = seen;
          return done(job);
        },
        timeout);
  }
  bool WaitForState(const std::string& id, v1::JobState state, std::chrono::milliseconds timeout,
                    v1::Job& job) {
    return WaitForJob(
        id, [state](const v1::Job& j) { return j.state() == state; }, timeout, job);
  }

  grpc::Status Put(const std::string& key, const std::string& value,
                   std::optional<std::int64_t> expected = std::nullopt,
                   v1::DataItem* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    v1::PutDataRequest request;
    request.set_key(key);
    request.set_value(value);
    if (expected) request.set_expected_version(*expected);
    v1::PutDataResponse response;
    const grpc::Status status = data_->PutData(&context, request, &response);
    if (out) *out = response.item();
    return status;
  }

  grpc::Status Get(const std::string& key, v1::DataItem* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    v1::GetDataRequest request;
    request.set_key(key);
    v1::GetDataResponse response;
    const grpc::Status status = data_->GetData(&context, request, &response);
    if (out) *out = response.item();
    return status;
  }

  grpc::Status Delete(const std::string& key, std::optional<std::int64_t> expected = std::nullopt) {
    grpc::ClientContext context;
    Prepare(context);
    v1::DeleteDataRequest request;
    request.set_key(key);
    if (expected) request.set_expected_version(*expected);
    v1::DeleteDataResponse response;
    return data_->DeleteData(&context, request, &response);
  }

  grpc::Status List(const std::string& prefix, int page_size, const std::string& token,
                    v1::ListDataResponse& out) {
    grpc::ClientContext context;
    Prepare(context);
    v1::ListDataRequest request;
    request.set_prefix(prefix);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return data_->ListData(&context, request, &out);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string ReadLog() const {
    logger_->Flush();
    return ReadFile(log_path_);
  }
  std::string ReadUserLog() const {
    user_logger_->Flush();
    return ReadFile(user_log_path_);
  }

  DataServiceApp& app() { return *app_; }
  // Stops the primary service as SIGTERM would (Redis keeps running).
  void StopService() { app_.reset(); }
  testing::RedisServer& redis() { return redis_; }
  const redis::RedisConfig& redis_config() const { return redis_config_; }
  TestJobLog& test_jobs() { return *test_jobs_; }
  const std::string& address() const { return address_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::shared_ptr<grpc::Channel>& user_channel() const { return user_channel_; }
  v1::DataService::Stub& data() { return *data_; }
  v1::JobService::Stub& jobs() { return *jobs_; }

 private:
  HarnessOptions options_;
  testing::RedisServer redis_;
  redis::RedisConfig redis_config_;
  std::string log_path_;
  std::string user_log_path_;
  int log_fd_ = -1;
  int user_log_fd_ = -1;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Logger> user_logger_;
  std::shared_ptr<TestJobLog> test_jobs_ = std::make_shared<TestJobLog>();
  std::shared_ptr<const JobRegistry> registry_;
  std::unique_ptr<user::UserServiceApp> user_app_;
  std::shared_ptr<grpc::Channel> user_channel_;
  DataServiceConfig config_;
  std::unique_ptr<DataServiceApp> app_;
  absl::Status start_status_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<v1::DataService::Stub> data_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
};

}  // namespace switchyard::data
