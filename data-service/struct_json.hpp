#pragma once

// google.protobuf.Struct <-> JSON text (how job payloads and results are stored).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include <google/protobuf/struct.pb.h>

namespace switchyard::data {

// Compact JSON object text.
std::string StructToJson(const google::protobuf::Struct& value);

// INVALID_ARGUMENT when `json` is not a JSON object.
absl::StatusOr<google::protobuf::Struct> JsonToStruct(std::string_view json);

}  // namespace switchyard::data
