#pragma once

// The bridge between gRPC's CompletionQueue API and Boost.Asio coroutines.
//
// A Runtime is a fixed set of shards. Each shard is one single-threaded io_context (where handler
// and client coroutines run, next to that shard's Redis connection) and one completion queue
// drained by its own thread. A completion queue event is a CqTag; completing it posts the waiting
// coroutine's continuation to its io_context, so coroutine code never runs on a gRPC thread and
// never needs a lock.

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
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

  // Starts one io thread and one completion-queue thread per shard.
  void Start();

  // Call after the server (if any) has shut down: drains the completion queues, lets the
  // io_contexts finish their remaining work, and joins every thread. Idempotent.
  void Stop();

  std::size_t size() const { return shards_.size(); }
  Shard& shard(std::size_t i) { return *shards_[i]; }
  // Round-robin choice, for spreading work that has no shard of its own.
  Shard& Next();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<WorkGuard> work_guards_;
  std::vector<std::thread> io_threads_;
  std::vector<std::thread> cq_threads_;
  std::atomic<std::size_t> next_{0};
  bool started_ = false;
  bool stopped_ = false;
};

namespace detail {

// A one-shot completion queue operation whose completion resumes an Asio handler on that
// handler's own executor. On cancellation it runs `cancel` (e.g. ClientContext::TryCancel), which
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
    boost::asio::post(executor, [this, ok] {
      auto slot = boost::asio::get_associated_cancellation_slot(handler_);
      if (slot.is_connected()) slot.clear();
      Handler handler = std::move(handler_);
      delete this;
      std::move(handler)(ok);
    });
  }

 private:
  Handler handler_;
  Cancel cancel_;
};

}  // namespace detail

// Starts a completion queue operation and completes with its `ok` flag. `start(void* tag)` must
// hand `tag` to exactly one gRPC operation; `cancel()` is called (on the caller's executor) if the
// awaiting operation is cancelled.
template <class Start, class Cancel, class CompletionToken>
auto AsyncCqOperation(Start start, Cancel cancel, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(bool)>(
      [](auto handler, Start start_op, Cancel cancel_op) {
        using Op = detail::CqOperation<std::decay_t<decltype(handler)>, Cancel>;
        auto* op = new Op(std::move(handler), std::move(cancel_op));
        op->ArmCancellation();
        start_op(static_cast<void*>(static_cast<CqTag*>(op)));
      },
      token, std::move(start), std::move(cancel));
}

}  // namespace switchyard::rpc
