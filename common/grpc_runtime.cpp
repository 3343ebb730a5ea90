#include "common/grpc_runtime.hpp"

#include "absl/synchronization/mutex.h"

namespace switchyard::rpc {

namespace {

void DrainQueue(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    static_cast<CqTag*>(tag)->Complete(ok);
  }
}

}  // namespace

Runtime::Runtime(std::size_t shard_count) {
  // Debian's Abseil is built with Mutex deadlock detection on, and gRPC locks absl::Mutex on
  // every call: the detector's lock-graph bookkeeping cost ~2% of the services' CPU under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (shard_count == 0) shard_count = 1;
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = i;
    shards_.push_back(std::move(shard));
  }
}

Runtime::~Runtime() { Stop(); }

void Runtime::AddServerQueues(grpc::ServerBuilder& builder) {
  for (auto& shard : shards_) {
    auto cq = builder.AddCompletionQueue();
    shard->server_cq = cq.get();
    shard->cq = std::move(cq);
  }
}

void Runtime::Start() {
  if (started_) return;
  started_ = true;
  for (auto& shard : shards_) {
    if (!shard->cq) shard->cq = std::make_unique<grpc::CompletionQueue>();
    work_guards_.emplace_back(shard->io.get_executor());
  }
  for (auto& shard : shards_) {
    io_threads_.emplace_back([s = shard.get()] { s->io.run(); });
    cq_threads_.emplace_back([s = shard.get()] { DrainQueue(s->cq.get()); });
  }
}

void Runtime::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // Every tag still in a queue completes (ok=false) and posts its continuation to an io_context
  // that is still running, so the coroutines waiting on them unwind normally.
  for (auto& shard : shards_) shard->cq->Shutdown();
  for (auto& thread : cq_threads_) thread.join();
  // With the queues empty, an io_context only has work left that ends by itself.
  for (auto& guard : work_guards_) guard.reset();
  for (auto& thread : io_threads_) thread.join();
}

Shard& Runtime::Next() {
  return *shards_[next_.fetch_add(1, std::memory_order_relaxed) % shards_.size()];
}

}  // namespace switchyard::rpc
