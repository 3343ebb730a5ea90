#pragma once

// Unary gRPC handlers as coroutines on the CompletionQueue API.
//
//   rpc::Serve(runtime, rpc::Register(service, &Service::RequestGetUser, handler, logger));
//
// A method is named by the generated request method alone: the request and response types come
// from its pointer's type, the method's name from the generated descriptor (see MethodName). It
// keeps a few calls of the method requested on every shard's completion queue. Each call that
// arrives runs `handler` as a coroutine on its shard's loop thread (common/grpc/grpc_runtime.hpp).
// When the client cancels the call or its deadline passes, the coroutine is cancelled (terminal
// Asio cancellation), so any Redis or gRPC operation it awaits ends at once.

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/core/demangle.hpp>
#include <boost/system/system_error.hpp>
#include <google/protobuf/descriptor.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/async_unary_call.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"
#include "common/service/metrics.hpp"
#include "common/uuid.hpp"

namespace switchyard::rpc {

// What a handler knows about its call besides the request.
struct RpcContext {
  grpc::ServerContext& server_context;
  const std::string& method;  // e.g. "CreateUser"
  std::string request_id;     // from `x-request-id` metadata; empty when absent
  // The client's deadline on the steady clock; time_point::max() when it set none.
  std::chrono::steady_clock::time_point deadline;
  Logger& logger;
  std::size_t shard;  // index of the runtime shard running the handler
};

// Reads `x-request-id` from the call's metadata, keeping only a well-formed value (1-128 printable
// ASCII characters); anything else yields an empty string.
std::string RequestIdFrom(const grpc::ServerContext& context);

// The client deadline of `context` converted to the steady clock.
std::chrono::steady_clock::time_point SteadyDeadline(const grpc::ServerContext& context);

// How many calls of each method stay requested per shard.
inline constexpr int kRequestedCallsPerMethod = 16;

namespace detail {

// One served method: what every call of it needs.
template <class Service, class RequestMethod, class Handler>
struct ServedMethod {
  Service* service;
  RequestMethod request_method;
  std::string name;
  Handler handler;
  Logger* logger;
  const RpcMetrics::Method* metrics = nullptr;  // null: not measured
};

// What every server call shares, whatever its kind (unary, streaming): it arrives on a shard's
// completion queue, runs its body as a coroutine on the shard's loop, is cancelled when the
// client goes away, writes one access log line and ends with a status. `Derived` provides
//   void Rearm();                                     request the next call of the same method
//   boost::asio::awaitable<grpc::Status> Body(RpcContext&);
//   void Measure(int code, double seconds);           metrics, if any
//   void Send(grpc::Status, void* finish_tag);        the writer's Finish
// and is freed (by `delete`, as Derived) once both the done and the finish tags have completed.
template <class Derived>
class ServerCall {
 protected:
  ServerCall(const std::string& method, Logger& logger, Shard& shard)
      : shard_(shard), method_(method), logger_(logger) {}

  // Binds a member function to a completion queue tag without an allocation per event.
  struct Tag final : CqTag {
    Tag(ServerCall* c, void (ServerCall::*f)(bool)) : call(c), fn(f) {}
    void Complete(bool ok) override { (call->*fn)(ok); }
    ServerCall* call;
    void (ServerCall::*fn)(bool);
  };

  grpc::ServerContext context_;
  Shard& shard_;
  Tag request_tag_{this, &ServerCall::OnRequest};
  Tag done_tag_{this, &ServerCall::OnDone};

 private:
  Derived& self() { return static_cast<Derived&>(*this); }

  // Every tag completes on the shard's loop thread, where the coroutine runs too. A call that
  // never started (server shutting down) gets no done tag, so it is freed here; a started one
  // waits for both its done and finish tags.
  void OnRequest(bool ok) {
    if (!ok) {
      delete &self();
      return;
    }
    shard_.OperationStarted();  // the done tag: it completes for every call that started
    self().Rearm();
    start_ = std::chrono::steady_clock::now();
    Run();
  }

  void Run() {
    running_ = true;
    boost::asio::co_spawn(
        shard_.io, Invoke(),
        boost::asio::bind_cancellation_slot(
            cancel_.slot(), [this](std::exception_ptr error, grpc::Status status) {
              running_ = false;
              if (error) status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
              End(std::move(status));
            }));
  }

  boost::asio::awaitable<grpc::Status> Invoke() {
    RpcContext rpc{context_, method_,     RequestIdFrom(context_), SteadyDeadline(context_),
                   logger_,  shard_.index};
    // A call without a usable id still gets one, so its log lines can be told apart.
    if (rpc.request_id.empty()) rpc.request_id = NewUuidV4();
    request_id_ = rpc.request_id;
    try {
      co_return co_await self().Body(rpc);
    } catch (const boost::system::system_error& e) {
      if (e.code() == boost::asio::error::operation_aborted) {
        co_return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
      }
      logger_.Error("handler failed",
                    {{"method", method_}, {"error", e.what()}, {"request_id", request_id_}});
    } catch (const std::exception& e) {
      logger_.Error("handler failed",
                    {{"method", method_}, {"error", e.what()}, {"request_id", request_id_}});
    }
    co_return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }

  void End(grpc::Status status) {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    const int code = cancelled_ ? static_cast<int>(grpc::StatusCode::CANCELLED)
                                : static_cast<int>(status.error_code());
    self().Measure(code, ms / 1000.0);
    if (logger_.Enabled(LogLevel::kInfo)) {
      logger_.Info(
          "rpc",
          {{"method", method_}, {"code", code}, {"duration_ms", ms}, {"request_id", request_id_}});
    }
    // Nothing of this object may be touched after this call: the finish tag may free it.
    if (shard_.OperationStarted()) {
      self().Send(std::move(status), &finish_tag_);
    } else {
      Release();  // not reached: a running call keeps its done tag pending, so the queue is open
    }
  }

  // The call is over, normally or by cancellation.
  void OnDone(bool /*ok*/) {
    if (context_.IsCancelled()) {
      cancelled_ = true;
      if (running_) cancel_.emit(boost::asio::cancellation_type::terminal);
    }
    Release();
  }

  void OnFinish(bool /*ok*/) { Release(); }

  void Release() {
    if (--refs_ == 0) delete &self();
  }

  const std::string& method_;
  Logger& logger_;
  Tag finish_tag_{this, &ServerCall::OnFinish};
  boost::asio::cancellation_signal cancel_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_;
  int refs_ = 2;  // the done tag and the finish tag
  bool cancelled_ = false;
  bool running_ = false;
};

}  // namespace detail

template <class Service, class Request, class Response>
class UnaryRpc {
 public:
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Request*,
                                          grpc::ServerAsyncResponseWriter<Response>*,
                                          grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                          void*);
  using Handler =
      std::function<boost::asio::awaitable<grpc::Status>(RpcContext&, const Request&, Response&)>;

  // Starts serving the method `name` on every shard of `runtime`. Call after the server has
  // started. The service, runtime and logger must outlive the server's shutdown. Prefer
  // rpc::Serve / rpc::Register, which derive the types and the name.
  static void Serve(Runtime& runtime, Service& service, RequestMethod request_method,
                    std::string name, Handler handler, Logger& logger,
                    RpcMetrics* metrics = nullptr) {
    const RpcMetrics::Method* series = metrics ? &metrics->ForMethod(name) : nullptr;
    auto method = std::make_shared<const Method>(
        Method{&service, request_method, std::move(name), std::move(handler), &logger, series});
    for (std::size_t i = 0; i < runtime.size(); ++i) {
      Shard& shard = runtime.shard(i);
      // Armed on the shard's loop, like every later call of the method.
      boost::asio::post(shard.io, [method, &shard] {
        for (int k = 0; k < kRequestedCallsPerMethod; ++k) Call::Arm(method, shard);
      });
    }
  }

 private:
  using Method = detail::ServedMethod<Service, RequestMethod, Handler>;

  class Call final : public detail::ServerCall<Call> {
   public:
    static void Arm(const std::shared_ptr<const Method>& method, Shard& shard) {
      if (!shard.OperationStarted()) return;  // stopping: no new calls
      auto* call = new Call(method, shard);
      call->context_.AsyncNotifyWhenDone(&call->done_tag_);
      ((*method->service).*(method->request_method))(&call->context_, &call->request_,
                                                     &call->writer_, shard.cq.get(),
                                                     shard.server_cq, &call->request_tag_);
    }

   private:
    friend class detail::ServerCall<Call>;

    Call(std::shared_ptr<const Method> method, Shard& shard)
        : detail::ServerCall<Call>(method->name, *method->logger, shard),
          method_(std::move(method)) {}

    void Rearm() { Arm(method_, this->shard_); }

    boost::asio::awaitable<grpc::Status> Body(RpcContext& rpc) {
      if (method_->metrics != nullptr) method_->metrics->started->Increment();
      return method_->handler(rpc, request_, response_);
    }

    void Measure(int code, double seconds) {
      if (method_->metrics == nullptr) return;
      method_->metrics->handled[static_cast<std::size_t>(code) % 17]->Increment();
      method_->metrics->seconds->Observe(seconds);
    }

    void Send(grpc::Status status, void* finish_tag) {
      if (status.ok()) {
        writer_.Finish(response_, status, finish_tag);
      } else {
        writer_.FinishWithError(status, finish_tag);
      }
    }

    std::shared_ptr<const Method> method_;
    Request request_;
    Response response_;
    grpc::ServerAsyncResponseWriter<Response> writer_{&this->context_};
  };
};

// What a generated request method's parameters say about the messages' flow.
enum class RpcKind { kUnary, kServerStreaming, kBidiStreaming };

// Derives the method that `declaring_class` (the demangled name of the class declaring a
// generated request method: protoc's `<Service>::WithAsyncMethod_<Method><...>`) requests, and
// checks it against the generated descriptor pool: the service and method must exist, and the
// method must take `request`, return `response` and stream as `kind` says. The method's simple
// name ("GetUser") on success; NOT_FOUND when the pool lacks the service or the method (its
// generated code is not linked), INVALID_ARGUMENT when the class is not a generated one or the
// types disagree.
absl::StatusOr<std::string> MethodName(std::string_view declaring_class,
                                       const google::protobuf::Descriptor& request,
                                       const google::protobuf::Descriptor& response, RpcKind kind);

// The same for a request method declared by `Base`.
template <class Base, class Request, class Response>
absl::StatusOr<std::string> MethodName(RpcKind kind) {
  return MethodName(boost::core::demangle(typeid(Base).name()), *Request::descriptor(),
                    *Response::descriptor(), kind);
}

// Arms a registered method on every shard of a started runtime.
using Registration = std::function<void(Runtime&)>;

namespace detail {

// Derives the name of the method that `Base` (the generated class declaring the request method)
// requests, then returns what runs
// `Rpc::Serve(runtime, service, request_method, name, handler, logger, extra...)`.
template <class Rpc, class Base, class Request, class Response, class Service, class Handler,
          class... Extra>
absl::StatusOr<Registration> Resolve(RpcKind kind, Service& service,
                                     typename Rpc::RequestMethod request_method, Handler handler,
                                     Logger& logger, Extra... extra) {
  auto name = MethodName<Base, Request, Response>(kind);
  if (!name.ok()) return name.status();
  return Registration([&service, request_method, name = *std::move(name),
                       handler = std::move(handler), &logger, extra...](Runtime& runtime) {
    Rpc::Serve(runtime, service, request_method, name, handler, logger, extra...);
  });
}

}  // namespace detail

template <class Service, class Request, class Response>
using UnaryRequestMethod = void (Service::*)(grpc::ServerContext*, Request*,
                                             grpc::ServerAsyncResponseWriter<Response>*,
                                             grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                             void*);

// Resolves the unary method `request_method` of `service` (types and name derived, see
// MethodName) and returns what serves it with `handler`; an error, and nothing served, when its
// name cannot be derived. `service`, `logger` and `metrics` must outlive the server's shutdown.
template <class Service, class Base, class Request, class Response>
  requires std::is_base_of_v<Base, Service> absl::StatusOr<Registration> Register(
      Service& service, UnaryRequestMethod<Base, Request, Response> request_method,
      std::type_identity_t<typename UnaryRpc<Service, Request, Response>::Handler> handler,
      Logger& logger, RpcMetrics* metrics = nullptr) {
    return detail::Resolve<UnaryRpc<Service, Request, Response>, Base, Request, Response>(
        RpcKind::kUnary, service, request_method, std::move(handler), logger, metrics);
  }

// Serves `registration` on `runtime` (started) at once, or returns its error.
absl::Status Serve(Runtime& runtime, absl::StatusOr<Registration> registration);

}  // namespace switchyard::rpc
