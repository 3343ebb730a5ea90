#include "data-service/job_worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "common/uuid.hpp"
#include "data-service/job_backoff.hpp"
#include "data-service/struct_json.hpp"

namespace switchyard::data {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::int32_t kPromoteBatch = 100;
constexpr int kCompletionTries = 5;
constexpr auto kDepthInterval = std::chrono::seconds(1);

std::int64_t Millis(milliseconds value) { return static_cast<std::int64_t>(value.count()); }

double MillisOf(Clock::duration value) {
  return std::chrono::duration<double, std::milli>(value).count();
}

// Holds a gauge one up for its lifetime.
class GaugeUp {
 public:
  explicit GaugeUp(std::atomic<std::int64_t>& gauge) : gauge_(gauge) {
    gauge_.fetch_add(1, std::memory_order_relaxed);
  }
  ~GaugeUp() { gauge_.fetch_sub(1, std::memory_order_relaxed); }
  GaugeUp(const GaugeUp&) = delete;
  GaugeUp& operator=(const GaugeUp&) = delete;

 private:
  std::atomic<std::int64_t>& gauge_;
};

std::string ErrorText(const absl::Status& status) {
  if (!status.message().empty()) return std::string(status.message());
  return absl::StatusCodeToString(status.code());
}

}  // namespace

std::string DefaultConsumerName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    host[0] = 'h';
    host[1] = '\0';
  }
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + NewUuidV4().substr(0, 8);
}

std::shared_ptr<JobWorker> JobWorker::Create(rpc::Shard& shard, redis::RedisConfig redis,
                                             JobWorkerOptions options,
                                             std::shared_ptr<const JobRegistry> registry,
                                             JobMetrics& metrics, Logger& logger) {
  return std::shared_ptr<JobWorker>(new JobWorker(shard, std::move(redis), std::move(options),
                                                  std::move(registry), metrics, logger));
}

namespace {

// The blocking read waits at most this long, so claims (every half visibility timeout) and
// stops are never held up for longer.
milliseconds ReadBlock(const JobWorkerOptions& options) {
  return std::max(milliseconds(10), std::min(options.read_block, options.visibility_timeout / 2));
}

redis::RedisConfig ReaderConfig(redis::RedisConfig config, const JobWorkerOptions& options) {
  // A blocking command must have a command timeout above its blocking time.
  config.command_timeout += ReadBlock(options);
  return config;
}

}  // namespace

JobWorker::JobWorker(rpc::Shard& shard, redis::RedisConfig redis, JobWorkerOptions options,
                     std::shared_ptr<const JobRegistry> registry, JobMetrics& metrics,
                     Logger& logger)
    : shard_(shard),
      options_(std::move(options)),
      registry_(std::move(registry)),
      metrics_(metrics),
      logger_(logger),
      client_(redis::RedisClient::Create(shard.io.get_executor(), redis, logger)),
      reader_(redis::RedisClient::Create(shard.io.get_executor(), ReaderConfig(redis, options_),
                                         logger)),
      data_(*client_),
      queue_(*client_, *reader_),
      slot_free_(shard.io),
      rng_(std::random_device{}()) {
  if (options_.consumer.empty()) options_.consumer = DefaultConsumerName();
  if (options_.redis_observer != nullptr) {
    client_->SetObserver(options_.redis_observer);
    reader_->SetObserver(options_.redis_observer);
  }
  options_.concurrency = std::max<std::int32_t>(1, options_.concurrency);
  options_.visibility_timeout = std::max(options_.visibility_timeout, milliseconds(20));
}

JobWorker::~JobWorker() = default;

void JobWorker::Start() {
  if (state_ != State::kIdle) return;
  state_ = State::kRunning;
  client_->Start();
  reader_->Start();
  logger_.Info("job worker starting",
               {{"consumer", options_.consumer},
                {"concurrency", options_.concurrency},
                {"visibility_timeout_ms", Millis(options_.visibility_timeout)},
                {"attempt_timeout_ms", Millis(options_.attempt_timeout)},
                {"backoff_base_ms", Millis(options_.backoff_base)},
                {"backoff_max_ms", Millis(options_.backoff_max)}});
  Spawn(ReadLoop(), read_cancel_.slot(), nullptr);
  Spawn(MaintenanceLoop(), maintenance_cancel_.slot(), nullptr);
}

void JobWorker::Stop(std::function<void()> on_stopped) {
  if (on_stopped) {
    if (state_ == State::kStopped) {
      asio::post(shard_.io, std::move(on_stopped));
    } else {
      on_stopped_.push_back(std::move(on_stopped));
    }
  }
  switch (state_) {
    case State::kIdle:
      FinishStop();  // nothing ever ran
      return;
    case State::kRunning:
      state_ = State::kDraining;
      StopTakingJobs();
      MaybeFinishStop();
      return;
    case State::kDraining:
    case State::kAbandoning:
    case State::kRetiring:
    case State::kStopped:
      return;  // already on its way
  }
}

void JobWorker::Abandon() {
  switch (state_) {
    case State::kIdle:
      FinishStop();
      return;
    case State::kRetiring:
      // Only the group clean-up is left: closing the connection ends it (then kStopped).
      client_->Stop();
      return;
    case State::kAbandoning:
    case State::kStopped:
      return;
    case State::kRunning:
    case State::kDraining:
      break;
  }
  const bool was_running = state_ == State::kRunning;
  state_ = State::kAbandoning;
  if (!attempts_.empty()) {
    logger_.Warn("job worker abandoning running attempts; they will be re-delivered",
                 {{"consumer", options_.consumer},
                  {"running", static_cast<std::int64_t>(attempts_.size())}});
  }
  // Nothing more reaches Redis: no completion, no acknowledgement, no heartbeat.
  client_->Stop();
  if (was_running) StopTakingJobs();
  for (auto& [entry, attempt] : attempts_) {
    attempt->cancel.emit(asio::cancellation_type::terminal);
  }
  MaybeFinishStop();
}

void JobWorker::StopTakingJobs() {
  logger_.Info("job worker stopping", {{"consumer", options_.consumer},
                                       {"running", static_cast<std::int64_t>(attempts_.size())}});
  // Closing the reader's connection ends a blocked XREADGROUP without Redis delivering more.
  reader_->Stop();
  read_cancel_.emit(asio::cancellation_type::terminal);
  maintenance_cancel_.emit(asio::cancellation_type::terminal);
  slot_free_.cancel();
}

void JobWorker::Spawn(asio::awaitable<void> work, asio::cancellation_slot slot,
                      std::function<void()> on_done) {
  ++live_coroutines_;
  asio::co_spawn(
      shard_.io, std::move(work),
      asio::bind_cancellation_slot(slot, [self = shared_from_this(),
                                          on_done = std::move(on_done)](std::exception_ptr error) {
        if (error && self->taking_jobs()) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            self->logger_.Error("job worker coroutine failed", {{"error", e.what()}});
          }
        }
        // Only now, with the coroutine gone, may its cancellation signal be destroyed.
        if (on_done) on_done();
        --self->live_coroutines_;
        self->MaybeFinishStop();
      }));
}

void JobWorker::MaybeFinishStop() {
  const bool winding_down = state_ == State::kDraining || state_ == State::kAbandoning;
  if (!winding_down || live_coroutines_ > 0) return;
  if (abandoning() || !client_->IsReady()) {
    FinishStop();
    return;
  }
  // A clean stop leaves no consumer behind in the group (only if nothing is pending for it).
  state_ = State::kRetiring;
  asio::co_spawn(
      shard_.io,
      [](std::shared_ptr<JobWorker> self) -> asio::awaitable<void> {
        co_await self->queue_.Retire(self->options_.consumer);
      }(shared_from_this()),
      [self = shared_from_this()](std::exception_ptr) { self->FinishStop(); });
}

void JobWorker::FinishStop() {
  if (state_ == State::kStopped) return;
  const bool ran = state_ != State::kIdle;
  client_->Stop();
  reader_->Stop();
  state_ = State::kStopped;
  if (ran) logger_.Info("job worker stopped", {{"consumer", options_.consumer}});
  auto callbacks = std::move(on_stopped_);
  on_stopped_.clear();
  for (auto& callback : callbacks) callback();
}

void JobWorker::NoteRedis(const absl::Status& status, std::string_view what) {
  if (absl::IsFailedPrecondition(status)) {
    logger_.Warn("job consumer group missing; creating it again", {{"during", what}});
    return;
  }
  if (status.ok()) {
    if (redis_trouble_) {
      logger_.Info("job worker reaches redis again", {{"consumer", options_.consumer}});
    }
    redis_trouble_ = false;
    return;
  }
  if (!taking_jobs() || redis_trouble_) return;
  redis_trouble_ = true;
  logger_.Warn("job worker cannot reach redis; retrying",
               {{"consumer", options_.consumer}, {"during", what}, {"error", status.message()}});
}

asio::awaitable<void> JobWorker::Pause(milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<bool> JobWorker::WaitUntilConnected() {
  // Stopping ends these waits too: Stop cancels the loops, Abandon closes the connections.
  for (const auto& connection : {client_, reader_}) {
    const absl::Status ready = co_await connection->WaitReady();
    if (!ready.ok()) co_return false;
  }
  co_return taking_jobs();
}

asio::awaitable<void> JobWorker::ReadLoop() {
  const bool connected = co_await WaitUntilConnected();
  if (!connected) co_return;
  const milliseconds block = ReadBlock(options_);
  const milliseconds claim_every = std::max(options_.visibility_timeout / 2, milliseconds(10));
  bool group_ready = false;
  while (taking_jobs()) {
    if (!group_ready) {
      const absl::Status status = co_await queue_.EnsureGroup();
      NoteRedis(status, "XGROUP CREATE");
      if (!status.ok()) {
        co_await Pause(options_.retry_pause);
        continue;
      }
      group_ready = true;
    }
    const auto free = options_.concurrency - static_cast<std::int32_t>(attempts_.size());
    if (free <= 0) {
      slot_free_.expires_at(Clock::time_point::max());
      co_await slot_free_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (Clock::now() >= next_claim_) {
      auto claimed = co_await queue_.Claim(options_.consumer, options_.visibility_timeout,
                                           claim_cursor_, free);
      NoteRedis(claimed.status(), "XAUTOCLAIM");
      // More of the pending list to scan: go on at once; else wait for the next round.
      next_claim_ =
          claimed.ok() && claim_cursor_ != "0-0" ? Clock::now() : Clock::now() + claim_every;
      if (!claimed.ok()) {
        if (absl::IsFailedPrecondition(claimed.status())) group_ready = false;
        claim_cursor_ = "0-0";
        if (taking_jobs()) co_await Pause(options_.retry_pause);
        continue;
      }
      for (Delivery& delivery : *claimed) {
        if (!taking_jobs()) break;
        if (attempts_.count(delivery.entry_id) > 0) continue;  // ours, still running here
        logger_.Info("job entry claimed from a silent worker",
                     {{"request_id", delivery.job_id}, {"entry", delivery.entry_id}});
        Launch(std::move(delivery));
      }
      continue;
    }
    auto batch = co_await queue_.Read(options_.consumer, free, block);
    if (!taking_jobs()) break;
    NoteRedis(batch.status(), "XREADGROUP");
    if (!batch.ok()) {
      if (absl::IsFailedPrecondition(batch.status())) group_ready = false;
      co_await Pause(options_.retry_pause);
      continue;
    }
    for (Delivery& delivery : *batch) Launch(std::move(delivery));
  }
}

asio::awaitable<void> JobWorker::MaintenanceLoop() {
  const bool connected = co_await WaitUntilConnected();
  if (!connected) co_return;
  auto next_depth = Clock::now();
  while (taking_jobs()) {
    auto moved = co_await queue_.PromoteDue(kPromoteBatch);
    if (moved.ok() && *moved >= kPromoteBatch) continue;  // more are due
    if (moved.ok() && Clock::now() >= next_depth) {
      next_depth = Clock::now() + kDepthInterval;
      auto depth = co_await queue_.Depth();
      if (depth.ok()) {
        metrics_.queued.store(depth->queued, std::memory_order_relaxed);
        metrics_.retrying.store(depth->retrying, std::memory_order_relaxed);
        metrics_.running.store(depth->running, std::memory_order_relaxed);
      }
    }
    co_await Pause(options_.promote_interval);
  }
}

void JobWorker::Launch(Delivery delivery) {
  auto [it, inserted] = attempts_.emplace(delivery.entry_id, std::make_unique<Attempt>());
  if (!inserted) return;
  Spawn(RunAttempt(std::move(delivery)), it->second->cancel.slot(), [this, entry = it->first] {
    attempts_.erase(entry);
    slot_free_.cancel();
  });
}

asio::awaitable<void> JobWorker::RunAttempt(Delivery delivery) {
  auto start = co_await queue_.Start(delivery);
  if (!start.ok()) {
    // The entry stays pending: claimed again after the visibility timeout.
    if (!abandoning()) {
      logger_.Warn("job attempt not started", {{"request_id", delivery.job_id},
                                               {"entry", delivery.entry_id},
                                               {"error", start.status().message()}});
    }
    co_return;
  }
  switch (start->outcome) {
    case AttemptStart::Outcome::kSkip:
      logger_.Debug("job delivery skipped", {{"request_id", delivery.job_id},
                                             {"entry", delivery.entry_id},
                                             {"state", start->detail}});
      co_return;
    case AttemptStart::Outcome::kDead:
      metrics_.dead.fetch_add(1, std::memory_order_relaxed);
      logger_.Warn("job dead: its last attempt's worker was lost",
                   {{"request_id", delivery.job_id}, {"error", start->detail}});
      co_return;
    case AttemptStart::Outcome::kRun:
      break;
  }

  metrics_.attempts_started.fetch_add(1, std::memory_order_relaxed);
  // Counted down however the attempt ends (also when it is cancelled).
  std::optional<GaugeUp> in_flight(std::in_place, metrics_.in_flight);
  logger_.Info("job attempt started", {{"request_id", delivery.job_id},
                                       {"job_type", start->type},
                                       {"attempt", start->attempt},
                                       {"max_attempts", start->max_attempts},
                                       {"consumer", options_.consumer}});
  const auto started = Clock::now();
  JobContext context{delivery.job_id,
                     start->type,
                     start->attempt,
                     start->max_attempts,
                     started + options_.attempt_timeout,
                     options_.consumer,
                     shard_,
                     data_,
                     logger_};
  const JobType* type = registry_->Find(start->type);

  using namespace asio::experimental::awaitable_operators;
  auto outcome = co_await (InvokeHandler(type, context, start->payload_json) ||
                           Pause(options_.attempt_timeout) || Heartbeat(delivery));
  const auto took = Clock::now() - started;
  in_flight.reset();
  if (abandoning()) co_return;

  absl::StatusOr<std::string> result;
  switch (outcome.index()) {
    case 0: {
      JobResult& handler_result = std::get<0>(outcome);
      if (handler_result.ok()) {
        result = StructToJson(*handler_result);
      } else {
        result = handler_result.status();
      }
      break;
    }
    case 1:
      result = absl::DeadlineExceededError(
          "attempt timed out after " + std::to_string(options_.attempt_timeout.count()) + " ms");
      break;
    default:
      // Another worker claimed the entry: the attempt is no longer ours to record.
      metrics_.stale_completions.fetch_add(1, std::memory_order_relaxed);
      logger_.Warn("job attempt lost its claim to another worker",
                   {{"request_id", delivery.job_id},
                    {"job_type", start->type},
                    {"attempt", start->attempt},
                    {"outcome", "lost"},
                    {"duration_ms", MillisOf(took)}});
      co_return;
  }
  co_await Complete(std::move(delivery), *start, std::move(result), took);
}

asio::awaitable<JobResult> JobWorker::InvokeHandler(const JobType* type, JobContext& context,
                                                    const std::string& payload_json) {
  if (type == nullptr) {
    co_return absl::UnimplementedError("no handler for job type '" + context.type +
                                       "' in this worker");
  }
  auto payload = JsonToStruct(payload_json);
  if (!payload.ok()) co_return absl::InternalError("the stored payload is not a JSON object");
  try {
    co_return co_await type->run(context, *payload);
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) {
      co_return absl::CancelledError("attempt cancelled");
    }
    co_return absl::InternalError(std::string("handler failed: ") + e.what());
  } catch (const std::exception& e) {
    co_return absl::InternalError(std::string("handler failed: ") + e.what());
  }
}

asio::awaitable<void> JobWorker::Heartbeat(Delivery delivery) {
  const milliseconds interval = std::max(options_.visibility_timeout / 3, milliseconds(5));
  for (;;) {
    co_await Pause(interval);
    auto mine = co_await queue_.Heartbeat(delivery, options_.consumer);
    if (mine.ok() && !*mine) co_return;  // claimed by another worker
  }
}

milliseconds JobWorker::NextRetryDelay(std::int32_t attempt) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return RetryDelay(attempt, options_.backoff_base, options_.backoff_max, unit(rng_));
}

asio::awaitable<void> JobWorker::Complete(Delivery delivery, const AttemptStart& start,
                                          absl::StatusOr<std::string> result,
                                          Clock::duration took) {
  const std::string error = result.ok() ? std::string() : ErrorText(result.status());
  const milliseconds delay = result.ok() ? milliseconds(0) : NextRetryDelay(start.attempt);
  absl::StatusOr<Completion> done;
  for (int tries = 1;; ++tries) {
    if (result.ok()) {
      done = co_await queue_.Succeed(delivery, start.attempt, *result);
    } else {
      done = co_await queue_.Fail(delivery, start.attempt, error, delay);
    }
    if (done.ok() || abandoning() || tries >= kCompletionTries) break;
    co_await Pause(options_.retry_pause * tries);
  }
  metrics_.ObserveDuration(std::chrono::duration_cast<std::chrono::microseconds>(took));
  if (!done.ok()) {
    logger_.Error(
        "job attempt outcome not recorded; the job is re-delivered after the "
        "visibility timeout",
        {{"request_id", delivery.job_id},
         {"job_type", start.type},
         {"attempt", start.attempt},
         {"outcome", result.ok() ? "succeeded" : "failed"},
         {"duration_ms", MillisOf(took)},
         {"error", done.status().message()}});
    co_return;
  }
  std::string_view outcome = "stale";
  switch (done->outcome) {
    case Completion::Outcome::kSucceeded:
      metrics_.succeeded.fetch_add(1, std::memory_order_relaxed);
      outcome = "succeeded";
      break;
    case Completion::Outcome::kRetrying:
      metrics_.retried.fetch_add(1, std::memory_order_relaxed);
      outcome = "retrying";
      break;
    case Completion::Outcome::kDead:
      metrics_.dead.fetch_add(1, std::memory_order_relaxed);
      outcome = "dead";
      break;
    case Completion::Outcome::kStale:
      metrics_.stale_completions.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  const LogLevel level = result.ok() ? LogLevel::kInfo : LogLevel::kWarn;
  if (done->outcome == Completion::Outcome::kRetrying) {
    logger_.Log(level, "job attempt finished",
                {{"request_id", delivery.job_id},
                 {"job_type", start.type},
                 {"attempt", start.attempt},
                 {"outcome", outcome},
                 {"duration_ms", MillisOf(took)},
                 {"error", error},
                 {"retry_in_ms", Millis(delay)}});
  } else if (done->outcome == Completion::Outcome::kStale) {
    logger_.Log(level, "job attempt finished",
                {{"request_id", delivery.job_id},
                 {"job_type", start.type},
                 {"attempt", start.attempt},
                 {"outcome", outcome},
                 {"duration_ms", MillisOf(took)},
                 {"job_state", done->state}});
  } else if (result.ok()) {
    logger_.Log(level, "job attempt finished",
                {{"request_id", delivery.job_id},
                 {"job_type", start.type},
                 {"attempt", start.attempt},
                 {"outcome", outcome},
                 {"duration_ms", MillisOf(took)}});
  } else {
    logger_.Log(level, "job attempt finished",
                {{"request_id", delivery.job_id},
                 {"job_type", start.type},
                 {"attempt", start.attempt},
                 {"outcome", outcome},
                 {"duration_ms", MillisOf(took)},
                 {"error", error}});
  }
}

}  // namespace switchyard::data
