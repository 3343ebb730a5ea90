#include "common/redis/redis_asio_adapter.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <hiredis/async.h>

#include "common/service/sigpipe.hpp"

namespace switchyard::redis {

namespace {

namespace asio = boost::asio;

class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
 public:
  AsioAdapter(asio::any_io_executor executor, redisAsyncContext* context)
      : descriptor_(std::move(executor)), context_(context) {}

  absl::Status Attach() {
    boost::system::error_code ec;
    descriptor_.assign(context_->c.fd, ec);
    if (ec) return absl::InternalError("redis adapter: cannot watch socket: " + ec.message());
    self_ = shared_from_this();
    context_->ev.data = this;
    context_->ev.addRead = [](void* data) { static_cast<AsioAdapter*>(data)->AddRead(); };
    context_->ev.delRead = [](void* data) { static_cast<AsioAdapter*>(data)->want_read_ = false; };
    context_->ev.addWrite = [](void* data) { static_cast<AsioAdapter*>(data)->AddWrite(); };
    context_->ev.delWrite = [](void* data) {
      static_cast<AsioAdapter*>(data)->want_write_ = false;
    };
    context_->ev.cleanup = [](void* data) { static_cast<AsioAdapter*>(data)->Cleanup(); };
    return absl::OkStatus();
  }

 private:
  void AddRead() {
    want_read_ = true;
    if (!read_waiting_) WaitRead();
  }

  // hiredis asks to write when a command is queued. Once connected, the socket is nearly always
  // writable, so the write is tried at the end of the current turn of the loop (every command
  // queued meanwhile goes out in the same write call) instead of after a round through epoll;
  // only when the socket's buffer is full is writability awaited.
  void AddWrite() {
    want_write_ = true;
    // Inside a write hiredis asks again when the socket took only part: the caller then awaits
    // writability.
    if (writing_ || write_waiting_ || write_posted_) return;
    if ((context_->c.flags & REDIS_CONNECTED) == 0) {
      WaitWrite();  // still connecting: hiredis learns of the connect by the socket's writability
      return;
    }
    write_posted_ = true;
    asio::post(descriptor_.get_executor(), [self = shared_from_this()] { self->WriteNow(); });
  }

  void WriteNow() {
    write_posted_ = false;
    if (context_ == nullptr || !want_write_ || write_waiting_) return;
    Write();
  }

  void Write() {
    writing_ = true;
    {
      const ScopedSigpipeSuppressor no_sigpipe;
      redisAsyncHandleWrite(context_);
    }
    writing_ = false;
    if (context_ != nullptr && want_write_ && !write_waiting_) WaitWrite();
  }

  void WaitRead() {
    read_waiting_ = true;
    descriptor_.async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this()](const boost::system::error_code& ec) { self->OnReadable(ec); });
  }

  void WaitWrite() {
    write_waiting_ = true;
    descriptor_.async_wait(
        asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this()](const boost::system::error_code& ec) { self->OnWritable(ec); });
  }

  // The handlers hold a shared_ptr to the adapter, so `this` stays valid even when hiredis frees
  // the context (and so runs Cleanup) inside redisAsyncHandleRead/Write.
  void OnReadable(const boost::system::error_code& ec) {
    read_waiting_ = false;
    if (context_ == nullptr || ec == asio::error::operation_aborted || !want_read_) return;
    redisAsyncHandleRead(context_);
    if (context_ != nullptr && want_read_ && !read_waiting_) WaitRead();
  }

  void OnWritable(const boost::system::error_code& ec) {
    write_waiting_ = false;
    if (context_ == nullptr || ec == asio::error::operation_aborted || !want_write_) return;
    Write();
  }

  // hiredis is about to free the context and close the socket.
  void Cleanup() {
    context_ = nullptr;
    want_read_ = false;
    want_write_ = false;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    // Deregisters the socket from the reactor before hiredis closes it.
    descriptor_.release();
    // Drops the self-reference last: `this` may be destroyed here when no wait is pending.
    auto last_reference = std::move(self_);
  }

  asio::posix::stream_descriptor descriptor_;
  redisAsyncContext* context_;
  std::shared_ptr<AsioAdapter> self_;  // kept from Attach until hiredis calls cleanup
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_waiting_ = false;
  bool write_waiting_ = false;
  bool write_posted_ = false;
  bool writing_ = false;
};

}  // namespace

absl::Status AttachAsioAdapter(redisAsyncContext* context, asio::any_io_executor executor) {
  if (context == nullptr || context->c.fd < 0) {
    return absl::InvalidArgumentError("redis adapter: context has no socket");
  }
  if (context->ev.data != nullptr) {
    return absl::FailedPreconditionError("redis adapter: context already attached");
  }
  auto adapter = std::make_shared<AsioAdapter>(std::move(executor), context);
  return adapter->Attach();
}

absl::StatusOr<redisAsyncContext*> OpenAsyncContext(const std::string& ip, int port,
                                                    asio::any_io_executor executor) {
  redisAsyncContext* context = redisAsyncConnect(ip.c_str(), port);
  if (context == nullptr) return absl::UnavailableError("cannot allocate a hiredis context");
  if (context->err != 0) {
    std::string error = context->errstr != nullptr ? context->errstr : "connect error";
    redisAsyncFree(context);
    return absl::UnavailableError(error);
  }
  if (absl::Status attached = AttachAsioAdapter(context, std::move(executor)); !attached.ok()) {
    redisAsyncFree(context);
    return absl::UnavailableError(attached.message());
  }
  return context;
}

}  // namespace switchyard::redis
