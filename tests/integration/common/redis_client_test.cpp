// RedisClient against a real redis-server on a free loopback port.
//
// Each test runs the client's io_context on the test thread (RunUntil), so the client is only
// ever touched from its own thread, and waits are on conditions with bounded timeouts.

#include "common/redis/redis_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "common/service/logger.hpp"
#include "tests/support/redis_server.hpp"

namespace switchyard::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;
using switchyard::testing::RedisServer;

std::size_t CountOccurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

std::size_t OpenFileDescriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

class RedisClientTest : public ::testing::Test {
 protected:
  RedisClientTest()
      : log_file_(std::tmpfile(), &std::fclose),
        logger_("redis-client-test", "test", LogLevel::kInfo, fileno(log_file_.get())) {}

  void TearDown() override {
    if (HasFailure()) std::printf("--- client log ---\n%s\n", LogText().c_str());
  }

  std::string LogText() const {
    logger_.Flush();
    std::string text;
    char buf[4096];
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(fileno(log_file_.get()), buf, sizeof buf, offset);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      offset += n;
    }
    return text;
  }

  static RedisConfig ConfigFor(const RedisServer& server) {
    RedisConfig config;
    config.host = "127.0.0.1";
    config.port = server.port();
    config.password = server.password();
    return config;
  }

  std::shared_ptr<RedisClient> MakeClient(RedisConfig config) {
    return RedisClient::Create(io_.get_executor(), std::move(config), logger_);
  }

  // Creates, starts and waits until ready (the caller asserts IsReady()).
  std::shared_ptr<RedisClient> ReadyClient(RedisConfig config,
                                           const std::vector<const Script*>& scripts = {}) {
    auto client = MakeClient(std::move(config));
    for (const Script* script : scripts) client->RegisterScript(script);
    client->Start();
    RunUntil([&] { return client->IsReady(); }, 10s);
    return client;
  }

  // Runs the loop until pred() holds or `timeout` passes. Blocks in the reactor, never sleeps.
  bool RunUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() >= deadline) return false;
      const std::size_t ran = io_.run_one_until(deadline);
      if (io_.stopped()) {
        io_.restart();
        if (ran == 0) return pred();  // no work left: nothing can change pred() any more
      }
    }
    return true;
  }

  absl::StatusOr<Reply> Run(RedisClient& client, std::vector<std::string> args,
                            std::optional<Clock::time_point> deadline = std::nullopt) {
    std::optional<absl::StatusOr<Reply>> result;
    asio::co_spawn(
        io_,
        [&client, &result, args = std::move(args), deadline]() mutable -> asio::awaitable<void> {
          result = co_await client.Command(std::move(args), deadline);
        },
        asio::detached);
    if (!RunUntil([&] { return result.has_value(); }, 15s)) {
      return absl::InternalError("test: command did not complete");
    }
    return *result;
  }

  absl::StatusOr<Reply> RunEval(RedisClient& client, const Script& script,
                                std::vector<std::string> keys, std::vector<std::string> args) {
    std::optional<absl::StatusOr<Reply>> result;
    asio::co_spawn(
        io_,
        [&client, &script, &result, keys = std::move(keys),
         args = std::move(args)]() mutable -> asio::awaitable<void> {
          result = co_await client.Eval(script, std::move(keys), std::move(args));
        },
        asio::detached);
    if (!RunUntil([&] { return result.has_value(); }, 15s)) {
      return absl::InternalError("test: eval did not complete");
    }
    return *result;
  }

  // Polls INFO clients through `probe` until it contains `line` (e.g. "blocked_clients:1").
  bool ServerReports(RedisClient& probe, const std::string& line,
                     std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const absl::StatusOr<Reply> info = Run(probe, {"INFO", "clients"});
      if (info.ok() && info->str.find(line + "\r\n") != std::string::npos) return true;
    }
    return false;
  }

  // Spawns client.WaitReady(deadline), cancellable through `slot`; its status lands in `result`.
  void SpawnWaitReady(RedisClient& client, std::optional<absl::Status>& result,
                      std::optional<Clock::time_point> deadline = std::nullopt,
                      asio::cancellation_slot slot = {}) {
    asio::co_spawn(
        io_,
        [&client, &result, deadline]() -> asio::awaitable<void> {
          result = co_await client.WaitReady(deadline);
        },
        asio::bind_cancellation_slot(slot, asio::detached));
  }

  // Spawns a command whose result lands in `results[index]`; `done` counts completions.
  void Spawn(RedisClient* client, std::vector<std::string> args,
             std::vector<std::optional<absl::StatusOr<Reply>>>& results, std::size_t index,
             int& done) {
    asio::co_spawn(
        io_,
        [client, args = std::move(args), &results, index,
         &done]() mutable -> asio::awaitable<void> {
          results[index] = co_await client->Command(std::move(args));
          ++done;
        },
        asio::detached);
  }

  asio::io_context io_{1};
  // Closed after the logger (members end in reverse order), whose writer thread writes to it.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file_;
  Logger logger_;
};

TEST_F(RedisClientTest, SetThenGetRoundTripsBinaryKeyAndValue) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());

  const std::string key = "bin\0key\r\n"s;
  const std::string value = "\0\x01\xff\r\n$3\r\n*1 \"quoted\"\0"s;
  EXPECT_EQ(Run(*client, {"SET", key, value}).value(), Reply::Status("OK"));
  EXPECT_EQ(Run(*client, {"GET", key}).value(), Reply::String(value));
  EXPECT_EQ(Run(*client, {"GET", "missing"}).value(), Reply::Nil());
  EXPECT_EQ(Run(*client, {"INCRBY", "counter", "41"}).value(), Reply::Integer(41));
  EXPECT_EQ(Run(*client, {"RPUSH", "list", "a", ""}).value(), Reply::Integer(2));
  EXPECT_EQ(Run(*client, {"LRANGE", "list", "0", "-1"}).value(),
            Reply::Array({Reply::String("a"), Reply::String("")}));
}

TEST_F(RedisClientTest, RedisErrorReplyIsOkStatusHoldingErrorReply) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());

  ASSERT_TRUE(Run(*client, {"SET", "plain", "x"}).ok());
  const absl::StatusOr<Reply> reply = Run(*client, {"LPUSH", "plain", "y"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->type, Reply::Type::kError);
  EXPECT_EQ(reply->str.rfind("WRONGTYPE", 0), 0u) << reply->str;
  EXPECT_TRUE(client->IsReady());
}

TEST_F(RedisClientTest, ThousandConcurrentCommandsPipelineOnOneConnection) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());

  constexpr int kCoroutines = 1000;
  int done = 0;
  int correct = 0;
  RedisClient* raw = client.get();
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(
        io_,
        [raw, i, &done, &correct]() -> asio::awaitable<void> {
          const std::string key = "key:" + std::to_string(i);
          const std::string value = "value:" + std::to_string(i);
          std::vector<std::string> set = {"SET", key, value};
          const absl::StatusOr<Reply> set_reply = co_await raw->Command(std::move(set));
          std::vector<std::string> get = {"GET", key};
          const absl::StatusOr<Reply> get_reply = co_await raw->Command(std::move(get));
          if (set_reply.ok() && *set_reply == Reply::Status("OK") && get_reply.ok() &&
              *get_reply == Reply::String(value)) {
            ++correct;
          }
          ++done;
        },
        asio::detached);
  }
  std::size_t max_in_flight = 0;
  ASSERT_TRUE(RunUntil(
      [&] {
        max_in_flight = std::max(max_in_flight, client->in_flight());
        return done == kCoroutines;
      },
      30s));
  EXPECT_EQ(correct, kCoroutines);
  // Lock-step would never have more than one command outstanding.
  EXPECT_GT(max_in_flight, 100u);
  const absl::StatusOr<Reply> info = Run(*client, {"INFO", "clients"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_NE(info->str.find("connected_clients:1\r\n"), std::string::npos) << info->str;
  EXPECT_EQ(client->reconnects(), 0u);
}

TEST_F(RedisClientTest, EvalUsesScriptLoadedOnConnectAndFallsBackToEvalAfterScriptFlush) {
  RedisServer server;
  const Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto client = ReadyClient(ConfigFor(server), {&incr});
  ASSERT_TRUE(client->IsReady());
  const std::optional<std::string> sha = client->ScriptSha(incr);
  ASSERT_TRUE(sha.has_value());

  EXPECT_EQ(Run(*client, {"SCRIPT", "EXISTS", *sha}).value(), Reply::Array({Reply::Integer(1)}));
  EXPECT_EQ(RunEval(*client, incr, {"counter"}, {"5"}).value(), Reply::Integer(5));

  EXPECT_EQ(Run(*client, {"SCRIPT", "FLUSH"}).value(), Reply::Status("OK"));
  EXPECT_EQ(Run(*client, {"SCRIPT", "EXISTS", *sha}).value(), Reply::Array({Reply::Integer(0)}));
  EXPECT_EQ(RunEval(*client, incr, {"counter"}, {"5"}).value(), Reply::Integer(10));
  EXPECT_EQ(Run(*client, {"SCRIPT", "EXISTS", *sha}).value(), Reply::Array({Reply::Integer(1)}));
}

TEST_F(RedisClientTest, ScriptShaIsWhatScriptLoadAnsweredAndIsKnownOnlyForRegisteredScripts) {
  RedisServer server;
  const Script registered("return {KEYS[1], ARGV[1]}");
  const Script other("return 2");
  auto client = MakeClient(ConfigFor(server));
  client->RegisterScript(&registered);
  EXPECT_EQ(client->ScriptSha(registered), std::nullopt);  // not connected yet
  client->Start();
  ASSERT_TRUE(RunUntil([&] { return client->IsReady(); }, 10s));
  const absl::StatusOr<Reply> loaded = Run(*client, {"SCRIPT", "LOAD", registered.body()});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(client->ScriptSha(registered), loaded->str);
  EXPECT_EQ(client->ScriptSha(other), std::nullopt);
}

TEST_F(RedisClientTest, EvalOfUnregisteredScriptWorksAndLuaErrorReplyIsErrorReply) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());

  const Script echo("return {KEYS[1], ARGV[1]}");
  EXPECT_EQ(RunEval(*client, echo, {"k\0"s}, {"v"}).value(),
            Reply::Array({Reply::String("k\0"s), Reply::String("v")}));
  const Script failing("return redis.error_reply('MYERR custom failure')");
  EXPECT_EQ(RunEval(*client, failing, {}, {}).value(), Reply::Error("MYERR custom failure"));
}

TEST_F(RedisClientTest, CommandWhileRedisUnreachableFailsFastWithUnavailable) {
  // A bound socket that never listens: connects are refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  RedisConfig config;
  config.port = ntohs(addr.sin_port);

  auto client = MakeClient(config);
  client->Start();
  EXPECT_FALSE(RunUntil([&] { return client->IsReady(); }, 300ms));
  const auto started = Clock::now();
  const absl::StatusOr<Reply> reply = Run(*client, {"PING"});
  EXPECT_LT(Clock::now() - started, 100ms);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("redis unavailable: "), std::string::npos);
  EXPECT_GE(CountOccurrences(LogText(), "redis connect failed"), 2u) << "retries with backoff";
  ::close(fd);
}

TEST_F(RedisClientTest, ConnectThatNeverCompletesIsAbandonedAfterConnectTimeoutAndRetried) {
  // Accepts TCP connections (into the backlog) but never answers: the handshake hangs.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 64), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  RedisConfig config;
  config.port = ntohs(addr.sin_port);
  config.connect_timeout = 150ms;
  config.reconnect_initial_backoff = 20ms;

  auto client = MakeClient(config);
  client->Start();
  ASSERT_TRUE(
      RunUntil([&] { return CountOccurrences(LogText(), "redis connect timed out") >= 3; }, 5s));
  EXPECT_FALSE(client->IsReady());
  EXPECT_EQ(LogText().find("redis connected"), std::string::npos);
  const auto started = Clock::now();
  EXPECT_EQ(Run(*client, {"PING"}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - started, 100ms);
  client.reset();
  ::close(fd);
}

TEST_F(RedisClientTest, HostNameIsResolvedBeforeConnecting) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.host = "localhost";
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());
  EXPECT_EQ(Run(*client, {"PING"}).value(), Reply::Status("PONG"));
  EXPECT_NE(LogText().find(R"("ip":"127.0.0.1")"), std::string::npos);
}

TEST_F(RedisClientTest, RedisStoppedGivesUnavailableThenCommandsSucceedAfterRestart) {
  RedisServer server;
  auto client = MakeClient(ConfigFor(server));
  std::vector<bool> transitions;
  client->SetStateCallback([&transitions](bool ready) { transitions.push_back(ready); });
  client->Start();
  ASSERT_TRUE(RunUntil([&] { return client->IsReady(); }, 10s));
  ASSERT_EQ(Run(*client, {"SET", "durable", "kept"}).value(), Reply::Status("OK"));

  server.Stop();
  ASSERT_TRUE(RunUntil([&] { return !client->IsReady(); }, 5s));
  EXPECT_EQ(Run(*client, {"GET", "durable"}).status().code(), absl::StatusCode::kUnavailable);

  server.Start();
  ASSERT_TRUE(RunUntil([&] { return client->IsReady(); }, 10s));
  EXPECT_EQ(Run(*client, {"GET", "durable"}).value(), Reply::String("kept"));
  EXPECT_EQ(client->reconnects(), 1u);
  ASSERT_TRUE(RunUntil([&] { return transitions.size() >= 3; }, 2s));
  EXPECT_EQ(transitions, (std::vector<bool>{true, false, true}));
  EXPECT_NE(LogText().find("redis connection lost"), std::string::npos);
  EXPECT_NE(LogText().find("redis reconnected"), std::string::npos);
}

TEST_F(RedisClientTest, CommandsInFlightWhenConnectionIsKilledFailWithUnavailableThenReconnect) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 30s;
  auto client = ReadyClient(config);
  auto probe = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());
  ASSERT_TRUE(probe->IsReady());

  constexpr std::size_t kCommands = 5;
  std::vector<std::optional<absl::StatusOr<Reply>>> results(kCommands);
  int done = 0;
  Spawn(client.get(), {"BLPOP", "never:pushed", "20"}, results, 0, done);
  for (std::size_t i = 1; i < kCommands; ++i) {
    Spawn(client.get(), {"GET", "queued:" + std::to_string(i)}, results, i, done);
  }
  ASSERT_TRUE(ServerReports(*probe, "blocked_clients:1", 5s));
  EXPECT_EQ(client->in_flight(), kCommands);

  // SKIPME yes (the default) spares the probe.
  const absl::StatusOr<Reply> killed = Run(*probe, {"CLIENT", "KILL", "TYPE", "normal"});
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(*killed, Reply::Integer(1));

  ASSERT_TRUE(RunUntil([&] { return done == static_cast<int>(kCommands); }, 2s));
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable) << result->status();
  }
  ASSERT_TRUE(RunUntil([&] { return client->IsReady() && client->reconnects() == 1; }, 10s));
  EXPECT_EQ(Run(*client, {"PING"}).value(), Reply::Status("PONG"));
  EXPECT_EQ(client->in_flight(), 0u);
}

TEST_F(RedisClientTest, ReconnectsDoNotLeakSockets) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  auto probe = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());
  ASSERT_TRUE(probe->IsReady());
  const std::size_t baseline = OpenFileDescriptors();

  for (std::uint64_t round = 1; round <= 5; ++round) {
    ASSERT_TRUE(Run(*probe, {"CLIENT", "KILL", "TYPE", "normal"}).ok());
    ASSERT_TRUE(RunUntil([&] { return client->IsReady() && client->reconnects() == round; }, 10s))
        << "round " << round;
  }
  EXPECT_EQ(OpenFileDescriptors(), baseline);
  EXPECT_EQ(Run(*client, {"PING"}).value(), Reply::Status("PONG"));
}

TEST_F(RedisClientTest, RightPasswordAuthenticatesAndSelectsConfiguredDb) {
  RedisServer server("correct horse battery");
  RedisConfig config = ConfigFor(server);
  config.db = 3;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());
  EXPECT_EQ(Run(*client, {"SET", "in-db-3", "yes"}).value(), Reply::Status("OK"));

  auto db0 = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(db0->IsReady());
  EXPECT_EQ(Run(*db0, {"GET", "in-db-3"}).value(), Reply::Nil());
  EXPECT_EQ(Run(*client, {"GET", "in-db-3"}).value(), Reply::String("yes"));
}

TEST_F(RedisClientTest, WrongPasswordNeverBecomesReadyAndIsLoggedWithoutThePassword) {
  RedisServer server("correct horse battery");
  RedisConfig config = ConfigFor(server);
  config.password = "wrong-password-123";
  auto client = MakeClient(config);
  client->Start();
  EXPECT_FALSE(RunUntil([&] { return client->IsReady(); }, 1500ms));
  EXPECT_EQ(Run(*client, {"PING"}).status().code(), absl::StatusCode::kUnavailable);

  const std::string log = LogText();
  EXPECT_GE(CountOccurrences(log, "redis authentication failed"), 2u) << "keeps retrying";
  EXPECT_NE(log.find("WRONGPASS"), std::string::npos);
  EXPECT_EQ(log.find("wrong-password-123"), std::string::npos);
  EXPECT_EQ(log.find("correct horse battery"), std::string::npos);
}

TEST_F(RedisClientTest, MissingPasswordNeverBecomesReady) {
  RedisServer server("correct horse battery");
  RedisConfig config = ConfigFor(server);
  config.password.clear();
  auto client = MakeClient(config);
  client->Start();
  EXPECT_FALSE(RunUntil([&] { return client->IsReady(); }, 1000ms));
  EXPECT_NE(LogText().find("NOAUTH"), std::string::npos);
}

TEST_F(RedisClientTest, DeadlineExpiringBeforeReplyGivesDeadlineExceededAndKeepsConnection) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 10s;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());

  const auto started = Clock::now();
  const absl::StatusOr<Reply> reply =
      Run(*client, {"BLPOP", "deadline:nokey", "5"}, started + 200ms);
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded) << reply.status();
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_TRUE(client->IsReady());
  EXPECT_EQ(client->reconnects(), 0u);
  EXPECT_EQ(client->in_flight(), 1u) << "the BLPOP is still blocked server-side";
}

TEST_F(RedisClientTest, DeadlineAlreadyPassedFailsWithoutSending) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());

  const absl::StatusOr<Reply> reply = Run(*client, {"SET", "not-sent", "x"}, Clock::now() - 1ms);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client->in_flight(), 0u);
  EXPECT_EQ(Run(*client, {"GET", "not-sent"}).value(), Reply::Nil());
}

TEST_F(RedisClientTest, CommandTimeoutGivesUnavailableAndClientReconnects) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 300ms;
  config.connect_timeout = 3s;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());

  // DEBUG SLEEP hangs the whole server: what a stuck Redis looks like.
  const auto started = Clock::now();
  const absl::StatusOr<Reply> reply = Run(*client, {"DEBUG", "SLEEP", "1"});
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_NE(reply.status().message().find("command timeout"), std::string::npos);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 900ms);
  EXPECT_FALSE(client->IsReady()) << "the connection was dropped";

  ASSERT_TRUE(RunUntil([&] { return client->IsReady() && client->reconnects() == 1; }, 10s));
  EXPECT_EQ(Run(*client, {"PING"}).value(), Reply::Status("PONG"));
}

TEST_F(RedisClientTest, CancellationSignalGivesCancelledAndLateReplyIsDropped) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 10s;
  auto client = ReadyClient(config);
  auto probe = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());
  ASSERT_TRUE(probe->IsReady());
  ASSERT_TRUE(Run(*client, {"SET", "after-cancel", "intact"}).ok());

  asio::cancellation_signal signal;
  std::optional<absl::StatusOr<Reply>> result;
  asio::co_spawn(
      io_,
      [&client, &result]() -> asio::awaitable<void> {
        std::vector<std::string> args = {"BLPOP", "cancel:list", "5"};
        result = co_await client->Command(std::move(args));
      },
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  ASSERT_TRUE(ServerReports(*probe, "blocked_clients:1", 5s));
  ASSERT_FALSE(result.has_value());

  const auto emitted = Clock::now();
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }, 1s));
  EXPECT_LT(Clock::now() - emitted, 500ms);
  EXPECT_EQ(result->status().code(), absl::StatusCode::kCancelled) << result->status();
  EXPECT_EQ(client->in_flight(), 1u);

  // Unblock the abandoned BLPOP: its reply arrives and must be dropped, not handed to the next
  // command.
  EXPECT_EQ(Run(*probe, {"LPUSH", "cancel:list", "late"}).value(), Reply::Integer(1));
  ASSERT_TRUE(RunUntil([&] { return client->in_flight() == 0; }, 5s));
  EXPECT_EQ(Run(*client, {"GET", "after-cancel"}).value(), Reply::String("intact"));
  EXPECT_EQ(Run(*probe, {"LLEN", "cancel:list"}).value(), Reply::Integer(0));
  EXPECT_TRUE(client->IsReady());
}

TEST_F(RedisClientTest, CommandLosingAnOrRaceIsCancelledAndLaterRepliesStayAligned) {
  using namespace asio::experimental::awaitable_operators;
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 10s;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());

  std::optional<std::size_t> winner;
  std::optional<absl::StatusOr<Reply>> after;
  RedisClient* raw = client.get();
  asio::co_spawn(
      io_,
      [raw, &winner, &after]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
        std::vector<std::string> blpop = {"BLPOP", "race:list", "0.5"};
        auto race =
            co_await (raw->Command(std::move(blpop)) || timer.async_wait(asio::use_awaitable));
        winner = race.index();
        std::vector<std::string> ping = {"ECHO", "after the race"};
        after = co_await raw->Command(std::move(ping));
      },
      asio::detached);
  ASSERT_TRUE(RunUntil([&] { return after.has_value(); }, 5s));
  EXPECT_EQ(winner, 1u) << "the timer wins";
  EXPECT_EQ(after->value(), Reply::String("after the race"));
  EXPECT_EQ(client->in_flight(), 0u);
}

TEST_F(RedisClientTest, StopWithCommandsInFlightFailsThemWithUnavailable) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 10s;
  auto client = MakeClient(config);
  std::vector<bool> transitions;
  client->SetStateCallback([&transitions](bool ready) { transitions.push_back(ready); });
  client->Start();
  ASSERT_TRUE(RunUntil([&] { return client->IsReady(); }, 10s));

  constexpr std::size_t kCommands = 4;
  std::vector<std::optional<absl::StatusOr<Reply>>> results(kCommands);
  int done = 0;
  Spawn(client.get(), {"BLPOP", "stop:list", "5"}, results, 0, done);
  for (std::size_t i = 1; i < kCommands; ++i) Spawn(client.get(), {"PING"}, results, i, done);
  ASSERT_TRUE(RunUntil([&] { return client->in_flight() == kCommands; }, 5s));

  client->Stop();
  EXPECT_FALSE(client->IsReady());
  ASSERT_TRUE(RunUntil([&] { return done == static_cast<int>(kCommands); }, 2s));
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable) << result->status();
  }
  const absl::StatusOr<Reply> after = Run(*client, {"PING"});
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(after.status().message().find("stopped"), std::string::npos);
  client->Stop();
  ASSERT_TRUE(RunUntil([&] { return transitions.size() >= 2; }, 2s));
  EXPECT_EQ(transitions, (std::vector<bool>{true, false}));
}

// Many coroutines keep issuing commands (some with tight deadlines, some raced against a timer)
// while Redis is killed, restarted, stopped and restarted: every command completes with one of
// the documented codes, commands succeed again after each restart, and nothing crashes (this is
// the test to run under ASan/UBSan).
TEST_F(RedisClientTest, CommandsAcrossServerKillsAndRestartsAlwaysCompleteWithDocumentedCodes) {
  using namespace asio::experimental::awaitable_operators;
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 500ms;
  config.reconnect_max_backoff = 200ms;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());

  constexpr int kWorkers = 24;
  bool stop = false;
  int running = 0;
  int successes = 0;
  std::map<absl::StatusCode, int> codes;
  RedisClient* raw = client.get();
  for (int worker = 0; worker < kWorkers; ++worker) {
    ++running;
    asio::co_spawn(
        io_,
        [raw, worker, &stop, &running, &successes, &codes]() -> asio::awaitable<void> {
          const auto executor = co_await asio::this_coro::executor;
          asio::steady_timer pause(executor);
          for (int i = 0; !stop; ++i) {
            // Worker 2 keeps stalling the server for 3 ms so that deadlines and races bite.
            std::vector<std::string> args = {"INCR", "chaos:" + std::to_string(worker % 4)};
            if (worker == 2) args = {"DEBUG", "SLEEP", "0.003"};
            absl::Status status;
            if (worker % 3 == 0) {
              // Deadlines from 1 to 8 ms: some expire before the reply.
              const auto deadline = Clock::now() + std::chrono::milliseconds(1 + i % 8);
              status = (co_await raw->Command(std::move(args), deadline)).status();
            } else if (worker % 3 == 1) {
              asio::steady_timer race(executor, std::chrono::microseconds(200 + 100 * (i % 10)));
              auto winner =
                  co_await (raw->Command(std::move(args)) || race.async_wait(asio::use_awaitable));
              status = winner.index() == 0 ? std::get<0>(winner).status()
                                           : absl::CancelledError("timer won");
            } else {
              status = (co_await raw->Command(std::move(args))).status();
            }
            ++codes[status.code()];
            if (status.ok()) {
              ++successes;
            } else {
              pause.expires_after(2ms);  // not ready completes at once: do not spin
              co_await pause.async_wait(asio::use_awaitable);
            }
          }
          --running;
        },
        asio::detached);
  }

  const auto successes_grow_by = [&](int more) {
    const int target = successes + more;
    return RunUntil([&] { return successes >= target; }, 15s);
  };
  ASSERT_TRUE(successes_grow_by(300));
  server.Kill();
  ASSERT_TRUE(RunUntil([&] { return !client->IsReady(); }, 5s));
  ASSERT_TRUE(RunUntil([&] { return codes[absl::StatusCode::kUnavailable] > 0; }, 5s));
  server.Start();
  ASSERT_TRUE(successes_grow_by(300)) << "commands succeed again after a crash and restart";
  server.Stop();
  server.Start();
  ASSERT_TRUE(successes_grow_by(300)) << "commands succeed again after a clean restart";

  stop = true;
  ASSERT_TRUE(RunUntil([&] { return running == 0; }, 5s));
  for (const auto& [code, count] : codes) {
    EXPECT_TRUE(code == absl::StatusCode::kOk || code == absl::StatusCode::kUnavailable ||
                code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kCancelled)
        << absl::StatusCodeToString(code) << " x" << count;
  }
  EXPECT_GE(client->reconnects(), 2u);
  // Late replies of abandoned commands drain; the connection stays usable.
  ASSERT_TRUE(RunUntil([&] { return client->in_flight() == 0; }, 5s));
  EXPECT_EQ(Run(*client, {"PING"}).value(), Reply::Status("PONG"));
}

TEST_F(RedisClientTest, DestroyingClientWithCommandsInFlightFailsThemWithUnavailable) {
  RedisServer server;
  RedisConfig config = ConfigFor(server);
  config.command_timeout = 10s;
  auto client = ReadyClient(config);
  ASSERT_TRUE(client->IsReady());
  RedisClient* raw = client.get();

  constexpr std::size_t kCommands = 3;
  std::vector<std::optional<absl::StatusOr<Reply>>> results(kCommands);
  int done = 0;
  Spawn(raw, {"BLPOP", "destroy:list", "5"}, results, 0, done);
  Spawn(raw, {"GET", "x"}, results, 1, done);
  Spawn(raw, {"PING"}, results, 2, done);
  const Script script("return 1");
  std::optional<absl::StatusOr<Reply>> eval_result;
  asio::co_spawn(
      io_,
      [raw, &script, &eval_result]() -> asio::awaitable<void> {
        std::vector<std::string> keys = {"k"};
        eval_result = co_await raw->Eval(script, std::move(keys), {});
      },
      asio::detached);
  ASSERT_TRUE(RunUntil([&] { return raw->in_flight() == kCommands + 1; }, 5s));

  std::weak_ptr<RedisClient> weak = client;
  client.reset();
  EXPECT_TRUE(weak.expired()) << "pending commands do not keep the client alive";
  ASSERT_TRUE(
      RunUntil([&] { return done == static_cast<int>(kCommands) && eval_result.has_value(); }, 2s));
  for (const auto& result : results) {
    EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable) << result->status();
  }
  EXPECT_EQ(eval_result->status().code(), absl::StatusCode::kUnavailable);
}

// --- WaitReady ---

TEST_F(RedisClientTest, WaitReadyOnAReadyClientCompletesAtOnce) {
  RedisServer server;
  auto client = ReadyClient(ConfigFor(server));
  ASSERT_TRUE(client->IsReady());
  std::optional<absl::Status> result;
  SpawnWaitReady(*client, result, Clock::now() + 5s);
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }, 1s));
  EXPECT_TRUE(result->ok()) << *result;
}

TEST_F(RedisClientTest, WaitReadyWaitsWhileRedisIsDownAndCompletesWhenItComesUp) {
  RedisServer server;
  server.Stop();  // its port stays free: the client starts against nothing
  RedisConfig config = ConfigFor(server);
  config.reconnect_max_backoff = 100ms;
  auto client = MakeClient(config);
  client->Start();

  std::optional<absl::Status> unbounded;
  SpawnWaitReady(*client, unbounded);
  std::optional<absl::Status> bounded;
  SpawnWaitReady(*client, bounded, Clock::now() + 300ms);
  ASSERT_TRUE(RunUntil([&] { return bounded.has_value(); }, 5s));
  EXPECT_EQ(bounded->code(), absl::StatusCode::kDeadlineExceeded) << *bounded;
  EXPECT_FALSE(unbounded.has_value()) << *unbounded;
  EXPECT_GE(CountOccurrences(LogText(), "redis connect failed"), 1u);

  server.Start();
  ASSERT_TRUE(RunUntil([&] { return unbounded.has_value(); }, 10s));
  EXPECT_TRUE(unbounded->ok()) << *unbounded;
  EXPECT_TRUE(client->IsReady());
}

// While Redis is down, a WaitReady ends only when something ends it, with that thing's code.
TEST_F(RedisClientTest, WaitReadyWhileRedisIsDownEndsWithTheCodeOfWhatEndedIt) {
  RedisServer server;
  server.Stop();  // nothing listens on its port
  using End = std::function<void(std::shared_ptr<RedisClient>&, asio::cancellation_signal&)>;
  const struct {
    std::string what;
    End end;
    absl::StatusCode code;
  } cases[] = {
      {"Stop", [](auto& client, auto&) { client->Stop(); }, absl::StatusCode::kUnavailable},
      {"cancellation", [](auto&, auto& cancel) { cancel.emit(asio::cancellation_type::terminal); },
       absl::StatusCode::kCancelled},
      {"destruction", [](auto& client, auto&) { client.reset(); }, absl::StatusCode::kUnavailable},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto client = MakeClient(ConfigFor(server));
    client->Start();
    asio::cancellation_signal cancel;
    std::optional<absl::Status> result;
    SpawnWaitReady(*client, result, std::nullopt, cancel.slot());
    EXPECT_FALSE(RunUntil([&] { return result.has_value(); }, 100ms));
    c.end(client, cancel);
    ASSERT_TRUE(RunUntil([&] { return result.has_value(); }, 1s));
    EXPECT_EQ(result->code(), c.code) << *result;
  }
}

}  // namespace
}  // namespace switchyard::redis
