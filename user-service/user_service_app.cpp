#include "user-service/user_service_app.hpp"

#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/grpc_server.hpp"
#include "common/shard_handler.hpp"
#include "common/uuid.hpp"

namespace switchyard::user {

namespace {

constexpr std::string_view kServiceName = "switchyard.user.v1.UserService";

}  // namespace

UserServiceApp::UserServiceApp(UserServiceConfig config, Logger& logger)
    : config_(std::move(config)),
      logger_(logger),
      host_(
          [&] {
            ServiceHostOptions options = config_.host;
            options.health_services.emplace_back(kServiceName);
            return options;
          }(),
          logger),
      users_total_(prometheus::BuildGauge()
                       .Name("users_total")
                       .Help("Users stored, as Redis counts them.")
                       .Register(host_.metrics().registry())
                       .Add({})) {
  host_.builder().RegisterService(&service_);
  for (std::size_t i = 0; i < host_.runtime().size(); ++i) {
    auto state = std::make_unique<ShardState>();
    state->redis = redis::RedisClient::Create(host_.runtime().shard(i).io.get_executor(),
                                              config_.redis, logger_);
    state->store = std::make_unique<RedisUserStore>(*state->redis);
    state->impl = std::make_unique<UserServiceImpl>(*state->store, SystemClockMicros, NewUuidV4);
    state->redis->SetStateCallback([this, i](bool ready) { host_.SetShardReady(i, ready); });
    state->redis->SetObserver(&redis_metrics_);
    shards_.push_back(std::move(state));
  }
  host_.AddStopHook([this] {
    std::promise<void> refresh_stopped;
    boost::asio::post(host_.runtime().shard(0).io, [&] {
      stopping_ = true;
      if (refresh_timer_) refresh_timer_->cancel();
      refresh_stopped.set_value();
    });
    refresh_stopped.get_future().wait();
    // Each client lives on its shard's io thread: stop it there and wait.
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      std::promise<void> stopped;
      boost::asio::post(host_.runtime().shard(i).io, [&, i] {
        shards_[i]->redis->Stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
    }
  });
}

UserServiceApp::~UserServiceApp() { Shutdown(); }

absl::Status UserServiceApp::Start() {
  if (auto status = host_.Start(); !status.ok()) return status;
  ServeRpcs();
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    boost::asio::post(host_.runtime().shard(i).io, [this, i] { shards_[i]->redis->Start(); });
  }
  boost::asio::co_spawn(host_.runtime().shard(0).io, RefreshUserCount(), boost::asio::detached);
  return absl::OkStatus();
}

void UserServiceApp::Shutdown() { host_.Shutdown(); }

boost::asio::awaitable<void> UserServiceApp::RefreshUserCount() {
  refresh_timer_ = std::make_unique<boost::asio::steady_timer>(host_.runtime().shard(0).io);
  while (!stopping_) {
    if (shards_[0]->redis->IsReady()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      auto count = co_await shards_[0]->store->Count(deadline);
      if (count.ok()) users_total_.Set(static_cast<double>(*count));
    }
    if (stopping_) break;
    refresh_timer_->expires_after(std::chrono::seconds(2));
    co_await refresh_timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

void UserServiceApp::ServeRpcs() {
  using Service = v1::UserService::AsyncService;
  auto& runtime = host_.runtime();
  const auto impl = [this](std::size_t shard) -> UserServiceImpl& { return *shards_[shard]->impl; };
  const auto bind = [&impl](auto method) { return rpc::ShardHandler(impl, method); };
  rpc::UnaryRpc<Service, v1::CreateUserRequest, v1::CreateUserResponse>::Serve(
      runtime, service_, &Service::RequestCreateUser, "CreateUser",
      bind(&UserServiceImpl::CreateUser), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<Service, v1::GetUserRequest, v1::GetUserResponse>::Serve(
      runtime, service_, &Service::RequestGetUser, "GetUser", bind(&UserServiceImpl::GetUser),
      logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<Service, v1::ListUsersRequest, v1::ListUsersResponse>::Serve(
      runtime, service_, &Service::RequestListUsers, "ListUsers", bind(&UserServiceImpl::ListUsers),
      logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<Service, v1::UpdateUserRequest, v1::UpdateUserResponse>::Serve(
      runtime, service_, &Service::RequestUpdateUser, "UpdateUser",
      bind(&UserServiceImpl::UpdateUser), logger_, &host_.rpc_metrics());
  rpc::UnaryRpc<Service, v1::DeleteUserRequest, v1::DeleteUserResponse>::Serve(
      runtime, service_, &Service::RequestDeleteUser, "DeleteUser",
      bind(&UserServiceImpl::DeleteUser), logger_, &host_.rpc_metrics());
}

}  // namespace switchyard::user
