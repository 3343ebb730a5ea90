// RedisClient in sentinel mode against real processes on loopback: a primary, replicas and three
// sentinels (redis-server --sentinel), each on a free port in its own temp dir. The primary is
// killed, demoted by a manual failover, or replaced behind the sentinels' back; the client must
// follow each time, and no command may hang. Also the durability setting (WAIT) and the server's
// min-replicas-to-write.
//
// The client runs on the test thread's io_context (RunUntil), and every wait is a condition with a
// bounded timeout.

#include "common/redis/redis_sentinel.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
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
#include "tests/support/redis_server.hpp"

namespace switchyard::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using switchyard::testing::RedisServer;
using switchyard::testing::RedisServerOptions;

constexpr char kMaster[] = "switchyard";
constexpr char kPassword[] = "redis-secret";
constexpr char kSentinelPassword[] = "sentinel-secret";

// Replicas that INFO replication lists as in sync (connected is not enough: one still loading
// the primary's snapshot acknowledges nothing).
int OnlineReplicas(const std::string& info) {
  int count = 0;
  for (std::size_t pos = info.find("state=online"); pos != std::string::npos;
       pos = info.find("state=online", pos + 1)) {
    ++count;
  }
  return count;
}

class RedisSentinelTest : public ::testing::Test {
 protected:
  RedisSentinelTest()
      : log_file_(std::tmpfile(), &std::fclose),
        logger_("redis-sentinel-test", "test", LogLevel::kDebug, fileno(log_file_.get())) {}

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

  // A primary (or, with `primary_port`, a replica of it) with the shared password.
  static std::unique_ptr<RedisServer> StartServer(std::optional<int> primary_port,
                                                  std::vector<std::string> extra = {}) {
    RedisServerOptions options;
    options.password = kPassword;
    options.extra_args = {"--masterauth", kPassword};
    if (primary_port.has_value()) {
      options.extra_args.insert(options.extra_args.end(),
                                {"--replicaof", "127.0.0.1", std::to_string(*primary_port)});
    }
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    return std::make_unique<RedisServer>(std::move(options));
  }

  // A sentinel that monitors `primary_port` (quorum 2), or nothing when it is nullopt.
  static std::unique_ptr<RedisServer> StartSentinel(std::optional<int> primary_port) {
    RedisServerOptions options;
    options.password = kSentinelPassword;
    std::string config = std::string("requirepass ") + kSentinelPassword + "\n";
    if (primary_port.has_value()) {
      config += std::string("sentinel monitor ") + kMaster + " 127.0.0.1 " +
                std::to_string(*primary_port) + " 2\n" + "sentinel auth-pass " + kMaster + " " +
                kPassword + "\n" + "sentinel down-after-milliseconds " + kMaster + " 1000\n" +
                "sentinel failover-timeout " + kMaster + " 10000\n" + "sentinel parallel-syncs " +
                kMaster + " 2\n";
    }
    options.sentinel_config = config;
    return std::make_unique<RedisServer>(std::move(options));
  }

  // One primary, two replicas, three sentinels that know each other and both replicas.
  void StartTopology() {
    primary_ = StartServer(std::nullopt);
    replicas_.push_back(StartServer(primary_->port()));
    replicas_.push_back(StartServer(primary_->port()));
    for (int i = 0; i < 3; ++i) sentinels_.push_back(StartSentinel(primary_->port()));
    for (const auto& sentinel : sentinels_) {
      auto probe = Probe(sentinel->port(), kSentinelPassword);
      ASSERT_TRUE(probe->IsReady());
      // Sentinels find each other and the replicas through the primary, every 1-2 s.
      const bool settled = Eventually(
          [&] {
            auto sentinels = Run(*probe, {"SENTINEL", "sentinels", kMaster});
            auto replicas = Run(*probe, {"SENTINEL", "replicas", kMaster});
            return sentinels.ok() && sentinels->elements.size() == 2 && replicas.ok() &&
                   replicas->elements.size() == 2;
          },
          30s);
      ASSERT_TRUE(settled) << "sentinel on " << sentinel->port() << " never saw the topology";
    }
    auto primary = Probe(primary_->port(), kPassword);
    ASSERT_TRUE(Eventually(
        [&] {
          auto info = Run(*primary, {"INFO", "replication"});
          return info.ok() && OnlineReplicas(info->str) == 2;
        },
        20s));
  }

  RedisConfig SentinelConfig() const {
    RedisConfig config;
    for (const auto& sentinel : sentinels_) {
      config.sentinels.push_back(RedisEndpoint{"127.0.0.1", sentinel->port()});
    }
    config.sentinel_master = kMaster;
    config.sentinel_password = kSentinelPassword;
    config.password = kPassword;
    return config;
  }

  std::shared_ptr<RedisClient> Client(RedisConfig config) {
    auto client = RedisClient::Create(io_.get_executor(), std::move(config), logger_);
    client->SetStateCallback([this](bool ready) { transitions_.push_back(ready); });
    client->Start();
    RunUntil([&] { return client->IsReady(); }, 15s);
    return client;
  }

  // A plain client to one server or sentinel, ready (the caller asserts it).
  std::shared_ptr<RedisClient> Probe(int port, const std::string& password) {
    RedisConfig config;
    config.port = port;
    config.password = password;
    config.log_connection_events = false;
    auto client = RedisClient::Create(io_.get_executor(), std::move(config), logger_);
    client->Start();
    RunUntil([&] { return client->IsReady(); }, 10s);
    probes_.push_back(client);
    return client;
  }

  bool RunUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() >= deadline) return false;
      io_.run_one_until(deadline);
      if (io_.stopped()) io_.restart();
    }
    return true;
  }

  // pred() checked after each bounded round of loop work (pred may run commands itself).
  bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      asio::steady_timer pause(io_, 50ms);
      bool fired = false;
      pause.async_wait([&](const boost::system::error_code&) { fired = true; });
      RunUntil([&] { return fired; }, 1s);
    }
    return pred();
  }

  absl::StatusOr<Reply> Run(RedisClient& client, std::vector<std::string> args,
                            std::optional<Clock::time_point> deadline = std::nullopt,
                            Ack ack = Ack::kPrimary) {
    std::optional<absl::StatusOr<Reply>> result;
    asio::co_spawn(
        io_,
        [&client, &result, args = std::move(args), deadline,
         ack]() mutable -> asio::awaitable<void> {
          result = co_await client.Command(std::move(args), deadline, ack);
        },
        asio::detached);
    if (!RunUntil([&] { return result.has_value(); }, 20s)) {
      return absl::InternalError("test: command did not complete (a hang)");
    }
    return *result;
  }

  std::string Role(int port) {
    auto probe = Probe(port, kPassword);
    auto role = Run(*probe, {"ROLE"});
    probe->Stop();
    if (!role.ok() || role->elements.empty()) return "?";
    return role->elements[0].str;
  }

  asio::io_context io_{1};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file_;
  Logger logger_;
  std::unique_ptr<RedisServer> primary_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
  std::vector<std::shared_ptr<RedisClient>> probes_;
  std::vector<bool> transitions_;
};

TEST_F(RedisSentinelTest, FindsThePrimaryThroughTheSentinels) {
  StartTopology();
  auto client = Client(SentinelConfig());
  ASSERT_TRUE(client->IsReady());
  EXPECT_EQ(client->target(), (RedisEndpoint{"127.0.0.1", primary_->port()}));
  auto set = Run(*client, {"SET", "k", "v"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str, "OK");
  // The sentinel password is the sentinels', the Redis password Redis's; neither is logged.
  const std::string log = LogText();
  EXPECT_EQ(log.find(kPassword), std::string::npos);
  EXPECT_EQ(log.find(kSentinelPassword), std::string::npos);
}

TEST_F(RedisSentinelTest, FollowsTheNewPrimaryWhenThePrimaryIsKilled) {
  StartTopology();
  auto client = Client(SentinelConfig());
  ASSERT_TRUE(client->IsReady());
  const RedisEndpoint old_primary = client->target();

  // Commands on the wire when the primary dies: each ends, OK or UNAVAILABLE, none hangs.
  std::vector<std::optional<absl::StatusOr<Reply>>> results(50);
  for (std::size_t i = 0; i < results.size(); ++i) {
    asio::co_spawn(
        io_,
        [&, i]() -> asio::awaitable<void> {
          std::vector<std::string> command = {"INCR", "counter"};
          results[i] = co_await client->Command(std::move(command));
        },
        asio::detached);
  }
  ASSERT_TRUE(RunUntil([&] { return client->in_flight() > 0; }, 5s));
  const auto killed_at = Clock::now();
  primary_->Kill();
  ASSERT_TRUE(RunUntil(
      [&] {
        for (const auto& result : results) {
          if (!result.has_value()) return false;
        }
        return true;
      },
      5s))
      << "a command in flight when the primary died did not complete";
  for (const auto& result : results) {
    if (!result->ok()) {
      EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable);
    }
  }

  // Sentinels notice after down-after (1 s), elect, promote; the client follows.
  ASSERT_TRUE(RunUntil([&] { return client->IsReady() && client->target() != old_primary; }, 20s))
      << "the client did not follow the failover";
  const double seconds = std::chrono::duration<double>(Clock::now() - killed_at).count();
  std::printf("primary killed -> client ready on the new primary in %.2f s\n", seconds);
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ(Role(client->target().port), "master");
  auto set = Run(*client, {"SET", "after", "failover"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str, "OK");
  // Not ready while no primary was known, ready again after.
  ASSERT_GE(transitions_.size(), 3u);
  EXPECT_FALSE(transitions_[transitions_.size() - 2]);
  EXPECT_TRUE(transitions_.back());
}

TEST_F(RedisSentinelTest, SwitchMasterEventMovesAnIdleClient) {
  StartTopology();
  auto client = Client(SentinelConfig());
  ASSERT_TRUE(client->IsReady());
  const RedisEndpoint old_primary = client->target();
  auto sentinel = Probe(sentinels_[0]->port(), kSentinelPassword);
  ASSERT_TRUE(sentinel->IsReady());
  // The old primary stays up and becomes a replica: only the event tells an idle client.
  auto failover = Run(*sentinel, {"SENTINEL", "FAILOVER", kMaster});
  ASSERT_TRUE(failover.ok()) << failover.status();
  ASSERT_FALSE(failover->IsError()) << failover->str;
  EXPECT_TRUE(RunUntil([&] { return client->IsReady() && client->target() != old_primary; }, 20s))
      << "the client stayed on " << old_primary.ToString();
  EXPECT_GE(client->reconnects(), 1u);
  auto set = Run(*client, {"SET", "k", "v"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str, "OK");
}

TEST_F(RedisSentinelTest, ReadOnlyReplyMakesTheClientAskAgain) {
  // One sentinel watching A; A is then demoted behind its back (no +switch-master is sent).
  auto a = StartServer(std::nullopt);
  auto b = StartServer(std::nullopt);
  sentinels_.push_back(StartSentinel(std::nullopt));
  auto sentinel = Probe(sentinels_[0]->port(), kSentinelPassword);
  ASSERT_TRUE(sentinel->IsReady());
  const auto monitor = [&](int port) {
    auto added =
        Run(*sentinel, {"SENTINEL", "MONITOR", kMaster, "127.0.0.1", std::to_string(port), "1"});
    ASSERT_TRUE(added.ok() && !added->IsError()) << added.status() << " " << added->str;
    auto auth = Run(*sentinel, {"SENTINEL", "SET", kMaster, "auth-pass", kPassword});
    ASSERT_TRUE(auth.ok() && !auth->IsError());
  };
  monitor(a->port());
  auto client = Client(SentinelConfig());
  ASSERT_TRUE(client->IsReady());
  ASSERT_EQ(client->target().port, a->port());

  auto removed = Run(*sentinel, {"SENTINEL", "REMOVE", kMaster});
  ASSERT_TRUE(removed.ok() && !removed->IsError());
  auto probe_a = Probe(a->port(), kPassword);
  auto demoted = Run(*probe_a, {"REPLICAOF", "127.0.0.1", std::to_string(b->port())});
  ASSERT_TRUE(demoted.ok() && !demoted->IsError());
  monitor(b->port());

  // The first write reaches A, a replica now: READONLY comes back as it is...
  auto refused = Run(*client, {"SET", "k", "v"});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_TRUE(refused->IsError());
  EXPECT_EQ(refused->str.rfind("READONLY", 0), 0u) << refused->str;
  // ...and the client asks the sentinel again and moves to B.
  ASSERT_TRUE(
      RunUntil([&] { return client->IsReady() && client->target().port == b->port(); }, 10s));
  auto set = Run(*client, {"SET", "k", "v"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str, "OK");
}

TEST_F(RedisSentinelTest, StandaloneClientReconnectsAfterReadOnly) {
  // A managed Redis fails over behind one name: a READONLY reply means the connection must be
  // made again (and the name resolved again). Here the name points at a replica throughout.
  primary_ = StartServer(std::nullopt);
  replicas_.push_back(StartServer(primary_->port()));
  RedisConfig config;
  config.port = replicas_[0]->port();
  config.password = kPassword;
  auto client = Client(config);
  ASSERT_TRUE(client->IsReady());
  auto refused = Run(*client, {"SET", "k", "v"});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->str.rfind("READONLY", 0), 0u) << refused->str;
  EXPECT_TRUE(RunUntil([&] { return client->reconnects() >= 1 && client->IsReady(); }, 10s));
  EXPECT_NE(LogText().find("redis server is read-only"), std::string::npos);
}

TEST_F(RedisSentinelTest, NotReadyWhileNoSentinelKnowsThePrimary) {
  sentinels_.push_back(StartSentinel(std::nullopt));
  RedisConfig config = SentinelConfig();
  config.sentinels.push_back(RedisEndpoint{"127.0.0.1", 1});  // nothing listens there
  config.connect_timeout = 300ms;
  auto client = RedisClient::Create(io_.get_executor(), config, logger_);
  client->Start();
  std::optional<absl::Status> waited;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> { waited = co_await client->WaitReady(Clock::now() + 2s); },
      asio::detached);
  ASSERT_TRUE(RunUntil([&] { return waited.has_value(); }, 5s));
  EXPECT_EQ(waited->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(client->IsReady());
  const auto started = Clock::now();
  auto get = Run(*client, {"GET", "k"});
  EXPECT_EQ(get.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - started, 100ms);
  EXPECT_NE(LogText().find("does not know master"), std::string::npos);
}

TEST_F(RedisSentinelTest, DurableWriteWaitsForReplicasAndFailsCleanlyWithoutThem) {
  primary_ = StartServer(std::nullopt);
  replicas_.push_back(StartServer(primary_->port()));
  RedisConfig config;
  config.port = primary_->port();
  config.password = kPassword;
  config.min_replica_acks = 1;
  config.replica_ack_timeout = 300ms;
  auto client = Client(config);
  ASSERT_TRUE(client->IsReady());
  ASSERT_TRUE(Eventually(
      [&] {
        auto info = Run(*client, {"INFO", "replication"});
        return info.ok() && OnlineReplicas(info->str) == 1;
      },
      10s));

  auto durable = Run(*client, {"SET", "k", "1"}, std::nullopt, Ack::kReplicas);
  ASSERT_TRUE(durable.ok()) << durable.status();
  EXPECT_EQ(durable->str, "OK");
  auto replica = Probe(replicas_[0]->port(), kPassword);
  auto copy = Run(*replica, {"GET", "k"});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->str, "1");  // WAIT returned: the replica has it

  // An error reply needs no replicas.
  auto wrong = Run(*client, {"INCR", "k", "extra"}, std::nullopt, Ack::kReplicas);
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(wrong->IsError());

  replicas_[0]->Kill();
  const auto started = Clock::now();
  auto unconfirmed = Run(*client, {"SET", "k", "2"}, std::nullopt, Ack::kReplicas);
  EXPECT_EQ(unconfirmed.status().code(), absl::StatusCode::kUnavailable) << unconfirmed.status();
  EXPECT_LT(Clock::now() - started, 1s);
  // The caller's deadline bounds WAIT too: WAIT and the deadline end together, whichever
  // answers first.
  const auto bounded_start = Clock::now();
  auto bounded = Run(*client, {"SET", "k", "3"}, bounded_start + 100ms, Ack::kReplicas);
  EXPECT_TRUE(bounded.status().code() == absl::StatusCode::kDeadlineExceeded ||
              bounded.status().code() == absl::StatusCode::kUnavailable)
      << bounded.status();
  EXPECT_LT(Clock::now() - bounded_start, 300ms);
  // Plain acknowledgement is unaffected, and the connection is still the same one.
  auto plain = Run(*client, {"SET", "k", "4"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->str, "OK");
  EXPECT_EQ(client->reconnects(), 0u);
}

TEST_F(RedisSentinelTest, MinReplicasToWriteRefusesWritesWithoutAReplica) {
  primary_ =
      StartServer(std::nullopt, {"--min-replicas-to-write", "1", "--min-replicas-max-lag", "1"});
  replicas_.push_back(StartServer(primary_->port()));
  RedisConfig config;
  config.port = primary_->port();
  config.password = kPassword;
  auto client = Client(config);
  ASSERT_TRUE(client->IsReady());
  ASSERT_TRUE(Eventually(
      [&] {
        auto set = Run(*client, {"SET", "k", "v"});
        return set.ok() && !set->IsError();
      },
      10s));
  replicas_[0]->Kill();
  std::string refusal;
  EXPECT_TRUE(Eventually(
      [&] {
        auto set = Run(*client, {"SET", "k", "v"});
        if (set.ok() && set->IsError()) refusal = set->str;
        return !refusal.empty();
      },
      10s));
  EXPECT_EQ(refusal.rfind("NOREPLICAS", 0), 0u) << refusal;
}

}  // namespace
}  // namespace switchyard::redis
