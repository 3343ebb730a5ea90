#pragma once

// Talking to Redis Sentinel, for RedisClient's sentinel mode (RedisConfig::sentinels):
//  - AskSentinelsForPrimary: which server is the primary of a master name now;
//  - SentinelWatcher: one subscriber connection to a sentinel that reports +switch-master.
// Both run on one executor's thread, like RedisClient, and never block it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"

struct redisAsyncContext;
struct redisReply;

namespace switchyard::redis {

// A question to the sentinels in flight, for its owner to end early (on Stop): Cancel() closes
// its sentinel connections at once and the question answers CANCELLED. Same thread as the asker.
class SentinelQuery {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_; }

 private:
  friend boost::asio::awaitable<absl::StatusOr<RedisEndpoint>> AskSentinelsForPrimary(
      boost::asio::any_io_executor executor, RedisConfig config, Logger& logger,
      std::chrono::steady_clock::time_point deadline, std::shared_ptr<SentinelQuery> query);

  std::vector<std::shared_ptr<RedisClient>> clients_;
  boost::asio::steady_timer* wake_ = nullptr;
  bool cancelled_ = false;
};

// Asks every sentinel in config.sentinels at once (a short-lived RedisClient each, AUTH with
// config.sentinel_password) `SENTINEL get-master-addr-by-name config.sentinel_master`; the first
// address answered wins and the other questions are abandoned. UNAVAILABLE, naming each
// sentinel's problem, when none answers an address before `deadline` (unreachable, wrong
// password, unknown master name). The caller verifies the answer (ROLE) after connecting.
// `query`, when given, lets the caller cancel.
boost::asio::awaitable<absl::StatusOr<RedisEndpoint>> AskSentinelsForPrimary(
    boost::asio::any_io_executor executor, RedisConfig config, Logger& logger,
    std::chrono::steady_clock::time_point deadline, std::shared_ptr<SentinelQuery> query = nullptr);

// The payload of a +switch-master message, "<master> <old ip> <old port> <new ip> <new port>":
// the new primary when it is about `master`, else nullopt.
std::optional<RedisEndpoint> ParseSwitchMaster(std::string_view payload, std::string_view master);

// Keeps one connection subscribed to +switch-master on one of config.sentinels (the next one
// when it fails, after a backoff) and calls `on_switch` with the new primary of
// config.sentinel_master. After a re-subscription it calls `on_resubscribed`: events may have
// been missed meanwhile. A half-open connection (a partitioned sentinel) is noticed by TCP
// keepalive within about five seconds. Callbacks run on the executor, never inside hiredis.
class SentinelWatcher : public std::enable_shared_from_this<SentinelWatcher> {
 public:
  using OnSwitch = std::function<void(const RedisEndpoint& primary)>;

  static std::shared_ptr<SentinelWatcher> Create(boost::asio::any_io_executor executor,
                                                 RedisConfig config, Logger& logger,
                                                 OnSwitch on_switch);
  ~SentinelWatcher();
  SentinelWatcher(const SentinelWatcher&) = delete;
  SentinelWatcher& operator=(const SentinelWatcher&) = delete;

  // Called (posted) after each subscription but the first: ask the sentinels again.
  void SetOnResubscribed(std::function<void()> callback) { on_resubscribed_ = std::move(callback); }

  void Start();
  // Final; idempotent. No callback runs after it.
  void Stop();

  bool subscribed() const { return subscribed_; }
  // Subscriptions made so far (tests).
  std::uint64_t subscriptions() const { return subscriptions_; }

 private:
  SentinelWatcher(boost::asio::any_io_executor executor, RedisConfig config, Logger& logger,
                  OnSwitch on_switch);

  void ConnectNext();
  void OnResolved(std::uint64_t attempt, const boost::system::error_code& ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void Connect(std::uint64_t attempt, const std::string& ip);
  void Failed(std::string_view what, std::string_view error);
  void Drop();
  void OnAuthReply(const redisReply* reply);
  void OnSubscriptionReply(const redisReply* reply);

  static void OnConnectThunk(const redisAsyncContext* context, int status);
  static void OnDisconnectThunk(const redisAsyncContext* context, int status);
  static void OnAuthThunk(redisAsyncContext* context, void* reply, void* privdata);
  static void OnSubscriptionThunk(redisAsyncContext* context, void* reply, void* privdata);

  boost::asio::any_io_executor executor_;
  RedisConfig config_;
  Logger& logger_;
  OnSwitch on_switch_;
  std::function<void()> on_resubscribed_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer retry_timer_;
  redisAsyncContext* context_ = nullptr;  // owned; freed only through Drop()
  std::size_t next_ = 0;                  // the sentinel the next attempt uses
  std::uint64_t attempt_ = 0;
  int failures_ = 0;
  bool stopped_ = false;
  bool subscribed_ = false;
  std::uint64_t subscriptions_ = 0;
};

}  // namespace switchyard::redis
