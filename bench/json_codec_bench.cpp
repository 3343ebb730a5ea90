// Micro-benchmark: the gateway's JSON codec (gateway/json/json_codec) against protobuf's
// util::JsonStringToMessage / MessageToJsonString, alone and with the gateway's strictness
// pre-pass in front of the parse (gateway/json/protobuf_json_codec, the candidate that would
// replace the codec), on the messages the gateway sees most: a CreateUserRequest body and a
// ListUsersResponse of 10 users. Built with the project (target json-codec-bench); run the
// release build's:
//
//   cmake --build --preset release --target json-codec-bench
//   build/release/bench/json-codec-bench
//
// Each figure is the best of 7 rounds of ~50 ms; results in docs/benchmarks.md.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "gateway/json/json_codec.hpp"
#include "gateway/json/protobuf_json_codec.hpp"
#include "switchyard/user/v1/user_service.pb.h"

namespace {

using switchyard::user::v1::CreateUserRequest;
using switchyard::user::v1::ListUsersResponse;

// Nanoseconds per call: the best of several rounds (the least disturbed by the machine).
double NanosPerCall(const std::function<void()>& call) {
  constexpr int kRounds = 7;
  int iterations = 1000;
  // Size the rounds to about 100 ms each.
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) call();
    const auto took = std::chrono::steady_clock::now() - start;
    if (took > std::chrono::milliseconds(50)) break;
    iterations *= 2;
  }
  std::vector<double> rounds;
  for (int round = 0; round < kRounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) call();
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    rounds.push_back(took.count() / iterations);
  }
  return *std::min_element(rounds.begin(), rounds.end());
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::exit(1);
  }
}

void Compare(const char* name, const std::function<void()>& ours,
             const std::function<void()>& protobuf, const std::function<void()>& checked,
             std::size_t bytes) {
  const double ours_ns = NanosPerCall(ours);
  const double protobuf_ns = NanosPerCall(protobuf);
  const double checked_ns = NanosPerCall(checked);
  std::printf(
      "%-32s %5zu B  ours %7.0f ns  protobuf %7.0f ns (%4.1fx)  +pre-pass %7.0f ns (%4.1fx)\n",
      name, bytes, ours_ns, protobuf_ns, protobuf_ns / ours_ns, checked_ns, checked_ns / ours_ns);
}

}  // namespace

int main() {
  namespace gateway = switchyard::gateway;
  namespace util = google::protobuf::util;

  CreateUserRequest create;
  create.set_name("Ada Lovelace");
  create.set_email("ada.lovelace@example.com");
  ListUsersResponse list;
  for (int i = 0; i < 10; ++i) {
    auto& user = *list.add_users();
    user.set_id("6f1c2a9e-3b0d-4c7e-9a51-" + std::to_string(100000000000 + i));
    user.set_name("Ada Lovelace " + std::to_string(i));
    user.set_email("ada" + std::to_string(i) + "@example.com");
    user.mutable_created_at()->set_seconds(1704164645 + i);
    user.mutable_updated_at()->set_seconds(1704164645 + i);
    user.mutable_updated_at()->set_nanos(123000000);
  }
  list.set_next_page_token("dXNlcnM6MTA=");

  util::JsonPrintOptions print_options;  // as the gateway printed with protobuf
  print_options.preserve_proto_field_names = true;
  print_options.always_print_primitive_fields = true;
  util::JsonParseOptions parse_options;

  std::string create_json;
  std::string list_json;
  Check(gateway::PrintJson(create, {}, create_json).ok(), "print create");
  Check(gateway::PrintJson(list, {}, list_json).ok(), "print list");
  std::string check;
  Check(util::MessageToJsonString(list, &check, print_options).ok() && check == list_json,
        "same output as protobuf");

  const auto parse_ours = [](const std::string& json, google::protobuf::Message& message) {
    return [&json, &message] { Check(gateway::ParseJsonBody(json, message).ok(), "parse"); };
  };
  const auto parse_protobuf = [&](const std::string& json, google::protobuf::Message& message) {
    return [&json, &message, &parse_options] {
      message.Clear();  // JsonStringToMessage merges; ParseJsonBody replaces
      Check(util::JsonStringToMessage(json, &message, parse_options).ok(), "parse");
    };
  };
  const auto parse_checked = [](const std::string& json, google::protobuf::Message& message) {
    return [&json, &message] {
      Check(gateway::protobuf_json::ParseJsonBody(json, message).ok(), "parse");
    };
  };
  const auto print_ours = [](const google::protobuf::Message& message) {
    return [&message] {
      std::string out;
      Check(gateway::PrintJson(message, {}, out).ok(), "print");
    };
  };
  const auto print_protobuf = [&](const google::protobuf::Message& message) {
    return [&message, &print_options] {
      std::string out;
      Check(util::MessageToJsonString(message, &out, print_options).ok(), "print");
    };
  };

  CreateUserRequest create_target;
  ListUsersResponse list_target;
  // Printing has no pre-pass: the third column repeats protobuf's printer.
  Compare("parse CreateUserRequest", parse_ours(create_json, create_target),
          parse_protobuf(create_json, create_target), parse_checked(create_json, create_target),
          create_json.size());
  Compare("print CreateUserRequest", print_ours(create), print_protobuf(create),
          print_protobuf(create), create_json.size());
  Compare("parse ListUsersResponse (10)", parse_ours(list_json, list_target),
          parse_protobuf(list_json, list_target), parse_checked(list_json, list_target),
          list_json.size());
  Compare("print ListUsersResponse (10)", print_ours(list), print_protobuf(list),
          print_protobuf(list), list_json.size());
  return 0;
}
