#pragma once

// JSON <-> protobuf for the gateway, through descriptors (proto3 canonical JSON mapping).

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include <google/protobuf/message.h>

namespace switchyard::gateway {

struct JsonOutputOptions {
  bool camel_case = false;  // lowerCamel names instead of proto field names
};

// Parses a JSON object into `message`, strictly: an unknown field, a value of the wrong type or
// malformed JSON is INVALID_ARGUMENT "invalid JSON body: ..." naming the problem. Proto field
// names and lowerCamel json names are both accepted.
absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message);

// Prints `message` as JSON: int64 as strings, enums by name, fields at their default values
// included (so clients see `"next_page_token": ""` rather than a missing key).
absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out);

}  // namespace switchyard::gateway
