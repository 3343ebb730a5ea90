#pragma once

// switchyard::redis::RedisClient: one pipelined Redis connection driven by hiredis's async API on
// a Boost.Asio executor, awaited from C++20 coroutines.
//
//   auto client = RedisClient::Create(io.get_executor(), config, logger);
//   client->RegisterScript(&kIncrScript);
//   client->Start();
//   ...
//   absl::StatusOr<Reply> reply = co_await client->Command({"GET", key}, deadline);
//
// Every command completes, whatever happens to the connection: with the reply (a Redis error
// reply is an OK status holding a kError Reply), or with UNAVAILABLE (not connected, connection
// lost, config.command_timeout expired), DEADLINE_EXCEEDED (the caller's deadline expired) or
// CANCELLED (the awaiting coroutine's cancellation slot was emitted).
//
// Standalone (the default) it connects to config.host:config.port. With config.sentinels set it
// finds the primary through Redis Sentinel instead: every connect attempt asks the sentinels
// (SENTINEL get-master-addr-by-name) and checks with ROLE that the server it reached is the
// primary; a SentinelWatcher subscribed to +switch-master, a READONLY reply or a lost connection
// makes it ask again and reconnect. While it has no primary it is not ready.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/redis/redis_reply.hpp"
#include "common/service/logger.hpp"

struct redisAsyncContext;

namespace switchyard::redis {

class SentinelQuery;
class SentinelWatcher;

// A host (a name or an IP address) and a port.
struct RedisEndpoint {
  std::string host;
  int port = 0;

  bool operator==(const RedisEndpoint& other) const = default;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

struct RedisConfig {
  std::string host = "127.0.0.1";  // a name (resolved asynchronously) or an IPv4/IPv6 address
  int port = 6379;
  // Sentinel mode when not empty: host and port are unused; the primary of `sentinel_master`
  // is whatever these sentinels answer (and ROLE confirms).
  std::vector<RedisEndpoint> sentinels;
  std::string sentinel_master = "switchyard";
  std::string sentinel_password;  // AUTH to the sentinels when non-empty; never logged
  std::string password;           // AUTH when non-empty; never logged
  int db = 0;                     // SELECT when non-zero
  // A command not answered within command_timeout means the connection is broken: the command
  // fails with UNAVAILABLE and the connection is dropped and re-established.
  std::chrono::milliseconds command_timeout{1000};
  // Resolve + TCP connect + AUTH/SELECT/SCRIPT LOAD must finish within connect_timeout.
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reconnect_initial_backoff{50};
  std::chrono::milliseconds reconnect_max_backoff{2000};  // 500 at most in sentinel mode
  // Durability: when above 0, a command sent with Ack::kReplicas is answered only after WAIT
  // reports it on at least this many replicas; otherwise it fails with UNAVAILABLE (the write
  // may or may not have been applied, and may be lost if the primary dies).
  int min_replica_acks = 0;
  // The longest WAIT (never beyond the caller's deadline).
  std::chrono::milliseconds replica_ack_timeout{1000};
  // False: connects, losses and retries are logged at debug level (short-lived helper clients,
  // such as the ones that ask sentinels).
  bool log_connection_events = true;
};

// Which acknowledgement a command waits for.
enum class Ack {
  kPrimary,   // the primary's reply
  kReplicas,  // the reply, then WAIT min_replica_acks (when configured): for writes
};

// Delay before reconnect attempt number `attempt` (0 for the first retry after a failure):
// base = min(initial * 2^attempt, max), returned as base * (0.5 + 0.5 * jitter) with `jitter` in
// [0, 1] ("equal jitter": never above max, never below half the base).
std::chrono::milliseconds ReconnectBackoff(int attempt, std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max, double jitter);

// A Lua script. Every (re)connect of a client it is registered with runs SCRIPT LOAD, and the
// client keeps the SHA Redis answers; Eval sends EVALSHA with it and falls back to EVAL on
// NOSCRIPT. Immutable, so one Script may be shared by clients on different threads.
class Script {
 public:
  explicit Script(std::string body) : body_(std::move(body)) {}

  const std::string& body() const { return body_; }

 private:
  std::string body_;
};

// Sees every command's outcome and every reconnection (metrics). Called on the client's thread.
class RedisObserver {
 public:
  virtual ~RedisObserver() = default;
  // `command` is the command's name (GET, EVALSHA, ...); `status` is "ok", "error_reply" or the
  // lower-case status code name ("unavailable", "deadline_exceeded", "cancelled", ...).
  virtual void OnCommand(std::string_view command, std::string_view status, double seconds) = 0;
  virtual void OnReconnect() = 0;
};

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  using Clock = std::chrono::steady_clock;

  // All methods must be called on `executor`'s thread (one single-threaded io_context). `logger`
  // must outlive the client, and the client must be destroyed before the io_context.
  static std::shared_ptr<RedisClient> Create(boost::asio::any_io_executor executor,
                                             RedisConfig config, Logger& logger);
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Before Start(); `observer` must outlive the client.
  void SetObserver(RedisObserver* observer) { observer_ = observer; }

  // Before Start(). `script` must outlive the client. Loaded on each connect.
  void RegisterScript(const Script* script);

  // Connects; on failure or loss reconnects with exponential backoff and jitter until Stop().
  void Start();

  // Disconnects, fails pending commands with UNAVAILABLE, stops reconnecting. Idempotent and
  // final (a stopped client does not start again).
  void Stop();

  // Connected, authenticated, database selected and scripts loaded.
  bool IsReady() const { return state_ == State::kReady; }

  // Completes when the client is ready: OK at once if it is, else when it next becomes ready;
  // UNAVAILABLE when it is stopped (or destroyed) first; DEADLINE_EXCEEDED once `deadline`
  // passes; CANCELLED when the awaiting coroutine's cancellation slot is emitted. Sleeps on a
  // timer that each ready or stopped transition wakes: no polling. The caller keeps the client
  // alive, as for Command.
  boost::asio::awaitable<absl::Status> WaitReady(
      std::optional<Clock::time_point> deadline = std::nullopt);

  // The SHA Redis answered to the SCRIPT LOAD of `script` (registered) on the latest connection
  // that got that far; nullopt before that.
  std::optional<std::string> ScriptSha(const Script& script) const;

  // Called with each ready/not-ready transition, in order, posted to the executor (never from
  // inside a Redis callback). Only while the client exists.
  void SetStateCallback(std::function<void(bool ready)> callback);

  // Successful re-connections after a loss of a ready connection.
  std::uint64_t reconnects() const { return reconnects_; }

  // The server of the current (or latest) connection attempt: config host:port standalone, the
  // primary the sentinels named in sentinel mode (empty before they named one).
  const RedisEndpoint& target() const { return target_; }
  bool sentinel_mode() const { return !config_.sentinels.empty(); }

  // Commands handed to the current connection and not yet answered by Redis, including ones
  // whose callers already gave up (deadline, cancellation).
  std::size_t in_flight() const { return in_flight_; }

  const RedisConfig& config() const { return config_; }

  // One command; args are binary-safe. Concurrent calls pipeline on the one connection.
  //  - Not ready: UNAVAILABLE at once, nothing sent. A deadline already passed:
  //    DEADLINE_EXCEEDED at once, nothing sent.
  //  - The limit is min(config.command_timeout, deadline): the deadline expiring gives
  //    DEADLINE_EXCEEDED; command_timeout expiring gives UNAVAILABLE and drops the connection
  //    (then reconnects). A command whose caller gave up (deadline, cancellation) stays watched:
  //    with no reply within command_timeout of being sent, the connection is dropped too. So a
  //    blocking command (BLPOP 5) needs a command_timeout above its blocking time.
  //  - Terminal cancellation through the awaiting coroutine's cancellation slot gives CANCELLED
  //    at once; Redis may still execute the command, and its reply is discarded.
  //  - Pub/sub and MONITOR are rejected with INVALID_ARGUMENT (they would break the
  //    one-reply-per-command pipeline).
  //  - Ack::kReplicas with config.min_replica_acks > 0: WAIT is pipelined right behind the
  //    command on the same connection; an error reply is returned as is, and a WAIT that counts
  //    fewer replicas gives UNAVAILABLE. The limit grows by replica_ack_timeout.
  //  - A READONLY error reply (the server was demoted) is returned as is, and the connection is
  //    dropped to find the primary again: in sentinel mode by asking the sentinels at once,
  //    standalone by reconnecting (re-resolving the name) after the usual backoff.
  // Callers must not pass braced lists inside the co_await expression (g++ 12): build the vector
  // in a named local first.
  boost::asio::awaitable<absl::StatusOr<Reply>> Command(
      std::vector<std::string> args, std::optional<Clock::time_point> deadline = std::nullopt,
      Ack ack = Ack::kPrimary);

  // EVALSHA with the SHA recorded at SCRIPT LOAD, retried once as EVAL when Redis answers
  // NOSCRIPT; EVAL at once for a script that has no recorded SHA (not registered).
  boost::asio::awaitable<absl::StatusOr<Reply>> Eval(
      const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
      std::optional<Clock::time_point> deadline = std::nullopt, Ack ack = Ack::kPrimary);

 private:
  // Command without the observer.
  boost::asio::awaitable<absl::StatusOr<Reply>> Send(std::vector<std::string> args,
                                                     std::optional<Clock::time_point> deadline,
                                                     Ack ack);

  enum class State { kIdle, kConnecting, kReady, kBackoff, kStopped };
  struct HandshakeStep;
  struct PendingCommand;

  RedisClient(boost::asio::any_io_executor executor, RedisConfig config, Logger& logger);

  void StartConnectAttempt();
  // Sentinel mode: the sentinels' answer for connect attempt `attempt`.
  void OnPrimaryFound(std::uint64_t attempt, absl::StatusOr<RedisEndpoint> primary);
  // Resolves target_ and connects; the connect timeout starts here.
  void ResolveTarget(std::uint64_t attempt);
  // Sentinel mode: drops the connection `connection` and asks the sentinels again at once.
  void Rediscover(std::uint64_t connection, std::string_view why);
  // A READONLY reply on `connection`: the server was demoted; find the primary again.
  void OnReadOnly(std::uint64_t connection);
  // A +switch-master event: reconnect unless already connected to `primary`.
  void OnSwitchMaster(const RedisEndpoint& primary);
  // The watcher subscribed again and may have missed events: ask the sentinels, and reconnect
  // when they name another primary.
  void CheckPrimary();
  void LogEvent(LogLevel level, std::string_view msg, LogFields fields);
  void OnResolved(std::uint64_t attempt, const boost::system::error_code& ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void Connect(const std::string& ip);
  void SendHandshake();
  void OnHandshakeReply(const HandshakeStep& step, const Reply& reply);
  void OnConnectTimeout(std::uint64_t attempt);
  void AttemptFailed(std::string_view what, std::string_view error);
  std::chrono::milliseconds ScheduleReconnect();  // returns the delay
  void OnConnectionLost(std::string_view error);
  void OnCommandTimeout(std::uint64_t connection);
  void DropConnection();
  void SetState(State state);
  // Wakes every WaitReady (they look at the state again).
  void WakeReadyWaiters();
  std::string Address() const;
  std::string NotReadyReason() const;
  // Submits `args` on the current connection; the reply (or a NULL reply when the connection
  // goes away) reaches `callback` with `privdata`. False when hiredis refuses.
  bool Submit(const std::vector<std::string>& args,
              void (*callback)(redisAsyncContext*, void*, void*), void* privdata);

  // Answers the caller once (posted, never inline); later answers are dropped.
  static void Complete(PendingCommand& pending, absl::StatusOr<Reply> result,
                       bool from_cancellation_handler = false);
  static void ArmCommandTimer(const std::shared_ptr<PendingCommand>& pending);
  static void OnCommandTimer(const std::shared_ptr<PendingCommand>& pending);

  static void OnConnectThunk(const redisAsyncContext* context, int status);
  static void OnDisconnectThunk(const redisAsyncContext* context, int status);
  static void OnCommandReplyThunk(redisAsyncContext* context, void* reply, void* privdata);
  static void OnHandshakeReplyThunk(redisAsyncContext* context, void* reply, void* privdata);

  boost::asio::any_io_executor executor_;
  RedisConfig config_;
  Logger& logger_;
  std::vector<const Script*> scripts_;
  absl::flat_hash_map<const Script*, std::string> script_shas_;  // from SCRIPT LOAD
  std::vector<boost::asio::steady_timer*> ready_waiters_;        // one per pending WaitReady
  std::function<void(bool)> state_callback_;

  State state_ = State::kIdle;
  redisAsyncContext* context_ = nullptr;  // owned; freed only through DropConnection()
  std::uint64_t attempt_id_ = 0;          // bumps with every connect attempt (and Stop)
  std::uint64_t connection_id_ = 0;       // bumps with every hiredis context
  int backoff_attempt_ = 0;               // consecutive failures since the last ready
  bool ever_ready_ = false;
  std::uint64_t reconnects_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t handshake_remaining_ = 0;
  std::string connected_ip_;
  RedisEndpoint target_;
  std::shared_ptr<SentinelWatcher> watcher_;    // sentinel mode, from Start() to Stop()
  std::shared_ptr<SentinelQuery> query_;        // the connect attempt's question
  std::shared_ptr<SentinelQuery> check_query_;  // CheckPrimary's question
  // The primary of the latest +switch-master, until a connection reaches it.
  std::optional<RedisEndpoint> announced_primary_;

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer reconnect_timer_;
  std::minstd_rand rng_;
  RedisObserver* observer_ = nullptr;
};

}  // namespace switchyard::redis
