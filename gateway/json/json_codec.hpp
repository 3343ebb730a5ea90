#pragma once

// JSON <-> protobuf for the gateway: the proto3 canonical JSON mapping, driven by descriptors and
// reflection (works for generated and dynamic messages alike). Parsing is strict where
// protobuf's own util::JsonStringToMessage (3.21) is lax, and neither direction goes through a
// DOM, a TypeResolver or a binary re-encoding.

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace switchyard::gateway {

struct JsonParseOptions {
  // Nesting levels of JSON objects and arrays accepted (the top-level object is level 1); deeper
  // input is rejected before it can exhaust the stack.
  int max_depth = 64;
};

struct JsonOutputOptions {
  bool camel_case = false;  // lowerCamel json names instead of proto field names
};

// Replaces `message` with the JSON object in `json`. Strict: an unknown or repeated field, a value
// of the wrong JSON type or out of range, two members of one oneof, or malformed JSON is
// INVALID_ARGUMENT "invalid JSON body: ..." naming the field path and the problem. Proto field
// names and json names (lowerCamel or a custom json_name) are both accepted. google.protobuf.Any
// is not supported.
absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message);
absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message,
                           const JsonParseOptions& options);

// Appends `message` as compact JSON to `out`: int64 kinds as strings, enums by name, bytes as
// padded standard base64, well-known types in their JSON forms. Singular scalars without presence,
// repeated fields and maps are printed even at their default values (so clients see
// `"next_page_token": ""` rather than a missing key); unset message fields, unset oneof members
// and unset proto3 `optional` fields are omitted. Fails (INTERNAL, `out` left as it was) only for
// values that have no JSON form, such as a Timestamp outside years 1-9999.
absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out);

// Building blocks shared by the parser and the printer; exposed for their unit tests.
namespace json_codec_internal {

// String concatenation for error messages (absl::StrCat takes absl::string_view, which Debian's
// abseil does not alias to std::string_view).
inline void AppendPart(std::string& out, std::string_view part) { out.append(part); }
template <typename Integer>
  requires std::is_integral_v<Integer>
void AppendPart(std::string& out, Integer part) { out += std::to_string(part); }
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (AppendPart(out, parts), ...);
  return out;
}

enum class WellKnownType {
  kNone,  // an ordinary message
  kAny,
  kTimestamp,
  kDuration,
  kFieldMask,
  kStruct,
  kValue,
  kListValue,
  kWrapper,  // DoubleValue, FloatValue, Int64Value, ... BytesValue: the bare `value`
  kEmpty,
};

WellKnownType GetWellKnownType(const google::protobuf::Descriptor& descriptor);

}  // namespace json_codec_internal
}  // namespace switchyard::gateway
