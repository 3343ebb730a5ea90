#pragma once

// The other candidate for the gateway's JSON: protobuf's util::JsonStringToMessage and
// MessageToJsonString, with the gateway's strictness enforced by a pre-pass over the body (what
// protobuf 3.21 accepts and the gateway must reject: duplicate keys, numeric strings with a sign
// or leading zeros, a bool or bytes of the wrong form, out-of-form Timestamps and Durations, two
// members of one oneof, nesting past the depth limit; malformed JSON such as comments, single
// quotes and trailing commas is refused by the pre-pass's parser).
//
// Built into the gateway in place of json_codec.cpp when configured with
// -DSWITCHYARD_JSON_CODEC=protobuf, for the end-to-end A/B in docs/benchmarks.md; measured
// against the hand-written codec by bench/json_codec_bench.cpp.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include <google/protobuf/message.h>

#include "gateway/json/json_codec.hpp"

namespace switchyard::gateway::protobuf_json {

// As gateway::ParseJsonBody: replaces `message` with the JSON object in `json`.
absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message,
                           const JsonParseOptions& options = {});

// As gateway::PrintJson: appends `message` as JSON to `out`.
absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out);

}  // namespace switchyard::gateway::protobuf_json
