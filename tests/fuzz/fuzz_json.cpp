// Fuzz target: the JSON codec (gateway/json_codec.hpp). Every input is parsed as a request body
// into switchyard.test.v1.EchoRequest (every field kind, well-known types, oneof, map) and into
// google.protobuf.Value (arbitrary JSON, nesting included).
//
// Invariants: nothing crashes and nesting is bounded (ASan catches a blown stack); errors are
// INVALID_ARGUMENT; whatever parses prints, parses back to the same message and prints the same
// text again (fuzz_round_trip.hpp).

#include <google/protobuf/struct.pb.h>

#include "switchyard/test/v1/echo_service.pb.h"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/fuzz_round_trip.hpp"

namespace {

void ParseAndRoundTrip(std::string_view json, google::protobuf::Message& message) {
  const absl::Status status = switchyard::gateway::ParseJsonBody(json, message);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, "code %d: %s",
               static_cast<int>(status.code()), std::string(status.message()).c_str());
    return;
  }
  switchyard::fuzz::CheckJsonRoundTrip(message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json = switchyard::fuzz::AsText(data, size);
  switchyard::test::v1::EchoRequest request;
  ParseAndRoundTrip(json, request);
  google::protobuf::Value value;
  ParseAndRoundTrip(json, value);
  return 0;
}
