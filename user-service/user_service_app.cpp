#include "user-service/user_service_app.hpp"

#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/uuid.hpp"

namespace switchyard::user {

namespace {

constexpr std::string_view kServiceName = "switchyard.user.v1.UserService";

}  // namespace

UserServiceApp::UserServiceApp(UserServiceConfig config, Logger& logger)
    : config_(std::move(config)),
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
  for (const auto& redis : host_.AddRedis(config_.redis)) {
    auto state = std::make_unique<ShardState>();
    state->store = std::make_unique<RedisUserStore>(*redis);
    state->impl = std::make_unique<UserServiceImpl>(*state->store, SystemClockMicros, NewUuidV4);
    shards_.push_back(std::move(state));
  }
  ServeRpcs();
  host_.AddStopHook([this] {
    std::promise<void> refresh_stopped;
    boost::asio::post(host_.runtime().shard(0).io, [&] {
      stopping_ = true;
      if (refresh_timer_) refresh_timer_->cancel();
      refresh_stopped.set_value();
    });
    refresh_stopped.get_future().wait();
  });
}

UserServiceApp::~UserServiceApp() { Shutdown(); }

absl::Status UserServiceApp::Start() {
  if (auto status = host_.Start(); !status.ok()) return status;
  boost::asio::co_spawn(host_.runtime().shard(0).io, RefreshUserCount(), boost::asio::detached);
  return absl::OkStatus();
}

void UserServiceApp::Shutdown() { host_.Shutdown(); }

boost::asio::awaitable<void> UserServiceApp::RefreshUserCount() {
  refresh_timer_ = std::make_unique<boost::asio::steady_timer>(host_.runtime().shard(0).io);
  while (!stopping_) {
    if (host_.redis()[0]->IsReady()) {
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
  auto users = host_.AddService(
      service_, [this](std::size_t shard) -> UserServiceImpl& { return *shards_[shard]->impl; });
  users.Serve(&Service::RequestCreateUser, &UserServiceImpl::CreateUser);
  users.Serve(&Service::RequestGetUser, &UserServiceImpl::GetUser);
  users.Serve(&Service::RequestListUsers, &UserServiceImpl::ListUsers);
  users.Serve(&Service::RequestUpdateUser, &UserServiceImpl::UpdateUser);
  users.Serve(&Service::RequestDeleteUser, &UserServiceImpl::DeleteUser);
}

}  // namespace switchyard::user
