#include "gateway/routing/field_binding.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "switchyard/test/v1/closed_enum.pb.h"
#include "switchyard/test/v1/echo_service.pb.h"

namespace switchyard::gateway {
namespace {

using ::switchyard::test::v1::ClosedEnumRequest;
using ::switchyard::test::v1::EchoRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The message `text` (text format) would parse into, printed: comparing prints of two messages
// keeps the expectations readable and independent of float formatting.
std::string Canonical(const std::string& text) {
  EchoRequest expected;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &expected)) << text;
  return expected.ShortDebugString();
}

// --- SetField: values ----------------------------------------------------------------------------

struct SetCase {
  std::string path;
  std::string value;
  std::string expected;  // the whole request afterwards, in text format
};

void PrintTo(const SetCase& c, std::ostream* os) { *os << c.path << "=" << c.value; }

class SetFieldValueTest : public ::testing::TestWithParam<SetCase> {};

TEST_P(SetFieldValueTest, ConvertsTextToTheFieldType) {
  const SetCase& c = GetParam();
  EchoRequest request;
  const absl::Status status = SetField(request, c.path, c.value);
  ASSERT_TRUE(status.ok()) << c.path << "=" << c.value << ": " << status;
  EXPECT_EQ(request.ShortDebugString(), Canonical(c.expected)) << c.path << "=" << c.value;
}

INSTANTIATE_TEST_SUITE_P(
    Scalars, SetFieldValueTest,
    ::testing::Values(
        SetCase{"single_double", "1.5", "single_double: 1.5"},
        SetCase{"single_double", "-2e-3", "single_double: -0.002"},
        SetCase{"single_double", ".5", "single_double: 0.5"},
        SetCase{"single_double", "1E2", "single_double: 100"},
        SetCase{"single_double", "NaN", "single_double: nan"},
        SetCase{"single_double", "Infinity", "single_double: inf"},
        SetCase{"single_double", "-Infinity", "single_double: -inf"},
        SetCase{"single_float", "1.25", "single_float: 1.25"},
        SetCase{"single_float", "-Infinity", "single_float: -inf"},
        SetCase{"single_int32", "-2147483648", "single_int32: -2147483648"},
        SetCase{"single_int32", "2147483647", "single_int32: 2147483647"},
        SetCase{"single_int32", "007", "single_int32: 7"},
        SetCase{"single_int64", "-9223372036854775808", "single_int64: -9223372036854775808"},
        SetCase{"single_int64", "9223372036854775807", "single_int64: 9223372036854775807"},
        SetCase{"single_uint32", "4294967295", "single_uint32: 4294967295"},
        SetCase{"single_uint64", "18446744073709551615", "single_uint64: 18446744073709551615"},
        SetCase{"single_sint32", "-5", "single_sint32: -5"},
        SetCase{"single_sint64", "-5", "single_sint64: -5"},
        SetCase{"single_fixed32", "4294967295", "single_fixed32: 4294967295"},
        SetCase{"single_fixed64", "5", "single_fixed64: 5"},
        SetCase{"single_sfixed32", "-5", "single_sfixed32: -5"},
        SetCase{"single_sfixed64", "-5", "single_sfixed64: -5"},
        SetCase{"single_bool", "true", "single_bool: true"}, SetCase{"single_bool", "false", ""},
        SetCase{"single_string", "hello world", "single_string: \"hello world\""},
        SetCase{"single_string", "", ""}, SetCase{"single_bytes", "aGk=", "single_bytes: \"hi\""},
        SetCase{"single_bytes", "aGk", "single_bytes: \"hi\""},
        SetCase{"single_bytes", "aGVsbG8gd29ybGQ=", "single_bytes: \"hello world\""},
        SetCase{"single_bytes", "+/8=", "single_bytes: \"\\373\\377\""},
        SetCase{"single_bytes", "-_8", "single_bytes: \"\\373\\377\""},
        SetCase{"single_bytes", " /8", "single_bytes: \"\\373\\377\""},  // '+' sent unencoded
        SetCase{"color", "COLOR_RED", "color: COLOR_RED"},
        SetCase{"color", "2", "color: COLOR_GREEN"},
        // Open enum: any number is kept.
        SetCase{"color", "7", "color: 7"}, SetCase{"color", "-1", "color: -1"}));

INSTANTIATE_TEST_SUITE_P(
    NamesAndNesting, SetFieldValueTest,
    ::testing::Values(SetCase{"singleInt32", "5", "single_int32: 5"},
                      SetCase{"aliased", "x", "aliased: \"x\""},
                      SetCase{"otherName", "x", "aliased: \"x\""},
                      SetCase{"optional_int32", "0", "optional_int32: 0"},
                      SetCase{"nested.id", "n1", "nested { id: \"n1\" }"},
                      SetCase{"nested.displayName", "x", "nested { display_name: \"x\" }"},
                      SetCase{"nested.inner.id", "x", "nested { inner { id: \"x\" } }"},
                      SetCase{"nested.inner.color", "COLOR_GREEN",
                              "nested { inner { color: COLOR_GREEN } }"},
                      SetCase{"nested.tags", "t", "nested { tags: \"t\" }"},
                      SetCase{"choice_inner.level", "3", "choice_inner { level: 3 }"},
                      SetCase{"payload.count", "-9", "payload { count: -9 }"},
                      // Fields of well-known types are message fields like any other.
                      SetCase{"timestamp.seconds", "5", "timestamp { seconds: 5 }"}));

INSTANTIATE_TEST_SUITE_P(
    Timestamps, SetFieldValueTest,
    ::testing::Values(
        SetCase{"timestamp", "2024-01-02T03:04:05Z", "timestamp { seconds: 1704164645 }"},
        SetCase{"timestamp", "2024-01-02T03:04:05.123Z",
                "timestamp { seconds: 1704164645 nanos: 123000000 }"},
        SetCase{"timestamp", "2024-01-02T03:04:05.000000001Z",
                "timestamp { seconds: 1704164645 nanos: 1 }"},
        SetCase{"timestamp", "2024-01-02T03:04:05+01:00", "timestamp { seconds: 1704161045 }"},
        SetCase{"timestamp", "2024-01-02T03:04:05 01:00", "timestamp { seconds: 1704161045 }"},
        SetCase{"timestamp", "2024-01-02T03:04:05-01:30", "timestamp { seconds: 1704170045 }"},
        SetCase{"timestamp", "2024-02-29T00:00:00Z", "timestamp { seconds: 1709164800 }"},
        SetCase{"timestamp", "1970-01-01T00:00:00Z", "timestamp { }"},
        SetCase{"timestamp", "1969-12-31T23:59:59.5Z",
                "timestamp { seconds: -1 nanos: 500000000 }"},
        SetCase{"timestamp", "0001-01-01T00:00:00Z", "timestamp { seconds: -62135596800 }"},
        SetCase{"timestamp", "9999-12-31T23:59:59.999999999Z",
                "timestamp { seconds: 253402300799 nanos: 999999999 }"}));

INSTANTIATE_TEST_SUITE_P(
    Durations, SetFieldValueTest,
    ::testing::Values(SetCase{"duration", "1.5s", "duration { seconds: 1 nanos: 500000000 }"},
                      SetCase{"duration", "-3s", "duration { seconds: -3 }"},
                      SetCase{"duration", "-0.5s", "duration { nanos: -500000000 }"},
                      SetCase{"duration", "0s", "duration { }"},
                      SetCase{"duration", "0.000000001s", "duration { nanos: 1 }"},
                      SetCase{"duration", "315576000000.999999999s",
                              "duration { seconds: 315576000000 nanos: 999999999 }"},
                      SetCase{"duration", "-315576000000s",
                              "duration { seconds: -315576000000 }"}));

INSTANTIATE_TEST_SUITE_P(
    Wrappers, SetFieldValueTest,
    ::testing::Values(SetCase{"double_value", "NaN", "double_value { value: nan }"},
                      SetCase{"float_value", "1.5", "float_value { value: 1.5 }"},
                      SetCase{"int64_value", "-9", "int64_value { value: -9 }"},
                      SetCase{"uint64_value", "18446744073709551615",
                              "uint64_value { value: 18446744073709551615 }"},
                      SetCase{"int32_value", "0", "int32_value { }"},
                      SetCase{"uint32_value", "7", "uint32_value { value: 7 }"},
                      SetCase{"bool_value", "false", "bool_value { }"},
                      SetCase{"bool_value", "true", "bool_value { value: true }"},
                      SetCase{"string_value", "", "string_value { }"},
                      SetCase{"stringValue", "s", "string_value { value: \"s\" }"},
                      SetCase{"bytes_value", "aGk", "bytes_value { value: \"hi\" }"}));

INSTANTIATE_TEST_SUITE_P(
    FieldMasks, SetFieldValueTest,
    ::testing::Values(SetCase{"field_mask", "", "field_mask { }"},
                      SetCase{"field_mask", "name", "field_mask { paths: \"name\" }"},
                      SetCase{"field_mask", "displayName,address.zipCode,user_id",
                              "field_mask { paths: \"display_name\" paths: \"address.zip_code\" "
                              "paths: \"user_id\" }"},
                      SetCase{"fieldMask", "aBC", "field_mask { paths: \"a_b_c\" }"}));

// --- SetField: errors ----------------------------------------------------------------------------

struct ErrorCase {
  std::string path;
  std::string value;
  std::string message;  // a part of the error message
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.path << "=" << c.value; }

class SetFieldErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SetFieldErrorTest, RejectsWithInvalidArgumentAndChangesNothing) {
  const ErrorCase& c = GetParam();
  EchoRequest request;
  const absl::Status status = SetField(request, c.path, c.value);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.path << "=" << c.value;
  EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.path << "=" << c.value;
  EXPECT_EQ(request.ByteSizeLong(), 0u) << request.ShortDebugString();
}

INSTANTIATE_TEST_SUITE_P(
    Numbers, SetFieldErrorTest,
    ::testing::Values(
        ErrorCase{"single_int32", "abc", "\"abc\" is not an int32"},
        ErrorCase{"single_int32", "", "\"\" is not an int32"},
        ErrorCase{"single_int32", "1.0", "is not an int32"},
        ErrorCase{"single_int32", "+1", "is not an int32"},
        ErrorCase{"single_int32", " 1", "is not an int32"},
        ErrorCase{"single_int32", "1 ", "is not an int32"},
        ErrorCase{"single_int32", "0x10", "is not an int32"},
        ErrorCase{"single_int32", "1e3", "is not an int32"},
        ErrorCase{"single_int32", "2147483648", "\"2147483648\" is out of range for int32"},
        ErrorCase{"single_int32", "-2147483649", "is out of range for int32"},
        ErrorCase{"single_int64", "9223372036854775808", "is out of range for int64"},
        ErrorCase{"single_int64", "-9223372036854775809", "is out of range for int64"},
        ErrorCase{"single_uint32", "4294967296", "is out of range for uint32"},
        ErrorCase{"single_uint32", "-1", "is not a uint32"},
        ErrorCase{"single_uint64", "18446744073709551616", "is out of range for uint64"},
        ErrorCase{"single_sint32", "x", "is not an sint32"},
        ErrorCase{"single_sint64", "99999999999999999999", "is out of range for sint64"},
        ErrorCase{"single_fixed32", "-1", "is not a fixed32"},
        ErrorCase{"single_fixed64", "x", "is not a fixed64"},
        ErrorCase{"single_sfixed32", "2147483648", "is out of range for sfixed32"},
        ErrorCase{"single_sfixed64", "x", "is not an sfixed64"},
        ErrorCase{"single_double", "1e309", "is out of range for double"},
        ErrorCase{"single_double", "nan", "is not a double"},
        ErrorCase{"single_double", "inf", "is not a double"},
        ErrorCase{"single_double", "-infinity", "is not a double"},
        ErrorCase{"single_double", "1.5x", "is not a double"},
        ErrorCase{"single_double", "", "is not a double"},
        ErrorCase{"single_double", "-", "is not a double"},
        ErrorCase{"single_double", "0x1p3", "is not a double"},
        ErrorCase{"single_float", "3.5e38", "is out of range for float"},
        ErrorCase{"int32_value", "x", "is not an int32"},
        ErrorCase{"uint64_value", "-1", "is not a uint64"},
        ErrorCase{"float_value", "1e39", "is out of range for float"}));

INSTANTIATE_TEST_SUITE_P(
    OtherScalars, SetFieldErrorTest,
    ::testing::Values(
        ErrorCase{"single_bool", "True", "\"True\" is not a bool (true or false)"},
        ErrorCase{"single_bool", "1", "is not a bool"},
        ErrorCase{"single_bool", "", "is not a bool"},
        ErrorCase{"bool_value", "yes", "is not a bool"},
        ErrorCase{"single_string", "\xff", "not valid UTF-8"},
        ErrorCase{"single_string", "\xC0\xAF", "not valid UTF-8"},          // overlong '/'
        ErrorCase{"single_string", "\xED\xA0\x80", "not valid UTF-8"},      // a surrogate
        ErrorCase{"single_string", "\xF4\x90\x80\x80", "not valid UTF-8"},  // above U+10FFFF
        ErrorCase{"single_string", "ab\xE2\x82", "not valid UTF-8"},        // truncated
        ErrorCase{"string_value", "\x80", "not valid UTF-8"},
        ErrorCase{"single_bytes", "a", "\"a\" is not valid base64"},
        ErrorCase{"single_bytes", "aGk==", "is not valid base64"},
        ErrorCase{"single_bytes", "aG=k", "is not valid base64"},
        ErrorCase{"single_bytes", "+_8=", "is not valid base64"},  // mixed alphabets
        ErrorCase{"single_bytes", "aGk*", "is not valid base64"},
        ErrorCase{"bytes_value", "!", "is not valid base64"},
        ErrorCase{"color", "PURPLE", "\"PURPLE\" is not a value of enum switchyard.test.v1.Color"},
        ErrorCase{"color", "color_red", "is not a value of enum"},
        ErrorCase{"color", "2147483648", "is not a value of enum"},
        ErrorCase{"color", "", "is not a value of enum"}));

INSTANTIATE_TEST_SUITE_P(
    WellKnownTypes, SetFieldErrorTest,
    ::testing::Values(
        ErrorCase{"timestamp", "2024-01-02", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-1-02T03:04:05Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02 03:04:05Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05.Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05.1234567891Z", "is not an RFC 3339"},
        ErrorCase{"timestamp", "2024-13-02T03:04:05Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2023-02-29T03:04:05Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T24:00:00Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:60:00Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:60Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05+1:00", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05+01:60", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05+0100", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05Zjunk", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", " 2024-01-02T03:04:05Z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "2024-01-02t03:04:05z", "(uppercase T and Z"},
        ErrorCase{"timestamp", "2024-01-02T03:04:05z", "is not an RFC 3339 timestamp"},
        ErrorCase{"timestamp", "0001-01-01T00:00:00+01:00", "outside the range of a timestamp"},
        ErrorCase{"timestamp", "9999-12-31T23:59:59-00:01", "outside the range of a timestamp"},
        ErrorCase{"timestamp", "0000-06-01T00:00:00Z", "outside the range of a timestamp"},
        ErrorCase{"duration", "1", "is not a duration"},
        ErrorCase{"duration", "s", "is not a duration"},
        ErrorCase{"duration", "1.s", "is not a duration"},
        ErrorCase{"duration", ".5s", "is not a duration"},
        ErrorCase{"duration", "+1s", "is not a duration"},
        ErrorCase{"duration", "1e3s", "is not a duration"},
        ErrorCase{"duration", "1S", "is not a duration"},
        ErrorCase{"duration", " 1s", "is not a duration"},
        ErrorCase{"duration", "--1s", "is not a duration"},
        ErrorCase{"duration", "1.0000000001s", "is not a duration"},
        ErrorCase{"duration", "315576000001s", "outside the range of a duration"},
        ErrorCase{"duration", "99999999999999999999s", "outside the range of a duration"},
        ErrorCase{"field_mask", "a,,b", "is not a field mask"},
        ErrorCase{"field_mask", "a,", "is not a field mask"},
        ErrorCase{"field_mask", "a.", "is not a field mask"},
        ErrorCase{"field_mask", "a b", "is not a field mask"},
        ErrorCase{"field_mask", "1a", "is not a field mask"},
        ErrorCase{"field_mask", "fooBar_baz", "is not a field mask"}));

INSTANTIATE_TEST_SUITE_P(
    Paths, SetFieldErrorTest,
    ::testing::Values(
        ErrorCase{"bogus", "1", "unknown field \"bogus\""},
        ErrorCase{"nested.bogus", "1", "unknown field \"nested.bogus\""},
        ErrorCase{"other_name", "1", "unknown field \"other_name\""},
        ErrorCase{"SingleInt32", "1", "unknown field \"SingleInt32\""},
        ErrorCase{"", "1", "invalid field path \"\""},
        ErrorCase{"nested..id", "1", "invalid field path \"nested..id\""},
        ErrorCase{"nested.", "1", "invalid field path"},
        ErrorCase{".nested", "1", "invalid field path"},
        ErrorCase{"single_int32.x", "1", "\"single_int32\" is not a message"},
        ErrorCase{"repeated_nested.id", "1", "\"repeated_nested\" is a repeated field"},
        ErrorCase{"labels.key", "1", "\"labels\" is a map field"},
        ErrorCase{"labels", "a", "field \"labels\" is a map"},
        ErrorCase{"nested", "x",
                  "field \"nested\" is a message (switchyard.test.v1.Nested) and cannot be set "
                  "from text: set its fields instead, e.g. \"nested.id\""},
        ErrorCase{"repeated_nested", "x", "is a message"},
        ErrorCase{"nested.inner", "x", "is a message"},
        // A failed conversion deep down creates no intermediate message.
        ErrorCase{"nested.inner.level", "abc", "field \"nested.inner.level\""}));

TEST(SetFieldTest, ErrorMessagesNameTheFieldAsWritten) {
  EchoRequest request;
  EXPECT_EQ(SetField(request, "single_int32", "abc").message(),
            "invalid value for field \"single_int32\": \"abc\" is not an int32");
  EXPECT_EQ(SetField(request, "singleInt32", "3000000000").message(),
            "invalid value for field \"singleInt32\": \"3000000000\" is out of range for int32");
  EXPECT_EQ(SetField(request, "foo", "1").message(), "unknown field \"foo\"");
}

TEST(SetFieldTest, ErrorMessagesEscapeAndTruncateTheValue) {
  EchoRequest request;
  const std::string value = "\x01\"\\\xff" + std::string(100, 'x');
  const absl::Status status = SetField(request, "single_int32", value);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"\\x01\\\"\\\\\\xff" + std::string(60, 'x') + "...\""));
  EXPECT_EQ(status.message().find('\xff'), std::string::npos);
  EXPECT_LT(status.message().size(), 140u);
}

TEST(SetFieldTest, NonAsciiStringsAreKeptAsUtf8) {
  EchoRequest request;
  ASSERT_TRUE(SetField(request, "single_string", "caf\xC3\xA9 \xF0\x9F\x9A\x82").ok());
  EXPECT_EQ(request.single_string(), "caf\xC3\xA9 \xF0\x9F\x9A\x82");
  ASSERT_TRUE(SetField(request, "single_string", std::string("a\0b", 3)).ok());
  EXPECT_EQ(request.single_string(), std::string("a\0b", 3));
}

TEST(SetFieldTest, FloatAcceptsItsLargestValueAsPrinted) {
  EchoRequest request;
  ASSERT_TRUE(SetField(request, "single_float", "3.4028235e38").ok());
  EXPECT_EQ(request.single_float(), std::numeric_limits<float>::max());
  ASSERT_TRUE(SetField(request, "single_double", "NaN").ok());
  EXPECT_TRUE(std::isnan(request.single_double()));
}

TEST(SetFieldTest, RepeatedFieldsAppendOneElementPerCall) {
  EchoRequest request;
  ASSERT_TRUE(SetField(request, "repeated_int32", "1").ok());
  ASSERT_TRUE(SetField(request, "repeatedInt32", "2").ok());
  ASSERT_TRUE(SetField(request, "repeated_string", "a").ok());
  ASSERT_TRUE(SetField(request, "repeated_string", "").ok());
  ASSERT_TRUE(SetField(request, "repeated_color", "COLOR_RED").ok());
  ASSERT_TRUE(SetField(request, "repeated_color", "2").ok());
  ASSERT_TRUE(SetField(request, "repeated_double", "Infinity").ok());
  ASSERT_TRUE(SetField(request, "repeated_bytes", "aGk").ok());
  ASSERT_TRUE(SetField(request, "repeated_timestamp", "1970-01-01T00:00:01Z").ok());
  ASSERT_TRUE(SetField(request, "repeated_timestamp", "1970-01-01T00:00:02Z").ok());
  ASSERT_TRUE(SetField(request, "nested.tags", "t1").ok());
  ASSERT_TRUE(SetField(request, "nested.tags", "t2").ok());
  // A value that does not convert adds nothing.
  EXPECT_EQ(SetField(request, "repeated_int32", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetField(request, "repeated_timestamp", "x").code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_THAT(request.repeated_int32(), ElementsAre(1, 2));
  EXPECT_THAT(request.repeated_string(), ElementsAre("a", ""));
  EXPECT_THAT(request.repeated_color(), ElementsAre(test::v1::COLOR_RED, test::v1::COLOR_GREEN));
  EXPECT_THAT(request.repeated_double(), ElementsAre(std::numeric_limits<double>::infinity()));
  EXPECT_THAT(request.repeated_bytes(), ElementsAre("hi"));
  ASSERT_EQ(request.repeated_timestamp_size(), 2);
  EXPECT_EQ(request.repeated_timestamp(0).seconds(), 1);
  EXPECT_EQ(request.repeated_timestamp(1).seconds(), 2);
  EXPECT_THAT(request.nested().tags(), ElementsAre("t1", "t2"));
}

TEST(SetFieldTest, SingularFieldIsOverwritten) {
  EchoRequest request;
  ASSERT_TRUE(SetField(request, "single_int32", "1").ok());
  ASSERT_TRUE(SetField(request, "single_int32", "2").ok());
  ASSERT_TRUE(SetField(request, "field_mask", "a,b").ok());
  ASSERT_TRUE(SetField(request, "field_mask", "c").ok());
  EXPECT_EQ(request.single_int32(), 2);
  EXPECT_THAT(request.field_mask().paths(), ElementsAre("c"));
}

TEST(SetFieldTest, OneofMemberCannotReplaceAnotherOne) {
  EchoRequest request;
  ASSERT_TRUE(SetField(request, "choice_text", "a").ok());
  ASSERT_TRUE(SetField(request, "choiceText", "b").ok());  // the same member again
  const absl::Status number = SetField(request, "choice_number", "1");
  EXPECT_EQ(number.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(number.message(),
            "field \"choice_number\" cannot be set: field \"choice_text\" of the same oneof "
            "(\"choice\") is set already");
  EXPECT_EQ(SetField(request, "choice_inner.id", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.choice_text(), "b");

  EchoRequest inner;
  ASSERT_TRUE(SetField(inner, "choice_inner.id", "x").ok());
  ASSERT_TRUE(SetField(inner, "choice_inner.level", "2").ok());
  EXPECT_EQ(SetField(inner, "choice_text", "a").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inner.choice_inner().level(), 2);
}

TEST(SetFieldTest, ClosedEnumAcceptsDeclaredNumbersOnly) {
  ClosedEnumRequest request;
  ASSERT_TRUE(SetField(request, "size", "SIZE_LARGE").ok());
  EXPECT_EQ(request.size(), test::v1::SIZE_LARGE);
  ASSERT_TRUE(SetField(request, "size", "1").ok());
  EXPECT_EQ(request.size(), test::v1::SIZE_SMALL);
  const absl::Status undeclared = SetField(request, "size", "3");
  EXPECT_EQ(undeclared.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(undeclared.message(), HasSubstr("is not a value of enum switchyard.test.v1.Size"));
  EXPECT_EQ(SetField(request, "sizes", "0").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(SetField(request, "sizes", "2").ok());
  EXPECT_THAT(request.sizes(), ElementsAre(test::v1::SIZE_LARGE));
}

// --- FieldPath and WalkFields --------------------------------------------------------------------

TEST(FieldPathTest, ResolvesToTheFieldsAndTheirProtoNames) {
  const auto path = FieldPath::Resolve(*EchoRequest::descriptor(), "nested.inner.id");
  ASSERT_TRUE(path.ok()) << path.status();
  ASSERT_EQ(path->fields().size(), 3u);
  EXPECT_EQ(path->fields()[0]->name(), "nested");
  EXPECT_EQ(path->leaf().full_name(), "switchyard.test.v1.Inner.id");
  EXPECT_EQ(path->canonical(), "nested.inner.id");

  const auto aliased = FieldPath::Resolve(*EchoRequest::descriptor(), "nested.displayName");
  ASSERT_TRUE(aliased.ok()) << aliased.status();
  EXPECT_EQ(aliased->name(), "nested.displayName");
  EXPECT_EQ(aliased->canonical(), "nested.display_name");

  // A repeated or map field may be the leaf (body: "repeated_nested" is legal).
  EXPECT_TRUE(FieldPath::Resolve(*EchoRequest::descriptor(), "repeated_nested").ok());
  EXPECT_EQ(FieldPath::Resolve(*EchoRequest::descriptor(), "nested.x").status().message(),
            "unknown field \"nested.x\"");
  EXPECT_EQ(FieldPath::Resolve(*EchoRequest::descriptor(), "repeated_nested.id").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FieldPathTest, OverlapsWhenEqualOrOneHoldsTheOther) {
  const auto resolve = [](std::string_view text) {
    return *FieldPath::Resolve(*EchoRequest::descriptor(), text);
  };
  EXPECT_TRUE(resolve("nested.id").Overlaps(resolve("nested.id")));
  EXPECT_TRUE(resolve("nested").Overlaps(resolve("nested.inner.level")));
  EXPECT_TRUE(resolve("nested.inner.level").Overlaps(resolve("nested")));
  EXPECT_TRUE(resolve("nested.displayName").Overlaps(resolve("nested.display_name")));
  EXPECT_FALSE(resolve("nested.id").Overlaps(resolve("nested.display_name")));
  EXPECT_FALSE(resolve("payload").Overlaps(resolve("nested")));
  EXPECT_FALSE(FieldPath().Overlaps(resolve("nested")));
}

TEST(WalkFieldsTest, ReadsDefaultsAndCreatesOnlyWhenMutable) {
  const auto path = *FieldPath::Resolve(*EchoRequest::descriptor(), "nested.inner.level");
  const auto parents = path.fields().first(2);
  EchoRequest request;
  const google::protobuf::Message& read = WalkFields(std::as_const(request), parents);
  EXPECT_EQ(&read, &switchyard::test::v1::Inner::default_instance());
  EXPECT_FALSE(request.has_nested());

  google::protobuf::Message& written = WalkFields(request, parents);
  EXPECT_EQ(&written, request.mutable_nested()->mutable_inner());
  EXPECT_EQ(&WalkFields(request, {}), &request);  // no fields: the root itself
  ASSERT_TRUE(SetField(request, path, "4").ok());
  EXPECT_EQ(request.nested().inner().level(), 4);
}

// --- ParseQuery ----------------------------------------------------------------------------------

struct QueryCase {
  std::string query;
  QueryParameters parameters;
};

void PrintTo(const QueryCase& c, std::ostream* os) { *os << "\"" << c.query << "\""; }

class ParseQueryTableTest : public ::testing::TestWithParam<QueryCase> {};

TEST_P(ParseQueryTableTest, SplitsAndDecodes) {
  const QueryCase& c = GetParam();
  const absl::StatusOr<QueryParameters> parameters = ParseQuery(c.query);
  ASSERT_TRUE(parameters.ok()) << parameters.status();
  EXPECT_EQ(*parameters, c.parameters);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseQueryTableTest,
    ::testing::Values(QueryCase{"", {}}, QueryCase{"a=1", {{"a", "1"}}},
                      QueryCase{"a=1&b=2&a=3", {{"a", "1"}, {"b", "2"}, {"a", "3"}}},
                      QueryCase{"a+b=c+d", {{"a b", "c d"}}},
                      QueryCase{"a=%41%2b%2F%20", {{"a", "A+/ "}}},
                      QueryCase{"n%2Ee=1", {{"n.e", "1"}}}, QueryCase{"a", {{"a", ""}}},
                      QueryCase{"a=", {{"a", ""}}}, QueryCase{"a=b=c", {{"a", "b=c"}}},
                      QueryCase{"&&a=1&&b&", {{"a", "1"}, {"b", ""}}}, QueryCase{"&", {}},
                      QueryCase{"a=%C3%A9", {{"a", "\xC3\xA9"}}}));

TEST(ParseQueryTest, RejectsMalformedEncodingAndEmptyNames) {
  for (const char* query : {"a=%zz", "a=%4", "%=1", "ok=1&b=%G0", "=1", "a=1&=2"}) {
    const absl::StatusOr<QueryParameters> parameters = ParseQuery(query);
    EXPECT_EQ(parameters.status().code(), absl::StatusCode::kInvalidArgument) << query;
  }
  EXPECT_THAT(ParseQuery("b=1&a=%zz").status().message(),
              HasSubstr("malformed percent-encoding in query parameter \"a\""));
}

// --- BindQuery -----------------------------------------------------------------------------------

TEST(BindQueryTest, BindsEveryKindOfField) {
  EchoRequest request;
  const absl::Status status = BindQuery(
      request,
      "singleInt32=5&repeated_int32=1&repeated_int32=2&nested.inner.id=x%20y&color=COLOR_RED"
      "&timestamp=2024-01-02T03:04:05Z&duration=1.5s&int32_value=7&fieldMask=a.bC,d"
      "&single_string=a+b%2Bc&single_bool=true&repeated_color=1&repeated_color=COLOR_GREEN",
      {});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.ShortDebugString(),
            Canonical("single_int32: 5 repeated_int32: [1, 2] nested { inner { id: \"x y\" } } "
                      "color: COLOR_RED timestamp { seconds: 1704164645 } "
                      "duration { seconds: 1 nanos: 500000000 } int32_value { value: 7 } "
                      "field_mask { paths: \"a.b_c\" paths: \"d\" } single_string: \"a b+c\" "
                      "single_bool: true repeated_color: [COLOR_RED, COLOR_GREEN]"));
}

TEST(BindQueryTest, EmptyQueryBindsNothing) {
  EchoRequest request;
  ASSERT_TRUE(BindQuery(request, "", {"*"}).ok());
  ASSERT_TRUE(BindQuery(request, "&&", {}).ok());
  EXPECT_EQ(request.ByteSizeLong(), 0u);
}

TEST(BindQueryTest, UnencodedPlusInATimestampOffsetStillParses) {
  EchoRequest request;
  ASSERT_TRUE(BindQuery(request, "timestamp=2024-01-02T03:04:05+01:00", {}).ok());
  EXPECT_EQ(request.timestamp().seconds(), 1704161045);
}

TEST(BindQueryTest, UnknownParameterIsRejected) {
  EchoRequest request;
  const absl::Status unknown = BindQuery(request, "single_int32=1&foo=2", {});
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "unknown query parameter \"foo\"");
  EXPECT_EQ(BindQuery(request, "nested.bogus=1", {}).message(),
            "unknown query parameter \"nested.bogus\"");
  EXPECT_EQ(BindQuery(request, "access_token=x", {}).message(),
            "unknown query parameter \"access_token\"");
}

TEST(BindQueryTest, ParameterInsideARepeatedFieldIsRejected) {
  EchoRequest request;
  const absl::Status status = BindQuery(request, "repeated_nested.id=1", {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("query parameter \"repeated_nested.id\""));
  EXPECT_THAT(status.message(), HasSubstr("is a repeated field"));
}

struct ExcludedCase {
  std::vector<std::string> excluded;
  std::string query;
  bool ok;
};

void PrintTo(const ExcludedCase& c, std::ostream* os) { *os << c.query; }

class BindQueryExcludedTest : public ::testing::TestWithParam<ExcludedCase> {};

TEST_P(BindQueryExcludedTest, RejectsParametersBoundElsewhere) {
  const ExcludedCase& c = GetParam();
  EchoRequest request;
  const absl::Status status = BindQuery(request, c.query, c.excluded);
  if (c.ok) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.query;
    EXPECT_THAT(status.message(),
                HasSubstr("query parameter \"" + c.query.substr(0, c.query.find('=')) + "\""));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BindQueryExcludedTest,
    ::testing::Values(ExcludedCase{{"nested.id"}, "nested.id=1", false},
                      ExcludedCase{{"nested.id"}, "nested.display_name=x", true},
                      ExcludedCase{{"nested.id"}, "nested.idx=x", false},  // unknown
                      ExcludedCase{{"payload"}, "payload.text=x", false},
                      ExcludedCase{{"payload"}, "payload.count=1", false},
                      ExcludedCase{{"payload"}, "single_int32=1", true},
                      // Compared resolved: proto and json names meet.
                      ExcludedCase{{"single_int32"}, "singleInt32=1", false},
                      ExcludedCase{{"nested.displayName"}, "nested.display_name=x", false},
                      // A parameter holding an excluded field conflicts too.
                      ExcludedCase{{"timestamp.seconds"}, "timestamp=2024-01-02T03:04:05Z", false},
                      ExcludedCase{{"nested"}, "nestedx=1", false},  // unknown, not a prefix
                      ExcludedCase{{"*"}, "single_int32=1", false},
                      ExcludedCase{{"nested.id", "*"}, "color=1", false}));

TEST(BindQueryTest, ConflictMessagesNameTheParameterAndTheField) {
  EchoRequest request;
  EXPECT_EQ(BindQuery(request, "nestedId=1&nested.id=2", {"nested.id"}).message(),
            "unknown query parameter \"nestedId\"");
  EXPECT_EQ(BindQuery(request, "nested.id=2", {"nested.id"}).message(),
            "query parameter \"nested.id\" conflicts with field \"nested.id\", bound from the "
            "path or the body");
  EXPECT_EQ(BindQuery(request, "a=1", {"*"}).message(), "unknown query parameter \"a\"");
  EXPECT_EQ(BindQuery(request, "color=1", {"*"}).message(),
            "query parameter \"color\" is not allowed: the request body sets every field");
}

TEST(BindQueryTest, SingularParameterGivenTwiceIsRejected) {
  EchoRequest request;
  const absl::Status status = BindQuery(request, "single_int32=1&singleInt32=2", {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "query parameter \"singleInt32\" is given more than once but is not repeated");
  EchoRequest wrapper;
  EXPECT_EQ(BindQuery(wrapper, "int32_value=1&int32_value=1", {}).code(),
            absl::StatusCode::kInvalidArgument);
  EchoRequest repeated;
  ASSERT_TRUE(BindQuery(repeated, "repeated_string=a&repeatedString=b&repeated_string=a", {}).ok());
  EXPECT_THAT(repeated.repeated_string(), ElementsAre("a", "b", "a"));
}

TEST(BindQueryTest, ValueErrorsNameTheParameter) {
  EchoRequest request;
  EXPECT_EQ(BindQuery(request, "nested.inner.level=abc", {}).message(),
            "invalid value for field \"nested.inner.level\": \"abc\" is not an int32");
  EXPECT_EQ(BindQuery(request, "single_bytes=a%2Bb_c", {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BindQuery(request, "single_string=%FF", {}).message(),
            "invalid value for field \"single_string\": the text is not valid UTF-8");
  EXPECT_EQ(BindQuery(request, "single_string=%zz", {}).message(),
            "malformed percent-encoding in query parameter \"single_string\"");
}

TEST(BindQueryTest, OneofConflictAcrossParametersIsRejected) {
  EchoRequest request;
  const absl::Status status = BindQuery(request, "choice_text=a&choice_number=1", {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("of the same oneof"));
}

TEST(QueryBinderTest, BindsNamesFromItsTableAndChecksConflicts) {
  const auto bound = *FieldPath::Resolve(*EchoRequest::descriptor(), "nested.id");
  const QueryBinder binder(*EchoRequest::descriptor(), {bound}, false);
  EchoRequest request;
  ASSERT_TRUE(binder
                  .Bind(request,
                        "nested.inner.level=3&nested.inner.color=COLOR_RED&"
                        "timestamp.seconds=5&choiceInner.id=x")
                  .ok());
  EXPECT_EQ(request.nested().inner().level(), 3);
  EXPECT_EQ(request.timestamp().seconds(), 5);
  EXPECT_EQ(request.choice_inner().id(), "x");
  EXPECT_EQ(binder.Bind(request, "nested.id=1").message(),
            "query parameter \"nested.id\" conflicts with field \"nested.id\", bound from the "
            "path or the body");
  EXPECT_EQ(binder.Bind(request, "nested=1").message(),
            "query parameter \"nested\" conflicts with field \"nested.id\", bound from the "
            "path or the body");
  EXPECT_EQ(QueryBinder().Bind(request, "a=1").message(), "unknown query parameter \"a\"");
}

// Paths deeper than the table (a recursive type) are resolved when they arrive, with the same
// checks as names from the table.
TEST(QueryBinderTest, PathsPastTheTableBindWithTheSameChecks) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
    name: "dynamic/node.proto" package: "dynamic.v1" syntax: "proto3"
    message_type {
      name: "Node"
      field { name: "node_id" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field { name: "next" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".dynamic.v1.Node" }
    })",
                                                            &file));
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor& node = *pool.FindMessageTypeByName("dynamic.v1.Node");
  google::protobuf::DynamicMessageFactory factory(&pool);
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(&node)->New());

  const std::string deep = "next.next.next.next.nodeId";  // 5 segments
  ASSERT_GT(QueryBinder::kMaxResolvedDepth, 1u);
  ASSERT_LT(QueryBinder::kMaxResolvedDepth, 5u);
  const QueryBinder binder(node, {*FieldPath::Resolve(node, "next.next.next.next")}, false);
  EXPECT_EQ(binder.Bind(*message, deep + "=a").message(),
            "query parameter \"next.next.next.next.nodeId\" conflicts with field "
            "\"next.next.next.next\", bound from the path or the body");
  const QueryBinder free_binder(node, {}, false);
  ASSERT_TRUE(free_binder.Bind(*message, deep + "=a&next.nodeId=b").ok());
  const auto path = *FieldPath::Resolve(node, deep);
  const google::protobuf::Message& leaf_holder =
      WalkFields(std::as_const(*message), path.fields().first(4));
  EXPECT_EQ(leaf_holder.GetReflection()->GetString(leaf_holder, &path.leaf()), "a");
  EXPECT_EQ(free_binder.Bind(*message, deep + "=a&next.next.next.next.node_id=b").message(),
            "query parameter \"next.next.next.next.node_id\" is given more than once but is "
            "not repeated");
  EXPECT_EQ(free_binder.Bind(*message, "next.next.next.next.nope=1").message(),
            "unknown query parameter \"next.next.next.next.nope\"");
}

TEST(QueryBinderTest, MovedBinderKeepsItsTable) {
  QueryBinder original(*EchoRequest::descriptor(),
                       {*FieldPath::Resolve(*EchoRequest::descriptor(), "payload")}, false);
  const QueryBinder moved = std::move(original);
  EchoRequest request;
  ASSERT_TRUE(moved.Bind(request, "singleInt32=7").ok());
  EXPECT_EQ(request.single_int32(), 7);
  EXPECT_THAT(moved.Bind(request, "payload.text=x").message(),
              HasSubstr("conflicts with field \"payload\""));
}

}  // namespace
}  // namespace switchyard::gateway
