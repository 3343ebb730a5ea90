#pragma once

// user-service wired together: per runtime shard one Redis connection (the host's), one
// RedisUserStore and one UserServiceImpl; each UserService RPC served by the shard's impl; health
// that follows Redis. main() and the integration tests both use this.

#include <atomic>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "common/redis/redis_client.hpp"
#include "common/service/service_host.hpp"
#include "switchyard/user/v1/user_service.grpc.pb.h"
#include "user-service/redis_user_store.hpp"
#include "user-service/user_service_impl.hpp"

namespace switchyard::user {

struct UserServiceConfig {
  ServiceHostOptions host;
  redis::RedisConfig redis;
};

class UserServiceApp {
 public:
  UserServiceApp(UserServiceConfig config, Logger& logger);
  ~UserServiceApp();

  // Binds the port and starts serving; health is SERVING once Redis is reachable.
  absl::Status Start();
  int port() const { return host_.port(); }
  ServiceHost& host() { return host_; }

  // Blocks until SIGTERM/SIGINT or host().RequestStop().
  void WaitForSignal() { host_.WaitForSignal(); }
  // Graceful: NOT_SERVING, drain in-flight calls, close Redis, stop threads. Idempotent.
  void Shutdown();

 private:
  struct ShardState {
    std::unique_ptr<RedisUserStore> store;
    std::unique_ptr<UserServiceImpl> impl;
  };

  void ServeRpcs();
  // Keeps users_total equal to the number of users in Redis (ZCARD, every few seconds).
  boost::asio::awaitable<void> RefreshUserCount();

  UserServiceConfig config_;
  ServiceHost host_;
  v1::UserService::AsyncService service_;
  std::vector<std::unique_ptr<ShardState>> shards_;
  prometheus::Gauge& users_total_;
  std::unique_ptr<boost::asio::steady_timer> refresh_timer_;  // shard 0's io thread
  bool stopping_ = false;                                     // shard 0's io thread
};

}  // namespace switchyard::user
