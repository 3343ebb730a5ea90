#pragma once

// Binding text from the URL (path variables, query parameters) to fields of a protobuf message,
// through reflection only, so it works on generated and dynamic messages alike.
//
// Every error is INVALID_ARGUMENT with a message fit for the client, naming the field or parameter
// as the client wrote it; values echoed in messages are quoted, escaped and truncated.

#include <cstddef>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace switchyard::gateway {

// A dotted field path ("nested.inner.id") resolved against a message type: the chain of fields
// from outermost to leaf. Routes resolve every path they name once, at start-up; binding, Location
// building and the body and response_body fields then follow the chain with WalkFields.
class FieldPath {
 public:
  FieldPath() = default;

  // Each segment is a field's proto name or its json_name ("pageSize"); every segment but the last
  // must be a singular message field (not repeated, not a map). INVALID_ARGUMENT naming the path
  // otherwise.
  static absl::StatusOr<FieldPath> Resolve(const google::protobuf::Descriptor& descriptor,
                                           std::string_view path);

  bool empty() const { return fields_.empty(); }
  std::span<const google::protobuf::FieldDescriptor* const> fields() const { return fields_; }
  const google::protobuf::FieldDescriptor& leaf() const { return *fields_.back(); }
  // As written ("nested.displayName"), for messages to the client.
  const std::string& name() const { return name_; }
  // In proto names ("nested.display_name").
  const std::string& canonical() const { return canonical_; }
  // True when the paths are equal or one lies inside the other: binding both is ambiguous.
  bool Overlaps(const FieldPath& other) const;

 private:
  friend class QueryBinder;
  FieldPath(std::vector<const google::protobuf::FieldDescriptor*> fields, std::string name);
  // Like Resolve; `unknown` tells a missing field apart from the other errors.
  static absl::StatusOr<FieldPath> Resolve(const google::protobuf::Descriptor& descriptor,
                                           std::string_view path, bool& unknown);

  std::vector<const google::protobuf::FieldDescriptor*> fields_;
  std::string name_;
  std::string canonical_;
};

// The one walker over resolved chains: follows `fields` (singular message fields) from `root` and
// returns the message reached. The const form reads unset messages as their defaults; the mutable
// form creates them.
const google::protobuf::Message& WalkFields(
    const google::protobuf::Message& root,
    std::span<const google::protobuf::FieldDescriptor* const> fields);
google::protobuf::Message& WalkFields(
    google::protobuf::Message& root,
    std::span<const google::protobuf::FieldDescriptor* const> fields);

// Sets the field at `path` (intermediate messages are created) from its text form:
//   - string: the text, which must be valid UTF-8; bytes: base64 as in JSON bodies (standard or
//     URL-safe alphabet, padding optional).
//   - integers of every kind: decimal, range-checked, nothing else around the digits.
//   - float, double: decimal or exponent notation, "NaN", "Infinity", "-Infinity".
//   - bool: "true" or "false". enum: a value name, or a number (any number for an open enum, a
//     declared one for a closed enum).
//   - google.protobuf.Timestamp: RFC 3339 as protobuf's JSON mapping reads it
//     ("2024-01-02T03:04:05.123Z", "...+01:00"; uppercase T and Z only); Duration: seconds with
//     up to 9 decimals and an "s" ("1.5s", "-3s"). The parsers are the JSON bodies' own
//     (gateway/json/well_known_text.hpp), so a value means the same in a URL and a body. The
//     wrappers (Int32Value, StringValue, BoolValue, ...): their value's text form; FieldMask:
//     comma-separated paths, lowerCamelCase segments converted to snake_case
//     ("user.displayName,email").
//   - The one URL-only step: in Timestamps and base64 a ' ' is read as '+' before parsing (an
//     unencoded '+' in a query string arrives as a space, and a space is never valid there).
// A repeated field gets one more element per call. Errors (naming the field as `path.name()`): a
// map or non-well-known message as the leaf, a value that does not convert, and a oneof member
// when another member of that oneof is set already.
absl::Status SetField(google::protobuf::Message& message, const FieldPath& path,
                      std::string_view value);

// Resolves `field_path` (FieldPath::Resolve) and sets it: for one-off use and tests; the gateway
// resolves its routes' paths at start-up.
absl::Status SetField(google::protobuf::Message& message, std::string_view field_path,
                      std::string_view value);

// Query parameters, decoded, in order.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// Parses a raw query string (without the '?'): "a=1&b=2&a=3". '+' means a space, %XX escapes are
// decoded, a key without '=' has an empty value, empty pairs ("&&") are skipped. Malformed
// percent-encoding or an empty key ("=1") is INVALID_ARGUMENT.
absl::StatusOr<QueryParameters> ParseQuery(std::string_view query);

// The query string of one route, resolved at start-up: every spelling (proto and json names) of
// every field path a parameter may name, up to kMaxResolvedDepth segments, maps to its resolved
// chain, and to the path or body field it would conflict with. A name not in the table (unknown,
// malformed, or deeper) is resolved on the spot, to bind it or to say what is wrong.
class QueryBinder {
 public:
  static constexpr std::size_t kMaxResolvedDepth = 4;

  // Binds nothing: every parameter is unknown.
  QueryBinder() = default;
  // `bound`: the fields the route binds from its path and body. `body_takes_all`: body "*".
  QueryBinder(const google::protobuf::Descriptor& request, std::vector<FieldPath> bound,
              bool body_takes_all);
  // Entries point into the binder: it moves, it does not copy.
  QueryBinder(QueryBinder&&) = default;
  QueryBinder& operator=(QueryBinder&&) = default;
  QueryBinder(const QueryBinder&) = delete;
  QueryBinder& operator=(const QueryBinder&) = delete;

  // Parses `query` and sets each parameter with SetField. INVALID_ARGUMENT for:
  //   - an unknown parameter: `unknown query parameter "foo"` (strict on purpose);
  //   - a parameter whose field is, is inside, or contains a bound field (binding it twice is
  //     ambiguous), or any parameter when the body takes every field;
  //   - a singular field given more than once;
  //   - anything ParseQuery or SetField rejects.
  absl::Status Bind(google::protobuf::Message& message, std::string_view query) const;

 private:
  struct Entry {
    const FieldPath* path = nullptr;
    const FieldPath* conflict = nullptr;  // the bound field it overlaps, if any
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>()(name);
    }
  };

  void AddPaths(const google::protobuf::Descriptor& type, std::string spelled,
                std::vector<const google::protobuf::FieldDescriptor*>& chain);
  absl::Status CheckAndSet(google::protobuf::Message& message, const FieldPath& path,
                           const FieldPath* conflict, std::string_view key, std::string_view value,
                           std::vector<const FieldPath*>& singular_seen) const;

  const google::protobuf::Descriptor* request_ = nullptr;
  std::vector<FieldPath> bound_;
  bool body_takes_all_ = false;
  std::deque<FieldPath> paths_;  // one per field path, shared by its spellings
  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> by_name_;
};

// A QueryBinder for `message`'s type with `bound_paths` resolved (unresolvable ones are ignored;
// "*" means the body takes every field), bound at once: for tests and one-off use.
absl::Status BindQuery(google::protobuf::Message& message, std::string_view query,
                       const std::vector<std::string>& bound_paths);

}  // namespace switchyard::gateway
