#pragma once

// A user-service (the same wiring as main) on a free loopback port, logging to a temp file, in
// front of its own real redis-server. Waits until the service reports SERVING.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tests/support/redis_server.hpp"
#include "user-service/user_service_app.hpp"

namespace switchyard::user {

class UserServiceHarness {
 public:
  explicit UserServiceHarness(std::string redis_password = "s3cret-pass")
      : redis_(std::move(redis_password)) {
    using namespace std::chrono_literals;
    static int counter = 0;
    log_path_ = ::testing::TempDir() + "user_service_" + std::to_string(::getpid()) + "_" +
                std::to_string(++counter) + ".log";
    log_fd_ = ::open(log_path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    logger_ = std::make_unique<Logger>("user-service", "test", LogLevel::kInfo, log_fd_);

    config_.host.listen_address = "127.0.0.1:0";
    config_.host.shards = 2;
    config_.host.shutdown_grace = 2s;
    config_.host.metrics_address = "127.0.0.1:0";
    config_.redis.host = "127.0.0.1";
    config_.redis.port = redis_.port();
    config_.redis.password = redis_.password();
    config_.redis.reconnect_max_backoff = 200ms;
    app_ = std::make_unique<UserServiceApp>(config_, *logger_);
    start_status_ = app_->Start();
    if (!start_status_.ok()) return;
    address_ = "127.0.0.1:" + std::to_string(app_->port());
    config_.host.listen_address = address_;  // a restart comes back on the same port
    metrics_port_ = app_->host().metrics().port();
    config_.host.metrics_address = "127.0.0.1:" + std::to_string(metrics_port_);
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }

  ~UserServiceHarness() {
    app_.reset();
    logger_.reset();  // its writer thread writes to log_fd_ until it ends
    if (log_fd_ >= 0) ::close(log_fd_);
    std::remove(log_path_.c_str());
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

  // Stops the service as SIGTERM would (the Redis server keeps running).
  void StopService() { app_.reset(); }
  // Starts a fresh service on the same port; false if it cannot.
  bool StartService() {
    app_ = std::make_unique<UserServiceApp>(config_, *logger_);
    start_status_ = app_->Start();
    return start_status_.ok();
  }

  std::string ReadLog() const {
    logger_->Flush();
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  testing::RedisServer& redis() { return redis_; }
  int metrics_port() const { return metrics_port_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::string& address() const { return address_; }

 private:
  testing::RedisServer redis_;
  std::string log_path_;
  int log_fd_ = -1;
  std::unique_ptr<Logger> logger_;
  UserServiceConfig config_;
  std::unique_ptr<UserServiceApp> app_;
  absl::Status start_status_;
  std::string address_;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace switchyard::user
