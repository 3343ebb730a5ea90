#include "common/grpc/health_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/grpc/grpc_server.hpp"
#include "common/grpc/grpc_stream.hpp"

namespace switchyard {

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

}  // namespace

HealthService::HealthService(const std::vector<std::string>& services) {
  serving_.emplace("", false);
  for (const auto& name : services) serving_.emplace(name, false);
}

HealthService::ServingStatus HealthService::Status(const std::string& service) const {
  std::lock_guard lock(mutex_);
  return StatusLocked(service);
}

HealthService::ServingStatus HealthService::StatusLocked(const std::string& service) const {
  const auto it = serving_.find(service);
  if (it == serving_.end()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return it->second ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthService::SetAllServing(bool serving) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  bool changed = false;
  for (auto& [name, state] : serving_) {
    changed = changed || state != serving;
    state = serving;
  }
  if (changed) NotifyWatchers();
}

void HealthService::Shutdown() {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [name, state] : serving_) state = false;
  NotifyWatchers();
}

void HealthService::NotifyWatchers() {
  for (const auto& watcher : watchers_) {
    boost::asio::post(watcher->wake.get_executor(), [watcher] {
      watcher->changed = true;
      watcher->wake.cancel();
    });
  }
}

absl::Status HealthService::Serve(rpc::Runtime& runtime, Logger& logger, RpcMetrics* metrics) {
  using Service = Health::AsyncService;
  auto check = rpc::Register(
      service_, &Service::RequestCheck,
      [this](rpc::RpcContext&, const HealthCheckRequest& request,
             HealthCheckResponse& response) -> boost::asio::awaitable<grpc::Status> {
        const ServingStatus status = Status(request.service());
        if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
          co_return grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 "unknown service '" + request.service() + "'");
        }
        response.set_status(status);
        co_return grpc::Status::OK;
      },
      logger, metrics);
  if (auto status = rpc::Serve(runtime, std::move(check)); !status.ok()) return status;

  using WatchStream =
      rpc::ServerStreamingRpc<Service, HealthCheckRequest, HealthCheckResponse>::Stream;
  auto watch = rpc::Register(
      service_, &Service::RequestWatch,
      [this](rpc::RpcContext&, const HealthCheckRequest& request,
             WatchStream& stream) -> boost::asio::awaitable<grpc::Status> {
        auto watcher = std::make_shared<Watcher>(co_await boost::asio::this_coro::executor);
        {
          std::lock_guard lock(mutex_);
          watchers_.push_back(watcher);
        }
        struct Unregister {
          HealthService& health;
          const std::shared_ptr<Watcher>& watcher;
          ~Unregister() {
            std::lock_guard lock(health.mutex_);
            std::erase(health.watchers_, watcher);
          }
        } unregister{*this, watcher};

        bool sent = false;
        ServingStatus last = HealthCheckResponse::UNKNOWN;
        for (;;) {
          watcher->changed = false;
          ServingStatus now;
          bool over;
          {
            // Read together: once shut down, `now` is the final status, still to be sent.
            std::lock_guard lock(mutex_);
            now = StatusLocked(request.service());
            over = shut_down_;
          }
          if (!sent || now != last) {
            HealthCheckResponse response;
            response.set_status(now);
            if (!co_await stream.Write(response)) co_return grpc::Status::CANCELLED;
            sent = true;
            last = now;
          }
          if (over) co_return grpc::Status::OK;
          if (watcher->changed) continue;  // changed while writing
          watcher->wake.expires_at(boost::asio::steady_timer::time_point::max());
          co_await watcher->wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
          auto cancelled = (co_await boost::asio::this_coro::cancellation_state).cancelled();
          if (cancelled != boost::asio::cancellation_type::none) {
            co_return grpc::Status::CANCELLED;
          }
        }
      },
      logger);
  return rpc::Serve(runtime, std::move(watch));
}

}  // namespace switchyard
