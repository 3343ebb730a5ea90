// What durability mode costs: one RedisClient (one pipelined connection, as one service shard
// has) with `--clients` coroutines each writing in a loop for `--seconds`, acknowledged by the
// primary alone or after WAIT (`--acks` replicas). Each write is the user-service's create script
// shape: an HSETNX claim, INCR, HSET and ZADD in one EVALSHA. Prints one JSON line: writes/s and
// latency percentiles (ms). bench/durability.sh starts the servers and runs both modes.
//
//   redis-durability-bench --port=6379 [--password=...] [--clients=32] [--seconds=5] [--acks=0]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using switchyard::redis::Ack;
using switchyard::redis::RedisClient;
using switchyard::redis::RedisConfig;
using switchyard::redis::Script;

constexpr std::string_view kCreate = R"lua(
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 'TAKEN' end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'email', ARGV[2], 'seq', seq)
redis.call('ZADD', KEYS[4], seq, ARGV[1])
return 'OK'
)lua";

struct Options {
  int port = 6379;
  std::string password;
  int clients = 32;
  int seconds = 5;
  int acks = 0;
};

bool Flag(std::string_view arg, std::string_view name, std::string& value) {
  if (arg.substr(0, name.size()) != name || arg.size() <= name.size() || arg[name.size()] != '=') {
    return false;
  }
  value = std::string(arg.substr(name.size() + 1));
  return true;
}

struct Stats {
  std::vector<double> latencies_ms;
  long failures = 0;
};

asio::awaitable<void> Writer(std::shared_ptr<RedisClient> client, const Script& script, int id,
                             Clock::time_point end, Ack ack, Stats& stats) {
  for (long seq = 0; Clock::now() < end; ++seq) {
    const std::string key = std::to_string(id) + ":" + std::to_string(seq);
    std::vector<std::string> keys = {"bench:user:" + key, "bench:email", "bench:seq",
                                     "bench:order"};
    std::vector<std::string> args = {key, key + "@example.com"};
    const auto started = Clock::now();
    auto reply = co_await client->Eval(script, std::move(keys), std::move(args),
                                       Clock::now() + std::chrono::seconds(5), ack);
    if (!reply.ok() || reply->IsError()) {
      ++stats.failures;
      continue;
    }
    stats.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  }
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    const std::string_view arg = argv[i];
    if (Flag(arg, "--port", value)) {
      options.port = std::atoi(value.c_str());
    } else if (Flag(arg, "--password", value)) {
      options.password = value;
    } else if (Flag(arg, "--clients", value)) {
      options.clients = std::atoi(value.c_str());
    } else if (Flag(arg, "--seconds", value)) {
      options.seconds = std::atoi(value.c_str());
    } else if (Flag(arg, "--acks", value)) {
      options.acks = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  switchyard::Logger logger("redis-durability-bench", "bench", switchyard::LogLevel::kWarn, 2);
  asio::io_context io(1);
  RedisConfig config;
  config.port = options.port;
  config.password = options.password;
  config.min_replica_acks = options.acks;
  config.command_timeout = std::chrono::seconds(5);
  const Script script{std::string(kCreate)};
  auto client = RedisClient::Create(io.get_executor(), config, logger);
  client->RegisterScript(&script);
  client->Start();
  Stats stats;
  bool ready = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        ready = (co_await client->WaitReady(Clock::now() + std::chrono::seconds(5))).ok();
        if (!ready) co_return;
        const auto end = Clock::now() + std::chrono::seconds(options.seconds);
        const Ack ack = options.acks > 0 ? Ack::kReplicas : Ack::kPrimary;
        for (int i = 0; i < options.clients; ++i) {
          asio::co_spawn(io, Writer(client, script, i, end, ack, stats), asio::detached);
        }
        asio::steady_timer done(io, end + std::chrono::milliseconds(200));
        co_await done.async_wait(asio::use_awaitable);
        client->Stop();
      },
      asio::detached);
  const auto started = Clock::now();
  io.run();
  if (!ready) {
    std::fprintf(stderr, "redis on port %d not ready\n", options.port);
    return 1;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count() - 0.2;
  const auto writes = stats.latencies_ms.size();
  std::printf(
      "{\"acks\":%d,\"clients\":%d,\"writes\":%zu,\"failures\":%ld,\"writes_per_s\":%.0f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
      options.acks, options.clients, writes, stats.failures, static_cast<double>(writes) / seconds,
      Percentile(stats.latencies_ms, 0.5), Percentile(stats.latencies_ms, 0.99),
      Percentile(stats.latencies_ms, 1.0));
  return 0;
}
