// The CompletionQueue <-> coroutine bridge, over an in-process channel (no network): answers,
// errors, exceptions, and deadline or cancellation reaching the handler coroutine.

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/grpc/grpc_client.hpp"
#include "common/grpc/grpc_runtime.hpp"
#include "common/grpc/grpc_server.hpp"

namespace switchyard::rpc {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using namespace std::chrono_literals;

// What the handler saw, written on its shard's loop thread and read by the test after a bounded
// wait.
struct HandlerLog {
  std::promise<std::string> outcome;  // "cancelled" or "finished"
  std::atomic<int> calls{0};
  // "thread" mode: whether the handler ran on its shard's loop thread before and after awaiting
  // a timer, and on the same thread both times.
  std::promise<std::array<bool, 3>> placement;
};

// Waits (bounded) until every shard of `runtime` sleeps, with its poller watching the queue.
bool AllShardsAsleep(Runtime& runtime) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    bool asleep = true;
    for (std::size_t i = 0; i < runtime.size(); ++i) {
      asleep = asleep && runtime.shard(i).poller_state.load() == Shard::kPolling;
    }
    if (asleep) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
}

// A Health.Check whose behaviour is chosen by the request's service name:
//   "echo"  answers SERVING at once      "fail"  answers NOT_FOUND
//   "throw" throws                       "slow"  waits 30 s on a timer (to be cancelled)
//   "thread" records where it runs (HandlerLog::placement) around a 1 ms timer
class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    runtime_.AddServerQueues(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    runtime_.Start();
    const absl::Status served =
        Serve(runtime_,
              Register(
                  service_, &Health::AsyncService::RequestCheck,
                  [this](RpcContext& rpc, const HealthCheckRequest& request,
                         HealthCheckResponse& response) { return Handle(rpc, request, response); },
                  logger_));
    ASSERT_TRUE(served.ok()) << served;
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = Health::NewStub(channel_);
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
    runtime_.Stop();
  }

  boost::asio::awaitable<grpc::Status> Handle(RpcContext& rpc, const HealthCheckRequest& request,
                                              HealthCheckResponse& response) {
    log_.calls++;
    {
      // Written by both server shards' loops, read by the test's thread.
      std::lock_guard lock(last_request_id_mutex_);
      last_request_id_ = rpc.request_id;
    }
    const std::string& mode = request.service();
    if (mode == "fail") co_return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such thing");
    if (mode == "throw") throw std::runtime_error("handler bug");
    if (mode == "thread") {
      Shard& shard = runtime_.shard(rpc.shard);
      const bool before = shard.RunningHere();
      const auto thread = std::this_thread::get_id();
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 1ms);
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      log_.placement.set_value({before, shard.RunningHere(), thread == std::this_thread::get_id()});
    }
    if (mode == "slow") {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 30s);
      auto [error] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      log_.outcome.set_value(error == boost::asio::error::operation_aborted ? "cancelled"
                                                                            : "finished");
      co_return grpc::Status::OK;
    }
    response.set_status(HealthCheckResponse::SERVING);
    co_return grpc::Status::OK;
  }

  // Calls Check from a coroutine on the client runtime, optionally cancelled via `cancel`.
  grpc::Status CallFromCoroutine(const std::string& mode, std::chrono::milliseconds timeout,
                                 boost::asio::cancellation_signal* cancel = nullptr,
                                 HealthCheckResponse* out = nullptr) {
    std::promise<grpc::Status> result;
    Shard& shard = client_runtime_.shard(0);
    auto call = [&]() -> boost::asio::awaitable<void> {
      grpc::ClientContext context;
      PrepareClientContext(context, std::chrono::steady_clock::time_point::max(), timeout,
                           "req-123");
      HealthCheckRequest request;
      request.set_service(mode);
      HealthCheckResponse response;
      grpc::Status status = co_await CallUnary(
          shard, context,
          [&](grpc::CompletionQueue* cq) {
            return stub_->PrepareAsyncCheck(&context, request, cq);
          },
          response);
      if (out) *out = response;
      result.set_value(status);
    };
    if (cancel) {
      boost::asio::co_spawn(
          shard.io, call(),
          boost::asio::bind_cancellation_slot(cancel->slot(), boost::asio::detached));
    } else {
      boost::asio::co_spawn(shard.io, call(), boost::asio::detached);
    }
    auto future = result.get_future();
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    return future.get();
  }

  Logger logger_{"test", "0", LogLevel::kError};
  Health::AsyncService service_;
  Runtime runtime_{2};
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Health::Stub> stub_;
  HandlerLog log_;
  std::mutex last_request_id_mutex_;
  std::string last_request_id_;  // guarded by last_request_id_mutex_
  Runtime client_runtime_{1};

 public:
  BridgeTest() { client_runtime_.Start(); }
  ~BridgeTest() override { client_runtime_.Stop(); }
};

TEST_F(BridgeTest, HandlerAnswerReachesClient) {
  HealthCheckResponse response;
  const grpc::Status status = CallFromCoroutine("echo", 5s, nullptr, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  std::lock_guard lock(last_request_id_mutex_);
  EXPECT_EQ(last_request_id_, "req-123");
}

TEST_F(BridgeTest, HandlerAndClientCoroutinesResumeOnTheirShardsLoopThread) {
  auto placement = log_.placement.get_future();
  std::promise<std::array<bool, 3>> client_placement;
  Shard& shard = client_runtime_.shard(0);
  boost::asio::co_spawn(
      shard.io,
      [&]() -> boost::asio::awaitable<void> {
        const bool before = shard.RunningHere();
        const auto thread = std::this_thread::get_id();
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 5s);
        HealthCheckRequest request;
        request.set_service("thread");
        HealthCheckResponse response;
        co_await CallUnary(
            shard, context,
            [&](grpc::CompletionQueue* cq) {
              return stub_->PrepareAsyncCheck(&context, request, cq);
            },
            response);
        client_placement.set_value(
            {before, shard.RunningHere(), thread == std::this_thread::get_id()});
      },
      boost::asio::detached);
  auto client = client_placement.get_future();
  ASSERT_EQ(client.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(client.get(), (std::array<bool, 3>{true, true, true}));
  ASSERT_EQ(placement.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(placement.get(), (std::array<bool, 3>{true, true, true}));
}

TEST_F(BridgeTest, SleepingShardsWakeForCallsAndTimers) {
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(AllShardsAsleep(runtime_)) << "round " << round;
    ASSERT_TRUE(AllShardsAsleep(client_runtime_)) << "round " << round;
    HealthCheckResponse response;
    EXPECT_TRUE(CallFromCoroutine("echo", 5s, nullptr, &response).ok()) << "round " << round;
    ASSERT_TRUE(AllShardsAsleep(runtime_)) << "round " << round;
    std::promise<void> fired;
    boost::asio::steady_timer timer(runtime_.shard(1).io, 1ms);
    timer.async_wait([&](const boost::system::error_code&) { fired.set_value(); });
    EXPECT_EQ(fired.get_future().wait_for(5s), std::future_status::ready) << "round " << round;
  }
}

TEST_F(BridgeTest, HandlerErrorStatusReachesClient) {
  const grpc::Status status = CallFromCoroutine("fail", 5s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no such thing");
}

TEST_F(BridgeTest, ThrowingHandlerAnswersInternalWithoutDetails) {
  const grpc::Status status = CallFromCoroutine("throw", 5s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message().find("handler bug"), std::string::npos);
}

TEST_F(BridgeTest, ClientDeadlineCancelsHandlerCoroutine) {
  auto outcome = log_.outcome.get_future();
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = CallFromCoroutine("slow", 200ms);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(outcome.get(), "cancelled");
}

TEST_F(BridgeTest, ClientCancellationCancelsCallAndHandler) {
  auto outcome = log_.outcome.get_future();
  boost::asio::cancellation_signal cancel;
  std::future<grpc::Status> status =
      std::async(std::launch::async, [&] { return CallFromCoroutine("slow", 30s, &cancel); });
  // Cancel once the handler is running, from the client coroutine's own thread.
  ASSERT_TRUE([&] {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (log_.calls.load() == 0) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::yield();
    }
    return true;
  }());
  boost::asio::post(client_runtime_.shard(0).io,
                    [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
  ASSERT_EQ(status.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(outcome.get(), "cancelled");
}

TEST_F(BridgeTest, ManyConcurrentCallsAllAnswered) {
  constexpr int kCalls = 500;
  std::atomic<int> ok{0};
  std::promise<void> done;
  std::atomic<int> remaining{kCalls};
  for (int i = 0; i < kCalls; ++i) {
    Shard& shard = client_runtime_.shard(0);
    boost::asio::co_spawn(
        shard.io,
        [&]() -> boost::asio::awaitable<void> {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + 10s);
          HealthCheckRequest request;
          request.set_service("echo");
          HealthCheckResponse response;
          grpc::Status status = co_await CallUnary(
              shard, context,
              [&](grpc::CompletionQueue* cq) {
                return stub_->PrepareAsyncCheck(&context, request, cq);
              },
              response);
          if (status.ok() && response.status() == HealthCheckResponse::SERVING) ok++;
          if (--remaining == 0) done.set_value();
        },
        boost::asio::detached);
  }
  ASSERT_EQ(done.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(log_.calls.load(), kCalls);
}

}  // namespace
}  // namespace switchyard::rpc
