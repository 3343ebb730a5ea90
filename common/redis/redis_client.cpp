#include "common/redis/redis_client.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common/redis/redis_asio_adapter.hpp"
#include "common/redis/redis_sentinel.hpp"

namespace switchyard::redis {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ReplySignature = void(absl::StatusOr<Reply>);

absl::Status Unavailable(std::string_view why) {
  return absl::UnavailableError("redis unavailable: " + std::string(why));
}

// Commands after which Redis answers out of band (or forever), breaking one-reply-per-command.
constexpr std::array<absl::string_view, 7> kUnsupportedCommands = {
    "SUBSCRIBE",    "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE",
    "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};

absl::Status ValidateCommand(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("redis command is empty");
  if (args.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError("redis command has too many arguments");
  }
  for (const absl::string_view name : kUnsupportedCommands) {
    if (absl::EqualsIgnoreCase(args.front(), name)) {
      return absl::InvalidArgumentError("redis command " + std::string(name) +
                                        " is not supported by RedisClient");
    }
  }
  return absl::OkStatus();
}

bool IsNoScript(const Reply& reply) {
  return reply.IsError() && reply.str.compare(0, 8, "NOSCRIPT") == 0;
}

// The server is a replica now (a write, or a script that writes, reached a demoted primary).
bool IsReadOnly(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ERROR && reply.str != nullptr &&
         absl::StartsWith(absl::string_view(reply.str, reply.len), "READONLY");
}

constexpr std::chrono::milliseconds kSentinelMaxBackoff{500};

std::int64_t Millis(std::chrono::milliseconds value) {
  return static_cast<std::int64_t>(value.count());
}

}  // namespace

std::chrono::milliseconds ReconnectBackoff(int attempt, std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max, double jitter) {
  using std::chrono::milliseconds;
  initial = std::max(initial, milliseconds(1));
  max = std::max(max, milliseconds(1));
  milliseconds base = initial;
  for (int i = 0; i < attempt && base < max; ++i) base *= 2;
  base = std::min(base, max);
  if (!(jitter >= 0.0)) jitter = 0.0;  // also catches NaN
  jitter = std::min(jitter, 1.0);
  const double scaled = static_cast<double>(base.count()) * (0.5 + 0.5 * jitter);
  return std::max(milliseconds(1),
                  milliseconds(static_cast<milliseconds::rep>(std::llround(scaled))));
}

struct RedisClient::HandshakeStep {
  enum class Kind { kAuth, kSelect, kRole, kScriptLoad, kPing };

  Kind kind;
  std::uint64_t connection_id;
  const Script* script;  // kScriptLoad only
};

// One command between Command() and hiredis. Owned by hiredis's privdata (a heap shared_ptr,
// released in the reply callback, which hiredis always calls: with the reply, or with NULL when
// the connection goes away); its timer and the cancellation slot hold only weak references.
struct RedisClient::PendingCommand {
  explicit PendingCommand(const asio::any_io_executor& ex) : executor(ex), timer(ex) {}

  asio::any_io_executor executor;
  std::optional<asio::any_completion_handler<ReplySignature>> handler;
  asio::cancellation_slot slot;
  asio::steady_timer timer;
  std::weak_ptr<RedisClient> client;
  std::uint64_t connection_id = 0;
  std::optional<Clock::time_point> caller_deadline;  // only when earlier than `watchdog`
  Clock::time_point watchdog;                        // sent + config.command_timeout
  std::chrono::milliseconds command_timeout{0};
  bool completed = false;  // the caller has its answer
  bool answered = false;   // hiredis has called back for every command sent
  // Ack::kReplicas: the command and its WAIT are two replies; the command's waits here for the
  // WAIT's, which needs `min_replica_acks`.
  int replies_outstanding = 1;
  int min_replica_acks = 0;
  std::optional<Reply> command_reply;
};

// Answers the caller once; later answers (a late reply, a timer) are dropped. The handler is
// posted, never run inline, so no caller code runs inside a hiredis callback.
void RedisClient::Complete(PendingCommand& pending, absl::StatusOr<Reply> result,
                           bool from_cancellation_handler) {
  if (pending.completed || !pending.handler.has_value()) return;
  pending.completed = true;
  // A cancellation handler must not destroy itself; its weak reference keeps it harmless.
  if (!from_cancellation_handler && pending.slot.is_connected()) pending.slot.clear();
  asio::any_completion_handler<ReplySignature> handler(std::move(*pending.handler));
  pending.handler.reset();
  // Runs on the handler's associated executor (the awaiting coroutine's), deferred.
  asio::post(pending.executor, asio::append(std::move(handler), std::move(result)));
}

void RedisClient::OnCommandTimer(const std::shared_ptr<PendingCommand>& pending) {
  if (pending->answered) return;
  if (pending->caller_deadline.has_value()) {
    // The caller's deadline came first: answer it, but keep watching the connection.
    pending->caller_deadline.reset();
    Complete(*pending, absl::DeadlineExceededError("redis command deadline exceeded"));
    ArmCommandTimer(pending);
    return;
  }
  Complete(*pending, Unavailable("no reply within command timeout of " +
                                 std::to_string(pending->command_timeout.count()) + " ms"));
  if (auto client = pending->client.lock()) {
    client->OnCommandTimeout(pending->connection_id);
  }
}

void RedisClient::ArmCommandTimer(const std::shared_ptr<PendingCommand>& pending) {
  pending->timer.expires_at(pending->caller_deadline.has_value()
                                ? std::min(*pending->caller_deadline, pending->watchdog)
                                : pending->watchdog);
  pending->timer.async_wait(
      [weak = std::weak_ptr<PendingCommand>(pending)](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto locked = weak.lock()) OnCommandTimer(locked);
      });
}

std::shared_ptr<RedisClient> RedisClient::Create(asio::any_io_executor executor, RedisConfig config,
                                                 Logger& logger) {
  return std::shared_ptr<RedisClient>(
      new RedisClient(std::move(executor), std::move(config), logger));
}

RedisClient::RedisClient(asio::any_io_executor executor, RedisConfig config, Logger& logger)
    : executor_(executor),
      config_(std::move(config)),
      logger_(logger),
      resolver_(executor),
      connect_timer_(executor),
      reconnect_timer_(executor),
      rng_(std::random_device{}()) {
  if (config_.sentinels.empty()) target_ = RedisEndpoint{config_.host, config_.port};
}

RedisClient::~RedisClient() {
  ++attempt_id_;
  state_ = State::kStopped;
  WakeReadyWaiters();  // they find the client gone
  if (watcher_) watcher_->Stop();
  // Their sentinel connections close now, not when the io_context is torn down.
  if (query_) query_->Cancel();
  if (check_query_) check_query_->Cancel();
  // Pending commands complete with UNAVAILABLE (posted); the timers and the resolver cancel their
  // waits as members are destroyed, and those handlers find the client gone.
  DropConnection();
}

void RedisClient::RegisterScript(const Script* script) {
  if (state_ != State::kIdle) {
    logger_.Warn("redis script registered after Start(); it loads from the next connect",
                 {{"script_bytes", static_cast<std::int64_t>(script->body().size())}});
  }
  scripts_.push_back(script);
}

void RedisClient::SetStateCallback(std::function<void(bool ready)> callback) {
  state_callback_ = std::move(callback);
}

void RedisClient::Start() {
  if (state_ != State::kIdle) {
    if (state_ == State::kStopped) logger_.Warn("redis client Start() after Stop() ignored");
    return;
  }
  if (sentinel_mode()) {
    LogEvent(LogLevel::kInfo, "redis client starting (sentinel)",
             {{"master", config_.sentinel_master},
              {"sentinels", static_cast<std::int64_t>(config_.sentinels.size())},
              {"db", config_.db}});
    watcher_ = SentinelWatcher::Create(executor_, config_, logger_,
                                       [weak = weak_from_this()](const RedisEndpoint& primary) {
                                         if (auto self = weak.lock()) self->OnSwitchMaster(primary);
                                       });
    watcher_->SetOnResubscribed([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->CheckPrimary();
    });
    watcher_->Start();
  } else {
    LogEvent(LogLevel::kInfo, "redis client starting",
             {{"host", config_.host}, {"port", config_.port}, {"db", config_.db}});
  }
  StartConnectAttempt();
}

void RedisClient::Stop() {
  if (state_ == State::kStopped) return;
  ++attempt_id_;
  resolver_.cancel();
  connect_timer_.cancel();
  reconnect_timer_.cancel();
  SetState(State::kStopped);
  DropConnection();
  if (watcher_) std::exchange(watcher_, nullptr)->Stop();
  if (query_) std::exchange(query_, nullptr)->Cancel();
  if (check_query_) std::exchange(check_query_, nullptr)->Cancel();
  LogEvent(LogLevel::kInfo, "redis client stopped",
           {{"host", target_.host}, {"port", target_.port}});
}

std::string RedisClient::Address() const {
  if (sentinel_mode() && target_.host.empty()) {
    return "the primary of '" + config_.sentinel_master + "' (asking the sentinels)";
  }
  return target_.ToString();
}

void RedisClient::LogEvent(LogLevel level, std::string_view msg, LogFields fields) {
  logger_.Log(config_.log_connection_events ? level : LogLevel::kDebug, msg, fields);
}

void RedisClient::SetState(State state) {
  const bool was_ready = state_ == State::kReady;
  state_ = state;
  const bool ready = state_ == State::kReady;
  if (ready || state_ == State::kStopped) WakeReadyWaiters();
  if (was_ready == ready || !state_callback_) return;
  asio::post(executor_, [weak = weak_from_this(), ready] {
    if (auto self = weak.lock(); self && self->state_callback_) self->state_callback_(ready);
  });
}

void RedisClient::WakeReadyWaiters() {
  for (asio::steady_timer* waiter : ready_waiters_) waiter->cancel();
}

asio::awaitable<absl::Status> RedisClient::WaitReady(std::optional<Clock::time_point> deadline) {
  const std::weak_ptr<RedisClient> weak = weak_from_this();
  asio::steady_timer wake(executor_, deadline.value_or(Clock::time_point::max()));
  // Listed while this coroutine waits, however it ends (the client may be gone by then).
  struct Listed {
    std::weak_ptr<RedisClient> client;
    asio::steady_timer* timer;
    ~Listed() {
      if (auto self = client.lock()) std::erase(self->ready_waiters_, timer);
    }
  } listed{weak, &wake};
  ready_waiters_.push_back(&wake);
  for (;;) {
    {
      const std::shared_ptr<RedisClient> self = weak.lock();
      if (self == nullptr) co_return Unavailable("client destroyed");
      if (self->state_ == State::kReady) co_return absl::OkStatus();
      if (self->state_ == State::kStopped) co_return Unavailable("client stopped");
    }
    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none) {
      co_return absl::CancelledError("wait for redis cancelled");
    }
    if (deadline.has_value() && Clock::now() >= *deadline) {
      co_return absl::DeadlineExceededError("redis not ready before the deadline");
    }
    // Ends at the deadline, when a transition cancels it, or when the caller is cancelled.
    co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::optional<std::string> RedisClient::ScriptSha(const Script& script) const {
  const auto it = script_shas_.find(&script);
  if (it == script_shas_.end()) return std::nullopt;
  return it->second;
}

void RedisClient::StartConnectAttempt() {
  if (state_ == State::kStopped) return;
  SetState(State::kConnecting);
  const std::uint64_t attempt = ++attempt_id_;
  handshake_remaining_ = 0;
  connected_ip_.clear();
  if (!sentinel_mode()) {
    ResolveTarget(attempt);
    return;
  }
  // Asking takes up to one connect timeout; the connect itself gets another.
  const auto deadline = Clock::now() + config_.connect_timeout;
  if (query_) query_->Cancel();  // an earlier attempt's question, if still open
  query_ = std::make_shared<SentinelQuery>();
  asio::co_spawn(executor_, AskSentinelsForPrimary(executor_, config_, logger_, deadline, query_),
                 [weak = weak_from_this(), attempt](std::exception_ptr error,
                                                    absl::StatusOr<RedisEndpoint> primary) {
                   if (error) primary = absl::InternalError("asking the sentinels threw");
                   if (auto self = weak.lock()) {
                     self->OnPrimaryFound(attempt, std::move(primary));
                   }
                 });
}

void RedisClient::OnPrimaryFound(std::uint64_t attempt, absl::StatusOr<RedisEndpoint> primary) {
  if (attempt != attempt_id_ || state_ != State::kConnecting) return;
  if (!primary.ok()) {
    target_ = RedisEndpoint{};
    AttemptFailed("redis primary unknown", std::string(primary.status().message()));
    return;
  }
  if (*primary != target_) {
    LogEvent(LogLevel::kInfo, "redis sentinels name a primary",
             {{"master", config_.sentinel_master},
              {"host", primary->host},
              {"port", primary->port},
              {"previous", target_.host.empty() ? std::string("none") : target_.ToString()}});
  }
  target_ = *std::move(primary);
  ResolveTarget(attempt);
}

void RedisClient::ResolveTarget(std::uint64_t attempt) {
  const auto weak = weak_from_this();
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([weak, attempt](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->OnConnectTimeout(attempt);
  });
  // getaddrinfo runs on asio's resolver thread, never on the loop thread.
  resolver_.async_resolve(target_.host, std::to_string(target_.port),
                          asio::ip::tcp::resolver::numeric_service,
                          [weak, attempt](const boost::system::error_code& ec,
                                          const asio::ip::tcp::resolver::results_type& results) {
                            if (auto self = weak.lock()) self->OnResolved(attempt, ec, results);
                          });
}

void RedisClient::OnResolved(std::uint64_t attempt, const boost::system::error_code& ec,
                             const asio::ip::tcp::resolver::results_type& results) {
  if (attempt != attempt_id_ || state_ != State::kConnecting) return;
  if (ec || results.empty()) {
    AttemptFailed("redis host resolution failed", ec ? ec.message() : "no address");
    return;
  }
  // Prefer IPv4: "localhost" often lists ::1 first while redis-server binds 127.0.0.1.
  auto chosen = results.begin();
  for (auto it = results.begin(); it != results.end(); ++it) {
    if (it->endpoint().address().is_v4()) {
      chosen = it;
      break;
    }
  }
  Connect(chosen->endpoint().address().to_string());
}

void RedisClient::Connect(const std::string& ip) {
  connected_ip_ = ip;
  // A numeric address: hiredis's own getaddrinfo call returns without a lookup.
  absl::StatusOr<redisAsyncContext*> opened = OpenAsyncContext(ip, target_.port, executor_);
  if (!opened.ok()) {
    AttemptFailed("redis connect failed", std::string(opened.status().message()));
    return;
  }
  redisAsyncContext* context = *opened;
  context->data = this;
  redisAsyncSetConnectCallback(context, &RedisClient::OnConnectThunk);
  redisAsyncSetDisconnectCallback(context, &RedisClient::OnDisconnectThunk);
  context_ = context;
  ++connection_id_;
  in_flight_ = 0;
  // The handshake is pipelined behind the TCP connect; hiredis writes it once connected.
  SendHandshake();
}

bool RedisClient::Submit(const std::vector<std::string>& args,
                         void (*callback)(redisAsyncContext*, void*, void*), void* privdata) {
  if (context_ == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return redisAsyncCommandArgv(context_, callback, privdata, static_cast<int>(args.size()),
                               argv.data(), lengths.data()) == REDIS_OK;
}

void RedisClient::SendHandshake() {
  bool queued = true;
  const auto send = [&](HandshakeStep::Kind kind, const std::vector<std::string>& args,
                        const Script* script) {
    if (!queued) return;
    auto* step = new HandshakeStep{kind, connection_id_, script};
    if (!Submit(args, &RedisClient::OnHandshakeReplyThunk, step)) {
      delete step;
      queued = false;
      return;
    }
    ++handshake_remaining_;
  };
  if (!config_.password.empty()) {
    const std::vector<std::string> auth = {"AUTH", config_.password};
    send(HandshakeStep::Kind::kAuth, auth, nullptr);
  }
  if (config_.db != 0) {
    const std::vector<std::string> select = {"SELECT", std::to_string(config_.db)};
    send(HandshakeStep::Kind::kSelect, select, nullptr);
  }
  if (sentinel_mode()) {
    // A sentinel may name a primary that has just been demoted (or not yet promoted).
    const std::vector<std::string> role = {"ROLE"};
    send(HandshakeStep::Kind::kRole, role, nullptr);
  }
  for (const Script* script : scripts_) {
    const std::vector<std::string> load = {"SCRIPT", "LOAD", script->body()};
    send(HandshakeStep::Kind::kScriptLoad, load, script);
  }
  // Always last: its reply means every earlier step has answered, and it gives hiredis a write
  // to wait for, which is how it learns that the TCP connect finished.
  const std::vector<std::string> ping = {"PING"};
  send(HandshakeStep::Kind::kPing, ping, nullptr);
  if (!queued) AttemptFailed("redis connect failed", "cannot queue the handshake");
}

void RedisClient::OnHandshakeReply(const HandshakeStep& step, const Reply& reply) {
  if (state_ != State::kConnecting) return;
  if (reply.IsError()) {
    switch (step.kind) {
      case HandshakeStep::Kind::kAuth:
        AttemptFailed("redis authentication failed (check the configured password)", reply.str);
        return;
      case HandshakeStep::Kind::kSelect:
        AttemptFailed("redis SELECT of the configured db failed", reply.str);
        return;
      case HandshakeStep::Kind::kRole:
        AttemptFailed("redis ROLE failed", reply.str);
        return;
      case HandshakeStep::Kind::kScriptLoad:
        AttemptFailed("redis SCRIPT LOAD failed", reply.str);
        return;
      case HandshakeStep::Kind::kPing:
        AttemptFailed("redis PING during connect failed", reply.str);
        return;
    }
  }
  if (step.kind == HandshakeStep::Kind::kRole) {
    // ["master", offset, replicas] on a primary; "slave" or "sentinel" elsewhere.
    const bool primary = reply.type == Reply::Type::kArray && !reply.elements.empty() &&
                         reply.elements[0].str == "master";
    if (!primary) {
      const std::string role = reply.type == Reply::Type::kArray && !reply.elements.empty()
                                   ? reply.elements[0].str
                                   : reply.DebugString();
      AttemptFailed("redis server the sentinels named is not the primary", "ROLE is " + role);
      return;
    }
  }
  if (step.kind == HandshakeStep::Kind::kScriptLoad) {
    if (reply.type == Reply::Type::kString && !reply.str.empty()) {
      script_shas_[step.script] = reply.str;
    } else {
      // Without a SHA, Eval sends the body (EVAL) each time.
      script_shas_.erase(step.script);
      logger_.Error("redis SCRIPT LOAD answered no sha; Eval sends the script body instead");
    }
  }
  if (handshake_remaining_ > 0) --handshake_remaining_;
  if (handshake_remaining_ > 0) return;

  connect_timer_.cancel();
  const bool reconnected = ever_ready_;
  ever_ready_ = true;
  backoff_attempt_ = 0;
  if (reconnected) {
    ++reconnects_;
    if (observer_ != nullptr) observer_->OnReconnect();
  }
  SetState(State::kReady);
  if (announced_primary_.has_value() && *announced_primary_ != target_) {
    // A +switch-master arrived while this attempt was under way, naming another server: the
    // sentinels were asked before it, so ask again.
    asio::post(executor_, [weak = weak_from_this(), id = connection_id_] {
      if (auto self = weak.lock()) self->Rediscover(id, "+switch-master during connect");
    });
  }
  announced_primary_.reset();
  LogEvent(LogLevel::kInfo, reconnected ? "redis reconnected" : "redis connected",
           {{"host", target_.host},
            {"port", target_.port},
            {"ip", connected_ip_},
            {"db", config_.db},
            {"scripts", static_cast<std::int64_t>(scripts_.size())},
            {"reconnects", static_cast<std::int64_t>(reconnects_)}});
}

void RedisClient::OnConnectTimeout(std::uint64_t attempt) {
  if (attempt != attempt_id_ || state_ != State::kConnecting) return;
  AttemptFailed("redis connect timed out",
                "not ready within " + std::to_string(config_.connect_timeout.count()) + " ms");
}

void RedisClient::AttemptFailed(std::string_view what, std::string_view error) {
  DropConnection();
  resolver_.cancel();
  connect_timer_.cancel();
  if (state_ == State::kStopped) return;
  const auto delay = ScheduleReconnect();
  LogEvent(LogLevel::kWarn, what,
           {{"host", target_.host},
            {"port", target_.port},
            {"error", error},
            {"failures", backoff_attempt_},
            {"retry_in_ms", Millis(delay)}});
}

std::chrono::milliseconds RedisClient::ScheduleReconnect() {
  SetState(State::kBackoff);
  ++attempt_id_;  // stale callbacks of the previous attempt are ignored
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // Sentinel mode asks the sentinels on every attempt, so it retries at least twice a second:
  // a failover is over within seconds, and the next attempt should not wait long after it.
  const auto max_backoff = sentinel_mode()
                               ? std::min(config_.reconnect_max_backoff, kSentinelMaxBackoff)
                               : config_.reconnect_max_backoff;
  auto delay = ReconnectBackoff(backoff_attempt_, config_.reconnect_initial_backoff, max_backoff,
                                unit(rng_));
  // A +switch-master arrived during the attempt that just failed: try the new primary now
  // (once; that attempt asks the sentinels after the switch).
  if (announced_primary_.has_value()) {
    delay = std::chrono::milliseconds(0);
    announced_primary_.reset();
  }
  if (backoff_attempt_ < 1000) ++backoff_attempt_;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->StartConnectAttempt();
  });
  return delay;
}

void RedisClient::OnConnectionLost(std::string_view error) {
  in_flight_ = 0;
  if (state_ == State::kConnecting) {
    AttemptFailed("redis connection closed during connect", error);
    return;
  }
  if (state_ != State::kReady) return;
  const auto delay = ScheduleReconnect();
  LogEvent(LogLevel::kWarn, "redis connection lost",
           {{"host", target_.host},
            {"port", target_.port},
            {"error", error},
            {"retry_in_ms", Millis(delay)}});
}

void RedisClient::OnCommandTimeout(std::uint64_t connection) {
  if (connection != connection_id_ || context_ == nullptr || state_ != State::kReady) return;
  DropConnection();
  const auto delay = ScheduleReconnect();
  LogEvent(LogLevel::kWarn, "redis command timed out; dropping the connection",
           {{"host", target_.host},
            {"port", target_.port},
            {"command_timeout_ms", Millis(config_.command_timeout)},
            {"retry_in_ms", Millis(delay)}});
}

void RedisClient::DropConnection() {
  redisAsyncContext* context = std::exchange(context_, nullptr);
  if (context == nullptr) return;
  in_flight_ = 0;
  // From here on our hiredis callbacks ignore this context. Pending callbacks run with a NULL
  // reply (now, or right after the hiredis callback we may be inside of returns).
  context->data = nullptr;
  redisAsyncFree(context);
}

void RedisClient::Rediscover(std::uint64_t connection, std::string_view why) {
  if (connection != connection_id_ || context_ == nullptr || state_ != State::kReady) return;
  DropConnection();
  LogEvent(LogLevel::kWarn, "redis primary moved; asking the sentinels again",
           {{"host", target_.host}, {"port", target_.port}, {"reason", why}});
  // The sentinels usually know the new primary by now: ask at once, not after a backoff.
  StartConnectAttempt();
}

void RedisClient::OnReadOnly(std::uint64_t connection) {
  if (sentinel_mode()) {
    Rediscover(connection, "READONLY reply");
    return;
  }
  // A managed Redis that failed over behind one name: a new connection re-resolves it. With
  // backoff, since the address may simply be a replica's.
  if (connection != connection_id_ || context_ == nullptr || state_ != State::kReady) return;
  DropConnection();
  const auto delay = ScheduleReconnect();
  LogEvent(LogLevel::kWarn, "redis server is read-only (a replica now); reconnecting",
           {{"host", target_.host}, {"port", target_.port}, {"retry_in_ms", Millis(delay)}});
}

void RedisClient::OnSwitchMaster(const RedisEndpoint& primary) {
  if (state_ == State::kStopped) return;
  if (state_ == State::kReady) {
    announced_primary_.reset();
    if (primary != target_) Rediscover(connection_id_, "+switch-master to " + primary.ToString());
    return;
  }
  // Connecting or waiting: the attempt under way may have asked before the switch.
  announced_primary_ = primary;
  if (state_ == State::kBackoff) {
    // Waiting to retry: the news is worth an attempt now.
    reconnect_timer_.cancel();
    StartConnectAttempt();
  }
}

void RedisClient::CheckPrimary() {
  if (state_ != State::kReady) return;  // a connect attempt asks anyway
  const auto deadline = Clock::now() + config_.connect_timeout;
  if (check_query_) check_query_->Cancel();
  check_query_ = std::make_shared<SentinelQuery>();
  asio::co_spawn(executor_,
                 AskSentinelsForPrimary(executor_, config_, logger_, deadline, check_query_),
                 [weak = weak_from_this(), connection = connection_id_](
                     std::exception_ptr error, absl::StatusOr<RedisEndpoint> primary) {
                   auto self = weak.lock();
                   if (error || self == nullptr || !primary.ok()) return;
                   if (*primary != self->target_) {
                     self->Rediscover(connection, "the sentinels name " + primary->ToString());
                   }
                 });
}

std::string RedisClient::NotReadyReason() const {
  switch (state_) {
    case State::kIdle:
      return "client not started";
    case State::kConnecting:
      return "connecting to " + Address();
    case State::kBackoff:
      return "not connected to " + Address() + " (reconnecting)";
    case State::kStopped:
      return "client stopped";
    case State::kReady:
      break;
  }
  return "not ready";
}

void RedisClient::OnConnectThunk(const redisAsyncContext* context, int status) {
  auto* client = static_cast<RedisClient*>(context->data);
  if (client == nullptr || status == REDIS_OK) return;
  // hiredis frees the context as soon as this returns.
  const std::string error =
      context->errstr != nullptr && context->err != 0 ? context->errstr : "connect failed";
  const_cast<redisAsyncContext*>(context)->data = nullptr;
  client->context_ = nullptr;
  client->AttemptFailed("redis connect failed", error);
}

void RedisClient::OnDisconnectThunk(const redisAsyncContext* context, int status) {
  (void)status;
  auto* client = static_cast<RedisClient*>(context->data);
  if (client == nullptr) return;  // we dropped it ourselves
  // hiredis is freeing the context; every pending command has had its NULL reply.
  const std::string error =
      context->errstr != nullptr && context->err != 0 ? context->errstr : "connection closed";
  const_cast<redisAsyncContext*>(context)->data = nullptr;
  client->context_ = nullptr;
  client->OnConnectionLost(error);
}

void RedisClient::OnCommandReplyThunk(redisAsyncContext* context, void* reply, void* privdata) {
  const std::unique_ptr<std::shared_ptr<PendingCommand>> owner(
      static_cast<std::shared_ptr<PendingCommand>*>(privdata));
  PendingCommand& pending = **owner;
  if (--pending.replies_outstanding <= 0) {
    pending.answered = true;
    pending.timer.cancel();
  }
  auto* client = static_cast<RedisClient*>(context->data);
  if (client != nullptr && client->in_flight_ > 0) --client->in_flight_;
  if (reply != nullptr && client != nullptr && IsReadOnly(*static_cast<const redisReply*>(reply))) {
    // Not from inside hiredis's callback: the connection is dropped from the loop.
    asio::post(client->executor_, [weak = client->weak_from_this(), id = pending.connection_id] {
      if (auto self = weak.lock()) self->OnReadOnly(id);
    });
  }
  if (pending.completed) return;  // the caller gave up (deadline, cancellation): drop the reply
  if (reply == nullptr) {
    Complete(pending, Unavailable("connection closed"));
    return;
  }
  Reply answer = ToReply(*static_cast<const redisReply*>(reply));
  if (pending.min_replica_acks == 0) {
    Complete(pending, std::move(answer));
    return;
  }
  if (!pending.command_reply.has_value()) {
    // The command's own reply: an error needs no replicas; otherwise wait for the WAIT.
    if (answer.IsError()) {
      Complete(pending, std::move(answer));
    } else {
      pending.command_reply = std::move(answer);
    }
    return;
  }
  if (answer.type == Reply::Type::kInteger && answer.integer >= pending.min_replica_acks) {
    Complete(pending, std::move(*pending.command_reply));
    return;
  }
  Complete(pending,
           Unavailable("write not confirmed by " + std::to_string(pending.min_replica_acks) +
                       " replica(s) in time (WAIT answered " + answer.DebugString() + ")"));
}

void RedisClient::OnHandshakeReplyThunk(redisAsyncContext* context, void* reply, void* privdata) {
  const std::unique_ptr<HandshakeStep> step(static_cast<HandshakeStep*>(privdata));
  if (reply == nullptr) return;  // the connection is going away; that is handled elsewhere
  auto* client = static_cast<RedisClient*>(context->data);
  if (client == nullptr || client->connection_id_ != step->connection_id) return;
  client->OnHandshakeReply(*step, ToReply(*static_cast<const redisReply*>(reply)));
}

asio::awaitable<absl::StatusOr<Reply>> RedisClient::Command(
    std::vector<std::string> args, std::optional<Clock::time_point> deadline, Ack ack) {
  RedisObserver* observer = observer_;  // outlives the client, unlike `this` perhaps
  if (observer == nullptr) co_return co_await Send(std::move(args), deadline, ack);
  const std::string name = args.empty() ? std::string() : absl::AsciiStrToUpper(args.front());
  const auto started = Clock::now();
  absl::StatusOr<Reply> result = co_await Send(std::move(args), deadline, ack);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::string status = "ok";
  if (!result.ok()) {
    status = absl::AsciiStrToLower(absl::StatusCodeToString(result.status().code()));
  } else if (result->type == Reply::Type::kError) {
    status = "error_reply";
  }
  observer->OnCommand(name, status, seconds);
  co_return result;
}

asio::awaitable<absl::StatusOr<Reply>> RedisClient::Send(std::vector<std::string> args,
                                                         std::optional<Clock::time_point> deadline,
                                                         Ack ack) {
  if (absl::Status invalid = ValidateCommand(args); !invalid.ok()) co_return invalid;
  if (!IsReady()) co_return Unavailable(NotReadyReason());
  const Clock::time_point now = Clock::now();
  if (deadline.has_value() && *deadline <= now) {
    co_return absl::DeadlineExceededError("redis command deadline already passed");
  }

  auto pending = std::make_shared<PendingCommand>(executor_);
  pending->client = weak_from_this();
  pending->connection_id = connection_id_;
  pending->command_timeout = config_.command_timeout;
  // WAIT numreplicas timeout: never 0 (forever), never past the caller's deadline.
  std::vector<std::string> wait;
  if (ack == Ack::kReplicas && config_.min_replica_acks > 0) {
    auto wait_for = config_.replica_ack_timeout;
    if (deadline.has_value()) {
      wait_for = std::min(wait_for,
                          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now));
    }
    wait_for = std::max(wait_for, std::chrono::milliseconds(1));
    wait = {"WAIT", std::to_string(config_.min_replica_acks), std::to_string(wait_for.count())};
    pending->min_replica_acks = config_.min_replica_acks;
    pending->replies_outstanding = 2;
    pending->command_timeout += wait_for;
  }
  pending->watchdog = now + pending->command_timeout;
  if (deadline.has_value() && *deadline < pending->watchdog) pending->caller_deadline = deadline;

  // Runs right after this coroutine suspends, still on the loop thread: `this` and `args` are
  // alive. The answer is always posted (see Complete).
  auto initiate = [this, &args, &wait, pending](auto handler) {
    pending->slot = asio::get_associated_cancellation_slot(handler);
    pending->handler.emplace(std::move(handler));
    auto* privdata = new std::shared_ptr<PendingCommand>(pending);
    if (!IsReady() || !Submit(args, &RedisClient::OnCommandReplyThunk, privdata)) {
      delete privdata;
      Complete(*pending, Unavailable("connection is closing"));
      return;
    }
    ++in_flight_;
    if (!wait.empty()) {
      // Right behind the command on the same connection: WAIT counts the replicas that have
      // this connection's writes so far, so it must never go to another one.
      auto* wait_privdata = new std::shared_ptr<PendingCommand>(pending);
      if (!Submit(wait, &RedisClient::OnCommandReplyThunk, wait_privdata)) {
        delete wait_privdata;
        pending->replies_outstanding = 1;
        Complete(*pending, Unavailable("cannot queue WAIT behind the write"));
      } else {
        ++in_flight_;
      }
    }
    if (pending->slot.is_connected()) {
      pending->slot.assign(
          [weak = std::weak_ptr<PendingCommand>(pending)](asio::cancellation_type type) {
            if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
            if (auto locked = weak.lock()) {
              Complete(*locked, absl::CancelledError("redis command cancelled"), true);
            }
          });
    }
    ArmCommandTimer(pending);
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, ReplySignature>(
      std::move(initiate), asio::use_awaitable);
}

asio::awaitable<absl::StatusOr<Reply>> RedisClient::Eval(const Script& script,
                                                         std::vector<std::string> keys,
                                                         std::vector<std::string> args,
                                                         std::optional<Clock::time_point> deadline,
                                                         Ack ack) {
  const auto sha = script_shas_.find(&script);
  const bool by_sha = sha != script_shas_.end();
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back(by_sha ? "EVALSHA" : "EVAL");
  command.push_back(by_sha ? sha->second : script.body());
  command.push_back(std::to_string(keys.size()));
  for (std::string& key : keys) command.push_back(std::move(key));
  for (std::string& arg : args) command.push_back(std::move(arg));

  const std::weak_ptr<RedisClient> weak = weak_from_this();
  if (!by_sha) co_return co_await Command(std::move(command), deadline, ack);
  absl::StatusOr<Reply> result = co_await Command(command, deadline, ack);
  if (!result.ok() || !IsNoScript(*result)) co_return result;

  // NOSCRIPT (e.g. after SCRIPT FLUSH or a failover): send the body once.
  const std::shared_ptr<RedisClient> self = weak.lock();
  if (self == nullptr) co_return Unavailable("client destroyed");
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (cancellation.cancelled() != asio::cancellation_type::none) {
    co_return absl::CancelledError("redis command cancelled");
  }
  command[0] = "EVAL";
  command[1] = script.body();
  co_return co_await self->Command(std::move(command), deadline, ack);
}

}  // namespace switchyard::redis
