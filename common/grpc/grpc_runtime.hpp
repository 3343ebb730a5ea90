#pragma once

// The bridge between gRPC's CompletionQueue API and Boost.Asio coroutines.
//
// A Runtime is a fixed set of shards. Each shard is one io_context (its sockets, timers and
// coroutines: handlers, client calls, the shard's Redis connection) and one completion queue, both
// driven by ONE loop thread. While the loop has work it takes turns: it runs the io_context's
// ready handlers (Asio polls its sockets without blocking) and then the completion queue's ready
// events (gRPC polls its sockets without blocking), resuming each awaiting coroutine inline. So a
// call's request, its Redis command and reply and its Finish all run on the thread that saw them,
// with no sleep and wake-up between threads.
//
// Only when both are idle does the loop sleep, in the io_context (epoll on Asio's sockets and
// timers). gRPC 1.51 gives no way to wait on its sockets and Asio's in one call, so each shard has
// a second thread, the poller, that is parked while the loop is awake: when the loop is about to
// sleep it unparks the poller, which blocks in the completion queue, takes the first event and
// posts it to the io_context (waking the loop), then parks again. Under load the loop rarely
// sleeps and the poller rarely runs; idle, both threads sleep.
//
// Threads and what they share (docs/architecture.md): coroutine code runs only on its shard's loop
// thread and needs no lock. The poller touches only the completion queue, the io_context's post
// (thread-safe) and the atomic `poller_state`.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <grpcpp/completion_queue.h>
#include <grpcpp/server_builder.h>

namespace switchyard::rpc {

// Anything whose address is handed to gRPC as a completion queue tag.
class CqTag {
 public:
  virtual void Complete(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

struct Shard {
  std::size_t index = 0;
  boost::asio::io_context io{1};
  std::unique_ptr<grpc::CompletionQueue> cq;
  // The same queue as `cq` when this runtime serves; null in a client-only runtime.
  grpc::ServerCompletionQueue* server_cq = nullptr;

  // True on this shard's loop thread. A completion queue operation resumes its coroutine inline
  // only there (see detail::CqOperation).
  bool RunningHere() const;

  // Every tag handed to gRPC on `cq` is counted here, and uncounted when its event is taken, so
  // that Runtime::Stop shuts the queue down only once nothing awaits it (an operation started on
  // a shut-down queue aborts the process). False when the queue is closing: start nothing then.
  bool OperationStarted() {
    if (queue_closing) return false;
    pending_operations.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Runtime internals. Shared by threads: `pending_operations` (handlers may arm calls from any
  // thread before the loop starts), `stop_requested` (set by Stop), `poller_state` (loop and
  // poller: kParked, kPolling, kExit). The rest is the loop thread's once the threads run.
  enum PollerState : int { kParked, kPolling, kExit };
  std::atomic<std::size_t> pending_operations{0};
  std::atomic<bool> stop_requested{false};
  std::atomic<int> poller_state{kParked};
  std::atomic<bool> queue_closing{false};
  bool queue_shut_down = false;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
};

class Runtime {
 public:
  explicit Runtime(std::size_t shard_count);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // For a server: adds one completion queue per shard to `builder`; call before BuildAndStart.
  // Without it, Start() makes plain completion queues (a client-only runtime).
  void AddServerQueues(grpc::ServerBuilder& builder);

  // Starts each shard's loop thread and its poller.
  void Start();

  // Call after the server (if any) has shut down: shuts the completion queues down; each loop
  // drains its queue, lets its io_context finish the work that remains, and ends. Joins every
  // thread. Idempotent.
  void Stop();

  std::size_t size() const { return shards_.size(); }
  Shard& shard(std::size_t i) { return *shards_[i]; }
  // Round-robin choice, for spreading work that has no shard of its own.
  Shard& Next();

 private:
  static void RunLoop(Shard& shard);
  static void RunPoller(Shard& shard);

  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> loop_threads_;
  std::vector<std::thread> poller_threads_;
  std::atomic<std::size_t> next_{0};
  bool started_ = false;
  bool stopped_ = false;
};

namespace detail {

// The shard whose loop runs on this thread; null on every other thread.
const Shard* CurrentShard();

// A one-shot completion queue operation whose completion resumes an Asio handler. Completions
// arrive on a shard's loop thread: when that shard's io_context is the handler's executor (the
// common case: a coroutine awaiting on its own shard's queue) the handler runs inline, else it is
// posted to its executor. On cancellation it runs `cancel` (e.g. ClientContext::TryCancel), which
// makes gRPC complete the operation promptly; the handler still runs exactly once.
template <class Handler, class Cancel>
class CqOperation final : public CqTag {
 public:
  CqOperation(Handler handler, Cancel cancel)
      : handler_(std::move(handler)), cancel_(std::move(cancel)) {}

  void ArmCancellation() {
    auto slot = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) {
      slot.assign([this](boost::asio::cancellation_type) { cancel_(); });
    }
  }

  void Complete(bool ok) override {
    auto executor = boost::asio::get_associated_executor(handler_);
    if (OnLoopOf(executor)) {
      Finish(ok);
    } else {
      boost::asio::post(executor, [this, ok] { Finish(ok); });
    }
  }

 private:
  template <class Executor>
  static bool OnLoopOf(const Executor& executor) {
    const Shard* here = CurrentShard();
    if (here == nullptr) return false;
    const auto& context = boost::asio::query(executor, boost::asio::execution::context);
    return static_cast<const boost::asio::execution_context*>(&here->io) == &context;
  }

  void Finish(bool ok) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) slot.clear();
    Handler handler = std::move(handler_);
    delete this;
    std::move(handler)(ok);
  }

  Handler handler_;
  Cancel cancel_;
};

}  // namespace detail

// Starts an operation on `shard`'s completion queue and completes with its `ok` flag.
// `start(void* tag)` must hand `tag` to exactly one gRPC operation on `shard.cq`; `cancel()` is
// called (on the caller's executor) if the awaiting operation is cancelled. Once the queue is
// closing (Runtime::Stop), nothing is started and the operation completes with false.
template <class Start, class Cancel, class CompletionToken>
auto AsyncCqOperation(Shard& shard, Start start, Cancel cancel, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(bool)>(
      [&shard](auto handler, Start start_op, Cancel cancel_op) {
        if (!shard.OperationStarted()) {
          auto executor = boost::asio::get_associated_executor(handler);
          boost::asio::post(
              executor, [handler = std::move(handler)]() mutable { std::move(handler)(false); });
          return;
        }
        using Op = detail::CqOperation<std::decay_t<decltype(handler)>, Cancel>;
        auto* op = new Op(std::move(handler), std::move(cancel_op));
        op->ArmCancellation();
        start_op(static_cast<void*>(static_cast<CqTag*>(op)));
      },
      token, std::move(start), std::move(cancel));
}

}  // namespace switchyard::rpc
