#include "common/redis/redis_sentinel.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <charconv>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common/redis/redis_asio_adapter.hpp"

namespace switchyard::redis {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSwitchMasterChannel = "+switch-master";
// TCP keepalive on the subscriber connection: idle 2 s, then 3 probes 1 s apart.
constexpr int kKeepAliveIdleSeconds = 2;
constexpr int kKeepAliveIntervalSeconds = 1;
constexpr int kKeepAliveProbes = 3;

std::optional<int> ParsePort(std::string_view text) {
  int port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port <= 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

// What several concurrent questions share: the first answer, and a timer that wakes the asker.
struct SentinelRace {
  explicit SentinelRace(const asio::any_io_executor& executor)
      : wake(executor, Clock::time_point::max()) {}

  asio::steady_timer wake;
  std::optional<RedisEndpoint> primary;
  std::vector<std::string> problems;
  std::vector<std::shared_ptr<RedisClient>> clients;
  std::size_t remaining = 0;
};

asio::awaitable<void> AskOneSentinel(std::shared_ptr<SentinelRace> race,
                                     std::shared_ptr<RedisClient> client, std::string master,
                                     Clock::time_point deadline) {
  const std::string name = client->target().ToString();
  absl::Status problem = co_await client->WaitReady(deadline);
  if (problem.ok() && !race->primary.has_value()) {
    std::vector<std::string> command = {"SENTINEL", "get-master-addr-by-name", master};
    absl::StatusOr<Reply> reply = co_await client->Command(std::move(command), deadline);
    if (!reply.ok()) {
      problem = reply.status();
    } else if (reply->IsError()) {
      problem = absl::UnavailableError(reply->str);
    } else if (reply->type != Reply::Type::kArray || reply->elements.size() != 2) {
      problem = absl::UnavailableError("does not know master '" + master + "'");
    } else if (auto port = ParsePort(reply->elements[1].str); !port.has_value()) {
      problem = absl::UnavailableError("answered a bad port: " + reply->DebugString());
    } else if (!race->primary.has_value()) {
      race->primary = RedisEndpoint{reply->elements[0].str, *port};
    }
  }
  client->Stop();
  if (!problem.ok()) race->problems.push_back(name + ": " + std::string(problem.message()));
  if (--race->remaining == 0 || race->primary.has_value()) race->wake.cancel();
}

}  // namespace

std::optional<RedisEndpoint> ParseSwitchMaster(std::string_view payload, std::string_view master) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(payload.data(), payload.size()), ' ', absl::SkipEmpty());
  if (parts.size() != 5 || std::string_view(parts[0].data(), parts[0].size()) != master) {
    return std::nullopt;
  }
  const std::optional<int> port = ParsePort(std::string_view(parts[4].data(), parts[4].size()));
  if (!port.has_value()) return std::nullopt;
  return RedisEndpoint{std::string(parts[3]), *port};
}

void SentinelQuery::Cancel() {
  cancelled_ = true;
  for (const auto& client : clients_) client->Stop();
  if (wake_ != nullptr) wake_->cancel();
}

asio::awaitable<absl::StatusOr<RedisEndpoint>> AskSentinelsForPrimary(
    asio::any_io_executor executor, RedisConfig config, Logger& logger, Clock::time_point deadline,
    std::shared_ptr<SentinelQuery> query) {
  if (config.sentinels.empty()) co_return absl::FailedPreconditionError("no sentinels configured");
  if (query && query->cancelled()) co_return absl::CancelledError("sentinel question cancelled");
  auto race = std::make_shared<SentinelRace>(executor);
  race->wake.expires_at(deadline);
  const auto budget =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  for (const RedisEndpoint& sentinel : config.sentinels) {
    RedisConfig ask;
    ask.host = sentinel.host;
    ask.port = sentinel.port;
    ask.password = config.sentinel_password;
    ask.command_timeout = config.command_timeout;
    ask.connect_timeout = std::max(std::chrono::milliseconds(1), budget);
    ask.reconnect_initial_backoff = config.reconnect_initial_backoff;
    ask.reconnect_max_backoff = config.reconnect_max_backoff;
    ask.log_connection_events = false;
    auto client = RedisClient::Create(executor, std::move(ask), logger);
    client->Start();
    race->clients.push_back(client);
    ++race->remaining;
    asio::co_spawn(executor, AskOneSentinel(race, client, config.sentinel_master, deadline),
                   asio::detached);
  }
  if (query) {
    query->clients_ = race->clients;
    query->wake_ = &race->wake;
  }
  co_await race->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (query) {
    query->clients_.clear();
    query->wake_ = nullptr;
  }
  // The questions still open end now (their clients stop); they only touch `race`.
  for (const auto& client : race->clients) client->Stop();
  if (query && query->cancelled()) co_return absl::CancelledError("sentinel question cancelled");
  if (race->primary.has_value()) co_return *race->primary;
  if (race->problems.empty()) race->problems.emplace_back("no answer in time");
  co_return absl::UnavailableError("no sentinel named the primary of '" + config.sentinel_master +
                                   "': " + absl::StrJoin(race->problems, "; "));
}

std::shared_ptr<SentinelWatcher> SentinelWatcher::Create(asio::any_io_executor executor,
                                                         RedisConfig config, Logger& logger,
                                                         OnSwitch on_switch) {
  return std::shared_ptr<SentinelWatcher>(
      new SentinelWatcher(std::move(executor), std::move(config), logger, std::move(on_switch)));
}

SentinelWatcher::SentinelWatcher(asio::any_io_executor executor, RedisConfig config, Logger& logger,
                                 OnSwitch on_switch)
    : executor_(executor),
      config_(std::move(config)),
      logger_(logger),
      on_switch_(std::move(on_switch)),
      resolver_(executor),
      connect_timer_(executor),
      retry_timer_(executor) {
  // Spread the processes' subscriptions over the sentinels.
  if (!config_.sentinels.empty()) {
    next_ = std::random_device{}() % config_.sentinels.size();
  }
}

SentinelWatcher::~SentinelWatcher() {
  stopped_ = true;
  Drop();
}

void SentinelWatcher::Start() {
  if (stopped_ || config_.sentinels.empty() || context_ != nullptr) return;
  ConnectNext();
}

void SentinelWatcher::Stop() {
  if (stopped_) return;
  stopped_ = true;
  ++attempt_;
  resolver_.cancel();
  connect_timer_.cancel();
  retry_timer_.cancel();
  Drop();
}

void SentinelWatcher::ConnectNext() {
  if (stopped_) return;
  const std::uint64_t attempt = ++attempt_;
  const RedisEndpoint& sentinel = config_.sentinels[next_ % config_.sentinels.size()];
  const auto weak = weak_from_this();
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([weak, attempt](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && self->attempt_ == attempt && !self->subscribed_) {
      self->Failed("sentinel subscription timed out", "not subscribed within the connect timeout");
    }
  });
  resolver_.async_resolve(sentinel.host, std::to_string(sentinel.port),
                          asio::ip::tcp::resolver::numeric_service,
                          [weak, attempt](const boost::system::error_code& ec,
                                          const asio::ip::tcp::resolver::results_type& results) {
                            if (auto self = weak.lock()) self->OnResolved(attempt, ec, results);
                          });
}

void SentinelWatcher::OnResolved(std::uint64_t attempt, const boost::system::error_code& ec,
                                 const asio::ip::tcp::resolver::results_type& results) {
  if (attempt != attempt_ || stopped_) return;
  if (ec || results.empty()) {
    Failed("sentinel host resolution failed", ec ? ec.message() : "no address");
    return;
  }
  auto chosen = results.begin();
  for (auto it = results.begin(); it != results.end(); ++it) {
    if (it->endpoint().address().is_v4()) {
      chosen = it;
      break;
    }
  }
  Connect(attempt, chosen->endpoint().address().to_string());
}

void SentinelWatcher::Connect(std::uint64_t attempt, const std::string& ip) {
  (void)attempt;
  const RedisEndpoint& sentinel = config_.sentinels[next_ % config_.sentinels.size()];
  absl::StatusOr<redisAsyncContext*> opened = OpenAsyncContext(ip, sentinel.port, executor_);
  if (!opened.ok()) {
    Failed("sentinel connect failed", std::string(opened.status().message()));
    return;
  }
  redisAsyncContext* context = *opened;
  // A sentinel cut off by a partition never closes the connection: keepalive notices.
  const int fd = context->c.fd;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepAliveIdleSeconds, sizeof(int));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepAliveIntervalSeconds, sizeof(int));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepAliveProbes, sizeof(int));
  context->data = this;
  redisAsyncSetConnectCallback(context, &SentinelWatcher::OnConnectThunk);
  redisAsyncSetDisconnectCallback(context, &SentinelWatcher::OnDisconnectThunk);
  context_ = context;
  bool queued = true;
  if (!config_.sentinel_password.empty()) {
    const char* argv[] = {"AUTH", config_.sentinel_password.c_str()};
    const std::size_t lengths[] = {4, config_.sentinel_password.size()};
    queued = redisAsyncCommandArgv(context, &SentinelWatcher::OnAuthThunk, nullptr, 2, argv,
                                   lengths) == REDIS_OK;
  }
  const char* argv[] = {"SUBSCRIBE", kSwitchMasterChannel.data()};
  const std::size_t lengths[] = {9, kSwitchMasterChannel.size()};
  queued = queued && redisAsyncCommandArgv(context, &SentinelWatcher::OnSubscriptionThunk, nullptr,
                                           2, argv, lengths) == REDIS_OK;
  if (!queued) Failed("sentinel connect failed", "cannot queue SUBSCRIBE");
}

void SentinelWatcher::Failed(std::string_view what, std::string_view error) {
  const bool was_subscribed = subscribed_;
  Drop();
  resolver_.cancel();
  connect_timer_.cancel();
  if (stopped_) return;
  ++attempt_;
  const RedisEndpoint& sentinel = config_.sentinels[next_ % config_.sentinels.size()];
  ++next_;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::minstd_rand rng(std::random_device{}());
  // The first retry goes straight to the next sentinel; only a round of failures backs off.
  const bool round_failed = failures_ + 1 >= static_cast<int>(config_.sentinels.size());
  const auto delay = was_subscribed || !round_failed
                         ? std::chrono::milliseconds(0)
                         : ReconnectBackoff(failures_, config_.reconnect_initial_backoff,
                                            config_.reconnect_max_backoff, unit(rng));
  if (!was_subscribed && failures_ < 1000) ++failures_;
  logger_.Log(was_subscribed ? LogLevel::kWarn : LogLevel::kDebug, what,
              {{"sentinel", sentinel.ToString()},
               {"error", error},
               {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->ConnectNext();
  });
}

void SentinelWatcher::Drop() {
  subscribed_ = false;
  redisAsyncContext* context = std::exchange(context_, nullptr);
  if (context == nullptr) return;
  context->data = nullptr;
  redisAsyncFree(context);
}

void SentinelWatcher::OnAuthReply(const redisReply* reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    Failed("sentinel authentication failed (check the sentinel password)",
           std::string(reply->str, reply->len));
  }
}

void SentinelWatcher::OnSubscriptionReply(const redisReply* reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    Failed("sentinel SUBSCRIBE failed", std::string(reply->str, reply->len));
    return;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING) {
    return;
  }
  const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  if (kind == "subscribe") {
    connect_timer_.cancel();
    subscribed_ = true;
    failures_ = 0;
    const bool again = ++subscriptions_ > 1;
    logger_.Debug("sentinel subscription ready",
                  {{"sentinel", config_.sentinels[next_ % config_.sentinels.size()].ToString()}});
    if (again && on_resubscribed_) {
      asio::post(executor_, [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->stopped_ && self->on_resubscribed_) {
          self->on_resubscribed_();
        }
      });
    }
    return;
  }
  if (kind != "message" || reply->element[2]->type != REDIS_REPLY_STRING) return;
  const std::string_view payload(reply->element[2]->str, reply->element[2]->len);
  std::optional<RedisEndpoint> primary = ParseSwitchMaster(payload, config_.sentinel_master);
  if (!primary.has_value()) return;
  logger_.Info(
      "sentinel reports a new primary",
      {{"master", config_.sentinel_master}, {"host", primary->host}, {"port", primary->port}});
  asio::post(executor_, [weak = weak_from_this(), primary = *std::move(primary)] {
    if (auto self = weak.lock(); self && !self->stopped_ && self->on_switch_) {
      self->on_switch_(primary);
    }
  });
}

void SentinelWatcher::OnConnectThunk(const redisAsyncContext* context, int status) {
  auto* self = static_cast<SentinelWatcher*>(context->data);
  if (self == nullptr || status == REDIS_OK) return;
  const std::string error =
      context->errstr != nullptr && context->err != 0 ? context->errstr : "connect failed";
  const_cast<redisAsyncContext*>(context)->data = nullptr;
  self->context_ = nullptr;  // hiredis frees it as this returns
  self->Failed("sentinel connect failed", error);
}

void SentinelWatcher::OnDisconnectThunk(const redisAsyncContext* context, int status) {
  (void)status;
  auto* self = static_cast<SentinelWatcher*>(context->data);
  if (self == nullptr) return;
  const std::string error =
      context->errstr != nullptr && context->err != 0 ? context->errstr : "connection closed";
  const_cast<redisAsyncContext*>(context)->data = nullptr;
  self->context_ = nullptr;
  self->Failed("sentinel connection lost", error);
}

void SentinelWatcher::OnAuthThunk(redisAsyncContext* context, void* reply, void* privdata) {
  (void)privdata;
  auto* self = static_cast<SentinelWatcher*>(context->data);
  if (self == nullptr || reply == nullptr) return;
  self->OnAuthReply(static_cast<const redisReply*>(reply));
}

void SentinelWatcher::OnSubscriptionThunk(redisAsyncContext* context, void* reply, void* privdata) {
  (void)privdata;
  auto* self = static_cast<SentinelWatcher*>(context->data);
  if (self == nullptr || reply == nullptr) return;
  self->OnSubscriptionReply(static_cast<const redisReply*>(reply));
}

}  // namespace switchyard::redis
