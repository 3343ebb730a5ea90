// Fuzz target: the query string binder (ParseQuery, BindQuery) on the test contract's
// switchyard.test.v1.EchoRequest, which has a field of every kind the gateway binds from a URL.
//
// Input: the raw query string (without '?'). When its first byte is '!', the rest is bound with
// "nested.id" excluded (as a path variable would be).
//
// Invariants: nothing crashes; errors are INVALID_ARGUMENT; whatever binds successfully prints
// as JSON and round-trips through the JSON codec unchanged (fuzz_round_trip.hpp).

#include <string>
#include <vector>

#include "gateway/routing/field_binding.hpp"
#include "switchyard/test/v1/echo_service.pb.h"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/fuzz_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view query = switchyard::fuzz::AsText(data, size);
  std::vector<std::string> excluded;
  if (!query.empty() && query.front() == '!') {
    query.remove_prefix(1);
    excluded.push_back("nested.id");
  }

  const auto parameters = switchyard::gateway::ParseQuery(query);
  if (!parameters.ok()) {
    FUZZ_CHECK(parameters.status().code() == absl::StatusCode::kInvalidArgument, "code %d",
               static_cast<int>(parameters.status().code()));
  } else {
    for (const auto& [key, value] : *parameters) {
      FUZZ_CHECK(!key.empty(), "an empty key was accepted");
      FUZZ_CHECK(key.size() <= query.size() && value.size() <= query.size(), "decoding grew");
    }
  }

  switchyard::test::v1::EchoRequest request;
  const absl::Status status = switchyard::gateway::BindQuery(request, query, excluded);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, "code %d: %s",
               static_cast<int>(status.code()), std::string(status.message()).c_str());
    FUZZ_CHECK(!parameters.ok() || !parameters->empty(), "no parameters, yet an error: %s",
               std::string(status.message()).c_str());
    return 0;
  }
  FUZZ_CHECK(parameters.ok(), "BindQuery accepted what ParseQuery rejects");
  if (!excluded.empty())
    FUZZ_CHECK(!request.has_nested() || request.nested().id().empty(),
               "an excluded field was bound");
  switchyard::fuzz::CheckJsonRoundTrip(request);
  return 0;
}
