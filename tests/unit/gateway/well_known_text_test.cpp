#include "gateway/json/well_known_text.hpp"

#include <cstdint>
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/json/json_codec.hpp"
#include "gateway/routing/field_binding.hpp"
#include "switchyard/test/v1/echo_service.pb.h"

namespace switchyard::gateway {
namespace {

using ::switchyard::test::v1::EchoRequest;
using ::testing::HasSubstr;

// One value of a Timestamp, Duration or bytes field, read from a JSON body and from a query
// string: both must accept it and set the same message, or both reject it with the same problem.
struct TextCase {
  std::string field;    // an EchoRequest field
  std::string text;     // the value, as JSON would hold it and a query string would decode it to
  std::string problem;  // "" when accepted, else a part of both error messages
};

void PrintTo(const TextCase& c, std::ostream* out) { *out << c.field << "=" << c.text; }

// Percent-encodes everything but unreserved characters, as a careful client would.
std::string QueryEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= '0' && byte <= '9') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= 'a' && byte <= 'z') || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

class BodyAndQueryAgreeTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(BodyAndQueryAgreeTest, SameValueSameResult) {
  const TextCase& c = GetParam();
  EchoRequest from_body;
  const absl::Status body = ParseJsonBody("{\"" + c.field + "\": \"" + c.text + "\"}", from_body);
  EchoRequest from_query;
  const absl::Status query = BindQuery(from_query, c.field + "=" + QueryEncode(c.text), {});
  if (c.problem.empty()) {
    ASSERT_TRUE(body.ok()) << body;
    ASSERT_TRUE(query.ok()) << query;
    EXPECT_EQ(from_body.ShortDebugString(), from_query.ShortDebugString());
    return;
  }
  ASSERT_EQ(body.code(), absl::StatusCode::kInvalidArgument) << from_body.ShortDebugString();
  ASSERT_EQ(query.code(), absl::StatusCode::kInvalidArgument) << from_query.ShortDebugString();
  // Both name the field and word the problem alike.
  EXPECT_THAT(body.message(), HasSubstr("field \"" + c.field + "\""));
  EXPECT_THAT(query.message(), HasSubstr("field \"" + c.field + "\""));
  EXPECT_THAT(body.message(), HasSubstr(c.problem));
  EXPECT_THAT(query.message(), HasSubstr(c.problem));
}

constexpr char kNotTimestamp[] = "is not an RFC 3339 timestamp";
constexpr char kUppercase[] = "(uppercase T and Z";
constexpr char kTimestampRange[] = "is outside the range of a timestamp";
constexpr char kNotDuration[] = "is not a duration";
constexpr char kDurationRange[] = "is outside the range of a duration";
constexpr char kNotBase64[] = "is not valid base64";

INSTANTIATE_TEST_SUITE_P(
    Timestamps, BodyAndQueryAgreeTest,
    ::testing::Values(TextCase{"timestamp", "2024-01-02T03:04:05Z", ""},
                      TextCase{"timestamp", "2024-01-02T03:04:05.123456789Z", ""},
                      TextCase{"timestamp", "2024-01-02T03:04:05+01:00", ""},
                      TextCase{"timestamp", "2024-01-02T03:04:05-01:30", ""},
                      TextCase{"timestamp", "0001-01-01T00:00:00Z", ""},
                      TextCase{"timestamp", "9999-12-31T23:59:59.999999999Z", ""},
                      TextCase{"timestamp", "2024-02-29T00:00:00Z", ""},
                      // Lowercase t and z: RFC 3339 allows them, protobuf's JSON mapping does not.
                      TextCase{"timestamp", "2024-01-02t03:04:05z", kUppercase},
                      TextCase{"timestamp", "2024-01-02t03:04:05Z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02 03:04:05Z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05.Z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05.1234567890Z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05+24:00", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T03:04:05+0100", kNotTimestamp},
                      TextCase{"timestamp", "2023-02-29T00:00:00Z", kNotTimestamp},
                      TextCase{"timestamp", "2024-01-02T24:00:00Z", kNotTimestamp},
                      TextCase{"timestamp", "0000-06-01T00:00:00Z", kTimestampRange},
                      TextCase{"timestamp", "0001-01-01T00:00:00+01:00", kTimestampRange},
                      TextCase{"timestamp", "9999-12-31T23:59:59-00:01", kTimestampRange}));

INSTANTIATE_TEST_SUITE_P(
    Durations, BodyAndQueryAgreeTest,
    ::testing::Values(TextCase{"duration", "1.5s", ""}, TextCase{"duration", "-3s", ""},
                      TextCase{"duration", "-0.5s", ""}, TextCase{"duration", "0.000000001s", ""},
                      TextCase{"duration", "315576000000.999999999s", ""},
                      TextCase{"duration", "1.5S", kNotDuration},
                      TextCase{"duration", "+1s", kNotDuration},
                      TextCase{"duration", "1.s", kNotDuration},
                      TextCase{"duration", ".5s", kNotDuration},
                      TextCase{"duration", "1", kNotDuration},
                      TextCase{"duration", "1.0000000001s", kNotDuration},
                      TextCase{"duration", "315576000001s", kDurationRange},
                      TextCase{"duration", "99999999999999999999s", kDurationRange}));

INSTANTIATE_TEST_SUITE_P(
    Bytes, BodyAndQueryAgreeTest,
    ::testing::Values(TextCase{"single_bytes", "aGk=", ""}, TextCase{"single_bytes", "aGk", ""},
                      TextCase{"single_bytes", "+/8=", ""}, TextCase{"single_bytes", "-_8", ""},
                      TextCase{"bytes_value", "AQI=", ""},
                      TextCase{"single_bytes", "+_8=", kNotBase64},  // two alphabets
                      TextCase{"single_bytes", "aGk==", kNotBase64},
                      TextCase{"single_bytes", "aG=k", kNotBase64},
                      TextCase{"single_bytes", "a", kNotBase64},
                      TextCase{"single_bytes", "aGk*", kNotBase64},
                      TextCase{"bytes_value", "!", kNotBase64}));

// The query string's one step of its own: an unencoded '+' arrives as a space and is read back
// as '+' in a Timestamp offset or base64.
TEST(QueryTextTest, UnencodedPlusReadsAsPlus) {
  EchoRequest request;
  ASSERT_TRUE(BindQuery(request, "timestamp=2024-01-02T03:04:05+01:00&single_bytes=+/8=", {}).ok());
  EXPECT_EQ(request.timestamp().seconds(), 1704161045);
  EXPECT_EQ(request.single_bytes(), "\xfb\xff");
}

TEST(QueryTextTest, LowercaseTimestampIsA400NamingTheField) {
  EchoRequest request;
  EXPECT_EQ(BindQuery(request, "timestamp=2024-01-02t03:04:05z", {}).message(),
            "invalid value for field \"timestamp\": \"2024-01-02t03:04:05z\" is not an RFC 3339 "
            "timestamp such as \"2024-01-02T03:04:05.5Z\" (uppercase T and Z, or an offset such as "
            "+01:00; up to 9 fractional digits)");
}

}  // namespace
}  // namespace switchyard::gateway
