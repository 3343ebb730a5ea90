#pragma once

// Binding text from the URL (path variables, query parameters) to fields of a protobuf message,
// through reflection only, so it works on generated and dynamic messages alike.
//
// Every error is INVALID_ARGUMENT with a message fit for the client, naming the field or parameter
// as the client wrote it; values echoed in messages are quoted, escaped and truncated.

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace switchyard::gateway {

// Resolves a dotted field path ("nested.inner.id") against `descriptor`: each segment is a field's
// proto name or its json_name ("pageSize"); every segment but the last must be a singular message
// field (not repeated, not a map). Returns the fields from outermost to leaf. The gateway uses it
// at start-up to check the fields named by templates, `body` and `response_body`.
absl::StatusOr<std::vector<const google::protobuf::FieldDescriptor*>> ResolveFieldPath(
    const google::protobuf::Descriptor& descriptor, std::string_view field_path);

// The proto-name spelling of a resolved path ("nested.inner.id").
std::string CanonicalFieldPath(std::span<const google::protobuf::FieldDescriptor* const> fields);

// Sets the field at `field_path` (see ResolveFieldPath; intermediate messages are created) from its
// text form:
//   - string: the text, which must be valid UTF-8; bytes: base64, standard or URL-safe alphabet,
//     padding optional.
//   - integers of every kind: decimal, range-checked, nothing else around the digits.
//   - float, double: decimal or exponent notation, "NaN", "Infinity", "-Infinity".
//   - bool: "true" or "false". enum: a value name, or a number (any number for an open enum, a
//     declared one for a closed enum).
//   - google.protobuf.Timestamp: RFC 3339 ("2024-01-02T03:04:05.123Z", "...+01:00");
//     Duration: seconds with up to 9 decimals and an "s" ("1.5s", "-3s"); the wrappers
//     (Int32Value, StringValue, BoolValue, ...): their value's text form; FieldMask:
//     comma-separated paths, lowerCamelCase segments converted to snake_case
//     ("user.displayName,email").
//   - In Timestamp offsets and base64 a ' ' is read as '+': an unencoded '+' in a query string
//     arrives as a space, and a space is never valid there.
// A repeated field gets one more element per call. Errors: unknown field, a path through a repeated
// or map field, a map or non-well-known message as the leaf, a value that does not convert, and a
// oneof member when another member of that oneof is set already.
absl::Status SetField(google::protobuf::Message& message, std::string_view field_path,
                      std::string_view value);

// Query parameters, decoded, in order.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// Parses a raw query string (without the '?'): "a=1&b=2&a=3". '+' means a space, %XX escapes are
// decoded, a key without '=' has an empty value, empty pairs ("&&") are skipped. Malformed
// percent-encoding or an empty key ("=1") is INVALID_ARGUMENT.
absl::StatusOr<QueryParameters> ParseQuery(std::string_view query);

// Parses `query` and sets each parameter with SetField. INVALID_ARGUMENT for:
//   - an unknown parameter: `unknown query parameter "foo"` (strict on purpose);
//   - a parameter whose field is, is inside, or contains one of `excluded_paths` (the fields bound
//     from the path or the body: binding them twice is ambiguous). An excluded path "*" excludes
//     every field (body: "*" leaves nothing to the query string);
//   - a singular field given more than once;
//   - anything SetField rejects.
// Excluded paths and parameter names may use proto or json names; they are compared resolved.
absl::Status BindQuery(google::protobuf::Message& message, std::string_view query,
                       const std::vector<std::string>& excluded_paths);

}  // namespace switchyard::gateway
