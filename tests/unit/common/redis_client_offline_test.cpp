// RedisClient behaviour that needs no Redis: argument checks and the not-ready fast path.

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"

namespace switchyard::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class RedisClientOfflineTest : public ::testing::Test {
 protected:
  RedisClientOfflineTest()
      : log_file_(std::tmpfile(), &std::fclose),
        logger_("redis-offline-test", "test", LogLevel::kInfo, fileno(log_file_.get())) {}

  std::shared_ptr<RedisClient> MakeClient() {
    RedisConfig config;
    config.port = 1;  // never contacted: these clients are not started
    return RedisClient::Create(io_.get_executor(), config, logger_);
  }

  // Runs one command to completion; the not-ready path never needs the network.
  absl::StatusOr<Reply> Run(RedisClient& client, std::vector<std::string> args) {
    std::optional<absl::StatusOr<Reply>> result;
    asio::co_spawn(
        io_,
        [&client, &result, args = std::move(args)]() mutable -> asio::awaitable<void> {
          result = co_await client.Command(std::move(args));
        },
        asio::detached);
    io_.run_for(2s);  // returns as soon as the coroutine is done: nothing else is pending
    io_.restart();
    if (!result.has_value()) return absl::InternalError("test: command did not complete");
    return *result;
  }

  asio::io_context io_{1};
  // Closed after the logger (members end in reverse order), whose writer thread writes to it.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file_;
  Logger logger_;
};

TEST_F(RedisClientOfflineTest, CommandOnClientNeverStartedIsUnavailableImmediately) {
  auto client = MakeClient();
  const auto started = std::chrono::steady_clock::now();
  const absl::StatusOr<Reply> reply = Run(*client, {"GET", "k"});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  ASSERT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("redis unavailable"), std::string::npos);
  EXPECT_FALSE(client->IsReady());
}

TEST_F(RedisClientOfflineTest, EmptyCommandIsInvalidArgument) {
  auto client = MakeClient();
  EXPECT_EQ(Run(*client, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisClientOfflineTest, PubSubAndMonitorAreRejectedAsInvalidArgument) {
  auto client = MakeClient();
  for (const char* name : {"SUBSCRIBE", "psubscribe", "Unsubscribe", "MONITOR"}) {
    EXPECT_EQ(Run(*client, {name, "channel"}).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST_F(RedisClientOfflineTest, StoppedClientIsUnavailableAndStaysStopped) {
  auto client = MakeClient();
  client->Stop();
  client->Stop();   // idempotent
  client->Start();  // ignored after Stop
  const absl::StatusOr<Reply> reply = Run(*client, {"PING"});
  ASSERT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("stopped"), std::string::npos);
  EXPECT_FALSE(client->IsReady());
}

TEST_F(RedisClientOfflineTest, EvalOnClientNeverStartedIsUnavailable) {
  auto client = MakeClient();
  const Script script("return 1");
  std::optional<absl::StatusOr<Reply>> result;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        std::vector<std::string> keys = {"k"};
        result = co_await client->Eval(script, std::move(keys), {});
      },
      asio::detached);
  io_.run_for(2s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisClientOfflineTest, StateCallbackIsNotCalledWithoutATransition) {
  auto client = MakeClient();
  int calls = 0;
  client->SetStateCallback([&calls](bool) { ++calls; });
  client->Stop();
  io_.run_for(100ms);
  EXPECT_EQ(calls, 0);
}

TEST_F(RedisClientOfflineTest, ScriptHasNoShaBeforeAnyScriptLoad) {
  auto client = MakeClient();
  const Script script("return 1");
  client->RegisterScript(&script);
  EXPECT_EQ(client->ScriptSha(script), std::nullopt);
}

// The status WaitReady(deadline) ends with on a client that is never connected.
absl::Status WaitReadyOn(asio::io_context& io, RedisClient& client,
                         std::chrono::steady_clock::duration timeout) {
  std::optional<absl::Status> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await client.WaitReady(std::chrono::steady_clock::now() + timeout);
      },
      asio::detached);
  io.run_for(5s);  // returns as soon as the coroutine is done: nothing else is pending
  io.restart();
  return result.value_or(absl::InternalError("test: WaitReady did not complete"));
}

TEST_F(RedisClientOfflineTest, WaitReadyOnClientNeverStartedEndsAtTheDeadline) {
  auto client = MakeClient();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitReadyOn(io_, *client, 50ms).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
}

TEST_F(RedisClientOfflineTest, WaitReadyOnStoppedClientIsUnavailableAtOnce) {
  auto client = MakeClient();
  client->Stop();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitReadyOn(io_, *client, 5s).code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

}  // namespace
}  // namespace switchyard::redis
