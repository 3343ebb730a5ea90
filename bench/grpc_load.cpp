// A light closed-loop gRPC load generator for unary calls, for comparing two servers whose
// request messages share a wire format (Switchyard's switchyard.user.v1 and the peer's user.v1
// GetUserRequest both carry the id as field 1).
//
// ghz spends about 1.2 of this machine's 2 cores on its own, so two servers measured under it
// look alike. This client keeps --concurrency calls outstanding on one completion queue per
// --threads, over --connections channels, with a generic stub (no generated code, so it calls
// any method), and reuses one serialized request. --timeout-ms and --request-ids=1 add a deadline
// and an x-request-id to every call, as the gateway's calls carry. It prints one JSON object:
// requests, errors, req/s, latency percentiles in microseconds, and its own CPU time per call.
//
//   grpc-load --target=127.0.0.1:50051 --method=/switchyard.user.v1.UserService/GetUser \
//             --id=<uuid> --concurrency=64 --duration=15s

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string method = "/switchyard.user.v1.UserService/GetUser";
  std::string id = "1";
  int concurrency = 64;
  int connections = 1;
  int threads = 1;
  double duration_s = 15;
  int timeout_ms = 0;        // per-call deadline; 0: none
  bool request_ids = false;  // an x-request-id on every call, as the gateway sends
};

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "grpc-load: %s\nusage: grpc-load --target=HOST:PORT --method=/pkg.Service/Method "
               "[--id=ID] [--concurrency=64] [--connections=1] [--threads=1] [--duration=15s] "
               "[--timeout-ms=0] [--request-ids=0]\n",
               problem);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos)
      Usage("arguments are --name=value");
    const std::string_view name = arg.substr(2, eq - 2);
    const std::string value(arg.substr(eq + 1));
    if (name == "target") {
      o.target = value;
    } else if (name == "method") {
      o.method = value;
    } else if (name == "id") {
      o.id = value;
    } else if (name == "concurrency") {
      o.concurrency = std::atoi(value.c_str());
    } else if (name == "connections") {
      o.connections = std::atoi(value.c_str());
    } else if (name == "timeout-ms") {
      o.timeout_ms = std::atoi(value.c_str());
    } else if (name == "request-ids") {
      o.request_ids = value == "1" || value == "true";
    } else if (name == "threads") {
      o.threads = std::atoi(value.c_str());
    } else if (name == "duration") {
      // Seconds, as a plain number or with wrk's and ghz's suffixes: 15, 15s, 2m.
      char* end = nullptr;
      o.duration_s = std::strtod(value.c_str(), &end);
      if (std::string_view(end) == "m") {
        o.duration_s *= 60;
      } else if (!std::string_view(end).empty() && std::string_view(end) != "s") {
        Usage("--duration takes seconds: 15, 15s or 2m");
      }
    } else {
      Usage("unknown argument");
    }
  }
  if (o.concurrency < 1 || o.connections < 1 || o.threads < 1 || o.duration_s <= 0 ||
      o.timeout_ms < 0 || o.duration_s > 600 || o.id.size() > 127 || o.method.empty() ||
      o.method[0] != '/') {
    Usage("bad value");
  }
  return o;
}

// Field 1 (length-delimited) holding `id`: the whole GetUserRequest on the wire.
grpc::ByteBuffer EncodeRequest(const std::string& id) {
  std::string wire;
  wire.push_back(0x0a);
  wire.push_back(static_cast<char>(id.size()));
  wire += id;
  grpc::Slice slice(wire);
  return grpc::ByteBuffer(&slice, 1);
}

// One outstanding call slot: when its call completes it records the latency and starts the next.
struct Slot {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  grpc::ByteBuffer response;
  grpc::Status status;
  Clock::time_point started;
};

struct Worker {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  grpc::CompletionQueue cq;
  std::vector<long> latencies_us;
  long errors = 0;
  std::string first_error;
};

void RunWorker(Worker& w, const Options& o, int slots, const grpc::ByteBuffer& request,
               Clock::time_point until) {
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (auto& channel : w.channels) stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
  std::vector<Slot> calls(static_cast<std::size_t>(slots));
  std::size_t next_stub = 0;
  unsigned long sent = 0;
  auto start = [&](Slot& s) {
    s.context = std::make_unique<grpc::ClientContext>();
    if (o.timeout_ms > 0) {
      s.context->set_deadline(std::chrono::system_clock::now() +
                              std::chrono::milliseconds(o.timeout_ms));
    }
    if (o.request_ids)
      s.context->AddMetadata("x-request-id", "grpc-load-" + std::to_string(++sent));
    auto& stub = *stubs[next_stub++ % stubs.size()];
    s.reader = stub.PrepareUnaryCall(s.context.get(), o.method, request, &w.cq);
    s.started = Clock::now();
    s.reader->StartCall();
    s.reader->Finish(&s.response, &s.status, &s);
  };
  int outstanding = 0;
  for (auto& s : calls) {
    start(s);
    ++outstanding;
  }
  w.latencies_us.reserve(1 << 20);
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && w.cq.Next(&tag, &ok)) {
    auto& s = *static_cast<Slot*>(tag);
    const auto now = Clock::now();
    if (ok && s.status.ok()) {
      w.latencies_us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(now - s.started).count());
    } else {
      if (w.errors++ == 0) w.first_error = s.status.error_message();
    }
    if (now < until) {
      start(s);
    } else {
      --outstanding;
    }
  }
  w.cq.Shutdown();
  while (w.cq.Next(&tag, &ok)) {
  }
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const grpc::ByteBuffer request = EncodeRequest(o.id);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    // Without a pool of its own, every channel to one target shares one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
      std::fprintf(stderr, "grpc-load: cannot connect to %s within 5 s\n", o.target.c_str());
      return 1;
    }
    channels.push_back(std::move(channel));
  }

  // Warm-up call, so the measured ones do not pay for the first stream.
  {
    Worker warm;
    warm.channels = channels;
    RunWorker(warm, o, 1, request, Clock::now());
    if (warm.errors > 0) {
      std::fprintf(stderr, "grpc-load: warm-up call failed: %s\n", warm.first_error.c_str());
      return 1;
    }
  }

  std::vector<Worker> workers(static_cast<std::size_t>(o.threads));
  for (std::size_t i = 0; i < workers.size(); ++i) {
    for (std::size_t c = i; c < channels.size(); c += workers.size()) {
      workers[i].channels.push_back(channels[c]);
    }
    if (workers[i].channels.empty()) workers[i].channels.push_back(channels[i % channels.size()]);
  }
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  const auto until =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const int slots = o.concurrency / o.threads + (static_cast<int>(i) < o.concurrency % o.threads);
    threads.emplace_back(RunWorker, std::ref(workers[i]), std::cref(o), std::max(slots, 1),
                         std::cref(request), until);
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;

  std::vector<long> all;
  long errors = 0;
  std::string first_error;
  for (auto& w : workers) {
    all.insert(all.end(), w.latencies_us.begin(), w.latencies_us.end());
    errors += w.errors;
    if (first_error.empty()) first_error = w.first_error;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> long {
    if (all.empty()) return 0;
    const auto i = std::min(all.size() - 1, static_cast<std::size_t>(p / 100 * all.size()));
    return all[i];
  };
  const double calls = static_cast<double>(all.size() + static_cast<std::size_t>(errors));
  std::printf(
      "{\"method\":\"%s\",\"concurrency\":%d,\"connections\":%d,\"threads\":%d,"
      "\"seconds\":%.3f,\"requests\":%zu,\"errors\":%ld,\"rps\":%.1f,\"p50_us\":%ld,"
      "\"p90_us\":%ld,\"p99_us\":%ld,\"max_us\":%ld,\"client_cpu_us_per_call\":%.2f}\n",
      o.method.c_str(), o.concurrency, o.connections, o.threads, elapsed, all.size(), errors,
      static_cast<double>(all.size()) / elapsed, pct(50), pct(90), pct(99), pct(100),
      calls > 0 ? cpu / calls * 1e6 : 0.0);
  if (errors > 0) {
    std::fprintf(stderr, "grpc-load: %ld calls failed, first: %s\n", errors, first_error.c_str());
    return 1;
  }
  return 0;
}
