#pragma once

// The text forms protobuf's JSON mapping gives google.protobuf.Timestamp, google.protobuf.Duration
// and bytes. One parser each, shared by JSON bodies (gateway/json/json_codec) and by path and query
// binding (gateway/routing/field_binding), so a value is read by the same rules wherever it comes
// from; the printers are the JSON encoder's.

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::gateway {

// Why a parser rejected its text.
enum class TextFormError {
  kNone,
  kSyntax,  // not of the form
  kRange,   // of the form, but outside what the type holds
};

// RFC 3339 as protobuf's JSON mapping reads it: "2024-01-02T03:04:05Z", "...05.123456789Z",
// "...05+01:00": uppercase 'T' and 'Z' only, 0 to 9 fractional digits, an offset of at most
// 23:59; after the offset, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z (kRange past
// it).
TextFormError ParseTimestamp(std::string_view text, std::int64_t& seconds, std::int32_t& nanos);
// Appends the UTC form with 0, 3, 6 or 9 fractional digits. False when out of range.
bool FormatTimestamp(std::int64_t seconds, std::int32_t nanos, std::string& out);

// Seconds with up to 9 fractional digits and a lowercase 's': "1.5s", "-3s", "0.000000001s";
// within +-315576000000 seconds (kRange past it).
TextFormError ParseDuration(std::string_view text, std::int64_t& seconds, std::int32_t& nanos);
// Appends e.g. "1.500s"; seconds and nanos of opposite signs are normalised. False when out of
// range.
bool FormatDuration(std::int64_t seconds, std::int32_t nanos, std::string& out);

// The standard or the URL-safe alphabet (not both in one value), padding optional but complete
// when present. Appends the bytes to `out`; false on anything else.
bool Base64Decode(std::string_view text, std::string& out);
// Appends the standard, padded encoding.
void Base64Encode(std::string_view bytes, std::string& out);

// What is wrong with a rejected value, for the client: `shown` is the value as the error message
// shows it (quoted, escaped, shortened), e.g. `"2024-01-02t03:04:05z" is not an RFC 3339
// timestamp such as ...`. The JSON and URL paths both word their errors with these.
std::string TimestampProblem(std::string_view shown, TextFormError error);
std::string DurationProblem(std::string_view shown, TextFormError error);
std::string Base64Problem(std::string_view shown);

}  // namespace switchyard::gateway
