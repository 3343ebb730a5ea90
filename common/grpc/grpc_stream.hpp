#pragma once

// Streaming gRPC handlers as coroutines on the CompletionQueue API, next to UnaryRpc.
//
//   ServerStreamingRpc: the handler gets the request and a stream to Write to.
//   BidiStreamingRpc:   the handler Reads and Writes on one stream.
//
// Each call runs as a coroutine on its shard's loop; each Read or Write is one completion
// queue operation awaited there. The handler's returned status ends the call. When the client
// cancels or its deadline passes, the coroutine is cancelled (terminal Asio cancellation), so a
// pending Read or Write ends at once with false. Meant for the low-rate streams a service carries
// beside its unary methods (health watches, reflection), so each operation allocates.

#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/grpc/grpc_server.hpp"
#include "common/service/logger.hpp"
#include "common/service/metrics.hpp"

namespace switchyard::rpc {

namespace detail {

enum class StreamKind { kServer, kBidi };

template <StreamKind Kind, class Service, class Request, class Response>
class StreamingRpc {
 public:
  using Writer = std::conditional_t<Kind == StreamKind::kServer, grpc::ServerAsyncWriter<Response>,
                                    grpc::ServerAsyncReaderWriter<Response, Request>>;
  using ServerRequestMethod = void (Service::*)(grpc::ServerContext*, Request*,
                                                grpc::ServerAsyncWriter<Response>*,
                                                grpc::CompletionQueue*,
                                                grpc::ServerCompletionQueue*, void*);
  using BidiRequestMethod = void (Service::*)(grpc::ServerContext*,
                                              grpc::ServerAsyncReaderWriter<Response, Request>*,
                                              grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                              void*);
  using RequestMethod =
      std::conditional_t<Kind == StreamKind::kServer, ServerRequestMethod, BidiRequestMethod>;

  // What the handler reads from and writes to.
  class Stream {
   public:
    // Sends one message; false once the call is over (client gone, deadline, cancelled).
    boost::asio::awaitable<bool> Write(const Response& response) {
      co_return co_await AsyncCqOperation(
          shard_, [&](void* tag) { writer_.Write(response, tag); },
          [this] { context_.TryCancel(); }, boost::asio::use_awaitable);
    }

    // Receives the next message; false when the client has closed its side or the call is over.
    boost::asio::awaitable<bool> Read(Request& request) requires(Kind == StreamKind::kBidi) {
      co_return co_await AsyncCqOperation(
          shard_, [&](void* tag) { writer_.Read(&request, tag); }, [this] { context_.TryCancel(); },
          boost::asio::use_awaitable);
    }

   private:
    friend class StreamingRpc;
    Stream(Shard& shard, grpc::ServerContext& context, Writer& writer)
        : shard_(shard), context_(context), writer_(writer) {}
    Shard& shard_;
    grpc::ServerContext& context_;
    Writer& writer_;
  };

  using ServerHandler =
      std::function<boost::asio::awaitable<grpc::Status>(RpcContext&, const Request&, Stream&)>;
  using BidiHandler = std::function<boost::asio::awaitable<grpc::Status>(RpcContext&, Stream&)>;
  using Handler = std::conditional_t<Kind == StreamKind::kServer, ServerHandler, BidiHandler>;

  // Starts serving `method` on every shard of `runtime`; call after the server has started. The
  // service, runtime and logger must outlive the server's shutdown.
  static void Serve(Runtime& runtime, Service& service, RequestMethod request_method,
                    std::string name, Handler handler, Logger& logger) {
    auto method = std::make_shared<const Method>(
        Method{&service, request_method, std::move(name), std::move(handler), &logger, nullptr});
    for (std::size_t i = 0; i < runtime.size(); ++i) {
      Shard& shard = runtime.shard(i);
      boost::asio::post(shard.io, [method, &shard] { Call::Arm(method, shard); });
    }
  }

 private:
  using Method = ServedMethod<Service, RequestMethod, Handler>;

  class Call final : public ServerCall<Call> {
   public:
    static void Arm(const std::shared_ptr<const Method>& method, Shard& shard) {
      if (!shard.OperationStarted()) return;  // stopping: no new calls
      auto* call = new Call(method, shard);
      call->context_.AsyncNotifyWhenDone(&call->done_tag_);
      Service& service = *method->service;
      if constexpr (Kind == StreamKind::kServer) {
        (service.*(method->request_method))(&call->context_, &call->request_, &call->writer_,
                                            shard.cq.get(), shard.server_cq, &call->request_tag_);
      } else {
        (service.*(method->request_method))(&call->context_, &call->writer_, shard.cq.get(),
                                            shard.server_cq, &call->request_tag_);
      }
    }

   private:
    friend class ServerCall<Call>;

    Call(std::shared_ptr<const Method> method, Shard& shard)
        : ServerCall<Call>(method->name, *method->logger, shard), method_(std::move(method)) {}

    void Rearm() { Arm(method_, this->shard_); }

    boost::asio::awaitable<grpc::Status> Body(RpcContext& rpc) {
      Stream stream(this->shard_, this->context_, writer_);
      if constexpr (Kind == StreamKind::kServer) {
        co_return co_await method_->handler(rpc, request_, stream);
      } else {
        co_return co_await method_->handler(rpc, stream);
      }
    }

    void Measure(int /*code*/, double /*seconds*/) {}

    void Send(grpc::Status status, void* finish_tag) { writer_.Finish(status, finish_tag); }

    std::shared_ptr<const Method> method_;
    Request request_;  // the request of a server-streaming call
    Writer writer_{&this->context_};
  };
};

}  // namespace detail

template <class Service, class Request, class Response>
using ServerStreamingRpc =
    detail::StreamingRpc<detail::StreamKind::kServer, Service, Request, Response>;

template <class Service, class Request, class Response>
using BidiStreamingRpc =
    detail::StreamingRpc<detail::StreamKind::kBidi, Service, Request, Response>;

// Resolves the streaming method `request_method` of `service` like the unary Register (types and
// name derived); `handler` gets a ServerStreamingRpc<Service, ...>::Stream, or for bidi a
// BidiStreamingRpc<Service, ...>::Stream.
template <class Service, class Base, class Request, class Response>
  requires std::is_base_of_v<Base, Service> absl::StatusOr<Registration> Register(
      Service& service,
      void (Base::*request_method)(grpc::ServerContext*, Request*,
                                   grpc::ServerAsyncWriter<Response>*, grpc::CompletionQueue*,
                                   grpc::ServerCompletionQueue*, void*),
      std::type_identity_t<typename ServerStreamingRpc<Service, Request, Response>::Handler>
          handler,
      Logger& logger, RpcMetrics* /*metrics: streams are not measured*/ = nullptr) {
    return detail::Resolve<ServerStreamingRpc<Service, Request, Response>, Base, Request, Response>(
        RpcKind::kServerStreaming, service, request_method, std::move(handler), logger);
  }

template <class Service, class Base, class Request, class Response>
  requires std::is_base_of_v<Base, Service> absl::StatusOr<Registration> Register(
      Service& service,
      void (Base::*request_method)(grpc::ServerContext*,
                                   grpc::ServerAsyncReaderWriter<Response, Request>*,
                                   grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*),
      std::type_identity_t<typename BidiStreamingRpc<Service, Request, Response>::Handler> handler,
      Logger& logger, RpcMetrics* /*metrics: streams are not measured*/ = nullptr) {
    return detail::Resolve<BidiStreamingRpc<Service, Request, Response>, Base, Request, Response>(
        RpcKind::kBidiStreaming, service, request_method, std::move(handler), logger);
  }

}  // namespace switchyard::rpc
