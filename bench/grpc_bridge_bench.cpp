// The coroutine bridge's cost, measured: one GetUser server, two ways.
//
//   --mode=raw     the textbook CompletionQueue server: a state machine per call, the handler
//                  runs on the completion queue thread, no Asio.
//   --mode=bridge  Switchyard's path: ServiceHost + rpc::Serve, the handler a coroutine on
//                  the shard's io_context (the completion queue thread hands each call over).
//
// Both do the same GetUser work on one completion queue thread (the bridge adds its io thread):
// validate the id, find the user in an in-memory table, fill the response. Redis is left out on
// purpose, so only the bridge differs; the real user-service is measured with Redis by
// bench/run.sh. No access log, no metrics in either. The raw server has no health or
// reflection service; the bridge one has ServiceHost's (idle). bench/bridge.sh runs both in
// alternating pairs under bench/grpc_load.cpp (or ghz, given the proto file) and reports the
// ratios.

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include <boost/asio/awaitable.hpp>
#include <grpcpp/server_builder.h>

#include "common/grpc/grpc_server.hpp"
#include "common/service/logger.hpp"
#include "common/service/service_host.hpp"
#include "common/validation.hpp"
#include "switchyard/user/v1/user_service.grpc.pb.h"
#include "user-service/user_service_impl.hpp"

namespace {

using switchyard::user::v1::GetUserRequest;
using switchyard::user::v1::GetUserResponse;
using Service = switchyard::user::v1::UserService::AsyncService;

constexpr std::string_view kUserId = "00000000-0000-4000-8000-000000000001";

// The table both servers read: what Redis holds for one user, already parsed.
class UserTable {
 public:
  UserTable() {
    switchyard::user::UserRecord record;
    record.id = std::string(kUserId);
    record.name = "Ada Lovelace";
    record.email = "ada@example.com";
    record.created_at_us = 1'700'000'000'000'000;
    record.updated_at_us = record.created_at_us;
    users_.emplace(record.id, record);
  }

  // The GetUser work: validate, look up, build the response.
  grpc::Status Get(const GetUserRequest& request, GetUserResponse& response) const {
    auto id = switchyard::NormalizeUuid("id", request.id());
    if (!id.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(id.status().message()));
    }
    const auto it = users_.find(*id);
    if (it == users_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "user " + *id + " not found");
    }
    switchyard::user::ToProto(it->second, *response.mutable_user());
    return grpc::Status::OK;
  }

 private:
  absl::flat_hash_map<std::string, switchyard::user::UserRecord> users_;
};

void WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
}

// The raw server: one CallData per call in flight, driven by the completion queue thread.
class RawCall {
 public:
  RawCall(Service& service, grpc::ServerCompletionQueue& cq, const UserTable& table)
      : service_(service), cq_(cq), table_(table), writer_(&context_) {
    service_.RequestGetUser(&context_, &request_, &writer_, &cq_, &cq_, this);
  }

  // One completion queue event for this call.
  void Proceed(bool ok) {
    if (finishing_ || !ok) {
      delete this;
      return;
    }
    new RawCall(service_, cq_, table_);  // keep a call requested
    finishing_ = true;
    const grpc::Status status = table_.Get(request_, response_);
    if (status.ok()) {
      writer_.Finish(response_, status, this);
    } else {
      writer_.FinishWithError(status, this);
    }
  }

 private:
  Service& service_;
  grpc::ServerCompletionQueue& cq_;
  const UserTable& table_;
  grpc::ServerContext context_;
  GetUserRequest request_;
  GetUserResponse response_;
  grpc::ServerAsyncResponseWriter<GetUserResponse> writer_;
  bool finishing_ = false;
};

int RunRaw(const std::string& address, const UserTable& table) {
  Service service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "grpc-bridge-bench: cannot listen on %s\n", address.c_str());
    return 1;
  }
  for (int i = 0; i < switchyard::rpc::kRequestedCallsPerMethod; ++i) {
    new RawCall(service, *cq, table);
  }
  std::thread loop([&] {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) static_cast<RawCall*>(tag)->Proceed(ok);
  });
  std::printf("raw server on port %d\n", port);
  std::fflush(stdout);
  WaitForSignal();
  server->Shutdown();
  cq->Shutdown();
  loop.join();
  return 0;
}

int RunBridge(const std::string& address, const UserTable& table) {
  switchyard::Logger logger("grpc-bridge-bench", "bench", switchyard::LogLevel::kError);
  switchyard::ServiceHostOptions options;
  options.listen_address = address;
  options.shards = 1;
  options.shutdown_grace = std::chrono::milliseconds(1000);
  switchyard::ServiceHost host(options, logger);
  Service service;
  host.builder().RegisterService(&service);
  if (auto status = host.Start(); !status.ok()) {
    std::fprintf(stderr, "grpc-bridge-bench: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  host.SetServing(true);
  // Served without metrics (host.AddService would measure it).
  auto served = switchyard::rpc::Serve(
      host.runtime(),
      switchyard::rpc::Register(
          service, &Service::RequestGetUser,
          [&table](switchyard::rpc::RpcContext&, const GetUserRequest& request,
                   GetUserResponse& response) -> boost::asio::awaitable<grpc::Status> {
            co_return table.Get(request, response);
          },
          logger));
  if (!served.ok()) {
    std::fprintf(stderr, "grpc-bridge-bench: %s\n", std::string(served.message()).c_str());
    return 1;
  }
  std::printf("bridge server on port %d\n", host.port());
  std::fflush(stdout);
  host.WaitForSignal();
  host.Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode;
  std::string port = "0";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--mode=")) mode = arg.substr(7);
    if (arg.starts_with("--port=")) port = arg.substr(7);
  }
  const std::string address = "127.0.0.1:" + port;
  const UserTable table;
  if (mode == "raw") {
    // The raw server waits for its signal with sigwait: block them in every thread first.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return RunRaw(address, table);
  }
  if (mode == "bridge") return RunBridge(address, table);
  std::fprintf(stderr, "usage: grpc-bridge-bench --mode=raw|bridge [--port=N]\n");
  return 2;
}
