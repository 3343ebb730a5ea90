#include "gateway/json/json_codec.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "google/rpc/status.pb.h"
#include <boost/json.hpp>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/empty.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include "gateway/json/protobuf_json_codec.hpp"
#include "gateway/json/well_known_text.hpp"
#include "switchyard/data/v1/data_service.pb.h"
#include "switchyard/data/v1/job_service.pb.h"
#include "switchyard/test/v1/closed_enum.pb.h"
#include "switchyard/test/v1/echo_service.pb.h"
#include "switchyard/user/v1/user_service.pb.h"

namespace switchyard::gateway {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using switchyard::test::v1::ClosedEnumRequest;
using switchyard::test::v1::EchoRequest;
using switchyard::user::v1::ListUsersResponse;

// ---- helpers ---------------------------------------------------------------------------------

std::string Print(const Message& message, bool camel_case = false) {
  std::string json;
  const absl::Status status = PrintJson(message, JsonOutputOptions{camel_case}, json);
  EXPECT_TRUE(status.ok()) << status;
  return json;
}

// protobuf's own printer, configured as the gateway used it.
std::string ProtobufPrint(const Message& message, bool camel_case = false,
                          bool always_print_primitive_fields = true) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = !camel_case;
  options.always_print_primitive_fields = always_print_primitive_fields;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return json;
}

google::protobuf::util::Status ProtobufParse(const std::string& json, Message& message) {
  return google::protobuf::util::JsonStringToMessage(json, &message);
}

template <typename T>
T FromText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

google::protobuf::Timestamp MakeTimestamp(std::int64_t seconds, std::int32_t nanos) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(nanos);
  return timestamp;
}

user::v1::User MakeUser(int i) {
  user::v1::User user;
  user.set_id("6f1c2a9e-3b0d-4c7e-9a51-" + std::to_string(100000000000 + i));
  user.set_name("Ada Lovelace " + std::to_string(i));
  user.set_email("ada" + std::to_string(i) + "@example.com");
  *user.mutable_created_at() = MakeTimestamp(1704164645 + i, 0);
  *user.mutable_updated_at() = MakeTimestamp(1704164645 + i, 123000000);
  return user;
}

// Every field kind of EchoRequest set to a non-default value, plus edge values. Doubles keep to
// values that survive Boost.JSON's number parsing, so that documents compare exactly.
EchoRequest RichEcho() {
  EchoRequest m;
  m.set_single_double(-1234.5);
  m.set_single_float(0.25f);
  m.set_single_int32(std::numeric_limits<std::int32_t>::min());
  m.set_single_int64(std::numeric_limits<std::int64_t>::min());
  m.set_single_uint32(std::numeric_limits<std::uint32_t>::max());
  m.set_single_uint64(std::numeric_limits<std::uint64_t>::max());
  m.set_single_sint32(-7);
  m.set_single_sint64(9007199254740993);
  m.set_single_fixed32(42);
  m.set_single_fixed64(1ull << 63);
  m.set_single_sfixed32(-42);
  m.set_single_sfixed64(std::numeric_limits<std::int64_t>::max());
  m.set_single_bool(true);
  m.set_single_string("quote \" backslash \\ slash / tab \t nl \n ctl \x01 del \x7f <b>&amp; é 😀");
  m.set_single_bytes(std::string("\x00\xff\x10 binary\xfe", 11));
  m.set_color(switchyard::test::v1::COLOR_GREEN);
  m.set_aliased("alias");
  m.set_optional_int32(0);
  m.add_repeated_int32(1);
  m.add_repeated_int32(-1);
  m.add_repeated_string("");
  m.add_repeated_string("two");
  m.add_repeated_color(switchyard::test::v1::COLOR_RED);
  m.add_repeated_color(static_cast<switchyard::test::v1::Color>(7));  // unknown: open enum
  m.add_repeated_double(0.5);
  m.add_repeated_double(1e300);
  m.add_repeated_double(-0.0);
  m.add_repeated_bytes("a");
  m.add_repeated_bytes("ab");
  m.add_repeated_bytes("abc");
  m.mutable_nested()->set_id("n1");
  m.mutable_nested()->mutable_inner()->set_level(3);
  m.mutable_nested()->add_tags("x");
  m.add_repeated_nested()->set_display_name("first");
  m.add_repeated_nested();
  (*m.mutable_labels())["k"] = "v";
  (*m.mutable_labels())[""] = "empty key";
  m.mutable_payload()->set_count(-5);
  *m.mutable_timestamp() = MakeTimestamp(1704164645, 120000000);
  m.mutable_duration()->set_seconds(-3);
  m.mutable_duration()->set_nanos(-500);
  m.mutable_field_mask()->add_paths("display_name");
  m.mutable_field_mask()->add_paths("inner.level");
  *m.add_repeated_timestamp() = MakeTimestamp(-62135596800, 0);
  *m.add_repeated_timestamp() = MakeTimestamp(253402300799, 999999999);
  m.mutable_double_value()->set_value(2.5);
  m.mutable_float_value()->set_value(0);
  m.mutable_int64_value()->set_value(-1);
  m.mutable_uint64_value()->set_value(18446744073709551615ull);
  m.mutable_int32_value()->set_value(5);
  m.mutable_uint32_value()->set_value(6);
  m.mutable_bool_value()->set_value(false);
  m.mutable_string_value()->set_value("wrapped");
  m.mutable_bytes_value()->set_value("\x01\x02");
  m.set_choice_number(-99);
  m.set_name("shelves/1/books/2");
  return m;
}

data::v1::Job RichJob() {
  data::v1::Job job;
  job.set_id("job-1");
  job.set_type("resize");
  auto& fields = *job.mutable_payload()->mutable_fields();
  fields["null"].set_null_value(google::protobuf::NULL_VALUE);
  fields["number"].set_number_value(-2.75);
  fields["string"].set_string_value("s");
  fields["bool"].set_bool_value(true);
  auto& list = *fields["list"].mutable_list_value();
  list.add_values()->set_number_value(1);
  list.add_values()->mutable_struct_value();
  (*fields["object"].mutable_struct_value()->mutable_fields())["inner"].set_string_value("x");
  job.set_state(data::v1::JOB_STATE_RETRYING);
  job.set_attempts(2);
  job.set_max_attempts(5);
  job.mutable_result();
  *job.mutable_created_at() = MakeTimestamp(0, 1000);
  return job;
}

struct NamedMessage {
  std::string name;
  std::function<std::unique_ptr<Message>()> make;
};

template <typename T>
NamedMessage Named(std::string name, std::function<T()> make) {
  return {std::move(name), [make] { return std::unique_ptr<Message>(new T(make())); }};
}

// The differential set: every field kind, user and data messages.
std::vector<NamedMessage> RichMessages() {
  std::vector<NamedMessage> messages;
  messages.push_back(Named<EchoRequest>("EchoDefaults", [] { return EchoRequest(); }));
  messages.push_back(Named<EchoRequest>("EchoRich", RichEcho));
  messages.push_back(Named<EchoRequest>("EchoOneofText", [] {
    EchoRequest m;
    m.set_choice_text("");
    return m;
  }));
  messages.push_back(Named<EchoRequest>("EchoOneofInner", [] {
    EchoRequest m;
    m.mutable_choice_inner()->set_color(switchyard::test::v1::COLOR_RED);
    return m;
  }));
  messages.push_back(Named<EchoRequest>("EchoTimes", [] {
    EchoRequest m;
    *m.mutable_timestamp() = MakeTimestamp(951782400, 1);  // 2000-02-29
    m.mutable_duration()->set_seconds(315576000000);
    m.mutable_duration()->set_nanos(999999999);
    *m.add_repeated_timestamp() = MakeTimestamp(-1, 999000000);
    *m.add_repeated_timestamp() = MakeTimestamp(0, 100);
    return m;
  }));
  messages.push_back(Named<EchoRequest>("EchoNegativeSubSecond", [] {
    EchoRequest m;
    m.mutable_duration()->set_nanos(-1000);
    return m;
  }));
  messages.push_back(Named<ClosedEnumRequest>("ClosedEnum", [] {
    return FromText<ClosedEnumRequest>("size: SIZE_LARGE sizes: SIZE_SMALL");
  }));
  messages.push_back(Named<user::v1::CreateUserRequest>("CreateUserRequest", [] {
    user::v1::CreateUserRequest request;
    request.set_name("Ada Lovelace");
    request.set_email("ada@example.com");
    return request;
  }));
  messages.push_back(Named<ListUsersResponse>("ListUsersResponse", [] {
    ListUsersResponse response;
    for (int i = 0; i < 3; ++i) *response.add_users() = MakeUser(i);
    response.set_next_page_token("token");
    return response;
  }));
  messages.push_back(Named<user::v1::UpdateUserRequest>("UpdateUserRequest", [] {
    user::v1::UpdateUserRequest request;
    request.set_id("u1");
    request.set_email("");  // present though empty
    return request;
  }));
  messages.push_back(
      Named<user::v1::DeleteUserResponse>("Empty", [] { return user::v1::DeleteUserResponse(); }));
  messages.push_back(Named<data::v1::PutDataRequest>("PutDataRequest", [] {
    data::v1::PutDataRequest request;
    request.set_key("a/b");
    request.set_value("{\"json\": [1]}");
    request.set_expected_version(-1);
    return request;
  }));
  messages.push_back(Named<data::v1::ListDataResponse>("ListDataResponse", [] {
    data::v1::ListDataResponse response;
    auto* item = response.add_items();
    item->set_key("k");
    item->set_version(std::numeric_limits<std::int64_t>::max());
    *item->mutable_updated_at() = MakeTimestamp(1, 0);
    return response;
  }));
  messages.push_back(Named<data::v1::Job>("Job", RichJob));
  messages.push_back(Named<data::v1::ListJobsResponse>("ListJobsResponse", [] {
    data::v1::ListJobsResponse response;
    *response.add_jobs() = RichJob();
    response.add_jobs();
    return response;
  }));
  return messages;
}

class JsonDifferentialTest : public ::testing::TestWithParam<NamedMessage> {};

// Our output, read back by protobuf, is the original message.
TEST_P(JsonDifferentialTest, ProtobufParsesOurOutputBackToTheOriginal) {
  const auto original = GetParam().make();
  for (const bool camel_case : {false, true}) {
    const std::string json = Print(*original, camel_case);
    std::unique_ptr<Message> parsed(original->New());
    const auto status = ProtobufParse(json, *parsed);
    ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
    EXPECT_TRUE(MessageDifferencer::Equals(*original, *parsed))
        << json << "\nparsed back: " << parsed->ShortDebugString();
  }
}

// protobuf's output, read by us, is the original message: with and without defaults, both name
// styles.
TEST_P(JsonDifferentialTest, WeParseProtobufOutputBackToTheOriginal) {
  const auto original = GetParam().make();
  for (const bool camel_case : {false, true}) {
    for (const bool defaults : {false, true}) {
      const std::string json = ProtobufPrint(*original, camel_case, defaults);
      std::unique_ptr<Message> parsed(original->New());
      const absl::Status status = ParseJsonBody(json, *parsed);
      ASSERT_TRUE(status.ok()) << status << "\n" << json;
      EXPECT_TRUE(MessageDifferencer::Equals(*original, *parsed))
          << json << "\nparsed: " << parsed->ShortDebugString();
    }
  }
}

// The same JSON document as protobuf prints (member order aside), and our own output parses back.
TEST_P(JsonDifferentialTest, PrintsTheSameDocumentAsProtobuf) {
  const auto original = GetParam().make();
  for (const bool camel_case : {false, true}) {
    const std::string ours = Print(*original, camel_case);
    const std::string theirs = ProtobufPrint(*original, camel_case);
    EXPECT_EQ(boost::json::parse(ours), boost::json::parse(theirs))
        << "ours:   " << ours << "\ntheirs: " << theirs;
    std::unique_ptr<Message> parsed(original->New());
    ASSERT_TRUE(ParseJsonBody(ours, *parsed).ok()) << ours;
    EXPECT_TRUE(MessageDifferencer::Equals(*original, *parsed)) << ours;
  }
}

// The A/B candidate's pre-pass lets every canonical document through, in both name styles.
TEST_P(JsonDifferentialTest, ThePrePassCandidateParsesOurOutputToo) {
  const auto original = GetParam().make();
  for (const bool camel_case : {false, true}) {
    const std::string json = Print(*original, camel_case);
    std::unique_ptr<Message> parsed(original->New());
    const absl::Status status = protobuf_json::ParseJsonBody(json, *parsed);
    ASSERT_TRUE(status.ok()) << status << "\n" << json;
    EXPECT_TRUE(MessageDifferencer::Equals(*original, *parsed)) << json;
  }
}

INSTANTIATE_TEST_SUITE_P(Messages, JsonDifferentialTest, ::testing::ValuesIn(RichMessages()),
                         [](const ::testing::TestParamInfo<NamedMessage>& param) {
                           return param.param.name;
                         });

// For the gateway's everyday messages the text is byte for byte protobuf's.
TEST(JsonCodecTest, EverydayMessagesPrintExactlyAsProtobufDoes) {
  ListUsersResponse users;
  for (int i = 0; i < 10; ++i) *users.add_users() = MakeUser(i);
  user::v1::CreateUserResponse created;
  *created.mutable_user() = MakeUser(1);
  const Message* messages[] = {&users, &created, &created.user(),
                               &ListUsersResponse::default_instance()};
  for (const Message* message : messages) {
    for (const bool camel_case : {false, true}) {
      EXPECT_EQ(Print(*message, camel_case), ProtobufPrint(*message, camel_case));
    }
  }
  EXPECT_EQ(Print(EchoRequest()), ProtobufPrint(EchoRequest()));
}

// ---- what protobuf 3.21 accepts and the gateway rejects ---------------------------------------

// Each input is one that protobuf's util::JsonStringToMessage (3.21, with the options shown)
// accepts; the gateway answers it with a 400. If protobuf grows stricter, the first expectation
// fails and the row can go.
struct LaxInput {
  std::string json;
  const Message* type;
  std::string names;            // a part of the gateway's message that names the problem
  bool ignore_unknown = false;  // JsonParseOptions::ignore_unknown_fields
};

void PrintTo(const LaxInput& input, std::ostream* out) { *out << input.json; }

class ProtobufLaxnessTest : public ::testing::TestWithParam<LaxInput> {};

TEST_P(ProtobufLaxnessTest, ProtobufAcceptsAndTheGatewayRejects) {
  const LaxInput& input = GetParam();
  std::unique_ptr<Message> theirs(input.type->New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = input.ignore_unknown;
  const auto protobuf =
      google::protobuf::util::JsonStringToMessage(input.json, theirs.get(), options);
  EXPECT_TRUE(protobuf.ok()) << protobuf.ToString();
  std::unique_ptr<Message> ours(input.type->New());
  const absl::Status status = ParseJsonBody(input.json, *ours);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(input.names), std::string::npos) << status.message();
  // The A/B candidate (protobuf's parser behind the strictness pre-pass) answers 400 as well.
  std::unique_ptr<Message> checked(input.type->New());
  EXPECT_EQ(protobuf_json::ParseJsonBody(input.json, *checked).code(),
            absl::StatusCode::kInvalidArgument);
}

const Message* const kCreate = &user::v1::CreateUserRequest::default_instance();
const Message* const kList = &user::v1::ListUsersRequest::default_instance();
const Message* const kEcho = &EchoRequest::default_instance();

INSTANTIATE_TEST_SUITE_P(
    Table, ProtobufLaxnessTest,
    ::testing::Values(
        LaxInput{R"({"name": "a", "name": "b"})", kCreate,
                 R"(field "name": appears more than once)"},
        LaxInput{R"({"page_size": 1, "pageSize": 2})", kList,
                 R"(field "pageSize": appears more than once)"},
        LaxInput{R"({'name': 'a'})", kCreate, "expected a member name in double quotes"},
        LaxInput{R"({name: "a"})", kCreate, "expected a member name in double quotes"},
        LaxInput{R"({"name": "a",})", kCreate, "expected a member name"},
        LaxInput{R"({"page_size": "+1"})", kList, R"("+1" is not a valid int32)"},
        LaxInput{R"({"page_size": "01"})", kList, R"("01" is not a valid int32)"},
        LaxInput{R"({"single_bool": "true"})", kEcho, "expected true or false, got a string"},
        LaxInput{"{\"name\": \"a\x01\"}", kCreate, "control character"},
        LaxInput{R"({"timestamp": "2024-01-02T03:04:05.1234567890Z"})", kEcho,
                 "is not an RFC 3339 timestamp"},
        LaxInput{R"({"duration": "+1s"})", kEcho, R"("+1s" is not a duration)"},
        LaxInput{R"({"duration": "1.s"})", kEcho, R"("1.s" is not a duration)"},
        LaxInput{R"({"color": "COLOR_PURPLE"})", kEcho, "is not a value of enum", true},
        LaxInput{R"({"bogus": 1})", kCreate, R"(unknown field "bogus")", true}));

// ---- strictness -----------------------------------------------------------------------------

struct BadBody {
  std::string json;
  std::string names;  // a part of the message that names the problem
  const Message* type = &EchoRequest::default_instance();
};

void PrintTo(const BadBody& body, std::ostream* out) { *out << body.json.substr(0, 200); }

class JsonStrictnessTest : public ::testing::TestWithParam<BadBody> {};

TEST_P(JsonStrictnessTest, RejectsWithMessageNamingTheProblem) {
  std::unique_ptr<Message> message(GetParam().type->New());
  const absl::Status status = ParseJsonBody(GetParam().json, *message);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << GetParam().json;
  EXPECT_EQ(status.message().rfind("invalid JSON body: ", 0), 0u) << status.message();
  EXPECT_NE(status.message().find(GetParam().names), std::string::npos) << status.message();
}

std::string Nested(int depth, const std::string& open, const std::string& inner,
                   const std::string& close) {
  std::string json;
  for (int i = 0; i < depth; ++i) json += open;
  json += inner;
  for (int i = 0; i < depth; ++i) json += close;
  return json;
}

const Message* const kJob = &data::v1::Job::default_instance();
const Message* const kClosed = &ClosedEnumRequest::default_instance();

INSTANTIATE_TEST_SUITE_P(
    Table, JsonStrictnessTest,
    ::testing::Values(
        // Names and structure.
        BadBody{R"({"unknown_field": 1})", R"(unknown field "unknown_field")"},
        BadBody{R"({"nested": {"nope": true}})", R"(unknown field "nested.nope")"},
        BadBody{R"({"repeated_nested": [{}, {"bad": 1}]})",
                R"(unknown field "repeated_nested[1].bad")"},
        BadBody{R"({"Single_int32": 1})", R"(unknown field "Single_int32")"},
        BadBody{R"({"single_int32": 1, "singleInt32": 2})",
                R"(field "singleInt32": appears more than once)"},
        BadBody{R"({"name": "a", "name": "a"})", R"(field "name": appears more than once)"},
        BadBody{R"({"labels": {"a": "1", "a": "2"}})",
                R"(field "labels[a]": map key is given more than once)"},
        BadBody{R"({"choice_text": "a", "choice_number": "2"})",
                R"(field "choice_number": oneof "choice" already has field "choice_text" set)"},
        BadBody{R"({"choice_inner": {}, "choiceText": "x"})", R"(field "choiceText": oneof)"},
        // Malformed JSON.
        BadBody{R"({"name": "x",)", "expected a member name"},
        BadBody{R"({"name": "x")", "expected ',' or '}'"},
        BadBody{R"([1, 2])", "expected an object, got an array"},
        BadBody{"not json", "invalid literal"}, BadBody{"", "empty"}, BadBody{" \n ", "empty"},
        BadBody{R"("just a string")", "expected an object, got a string"},
        BadBody{R"({"a" 1})", "expected ':'"},
        BadBody{R"({'name': "x"})", "expected a member name in double quotes"},
        BadBody{R"({"name": "x",})", "expected a member name"},
        BadBody{R"({"repeated_int32": [1,]})", "unexpected character"},
        BadBody{R"({} {})", "unexpected data after the JSON value"},
        BadBody{"{\"name\": \"x\"}\n\n  x", "line 3, column 3"},
        BadBody{R"({"single_string": "abc})", "unterminated string"},
        BadBody{R"({"single_string": "a\qb"})", "invalid escape"},
        BadBody{R"({"single_string": "\u12"})", "invalid \\u escape"},
        BadBody{R"({"single_string": "\ud800"})", "high surrogate"},
        BadBody{R"({"single_string": "\ud800\u0041"})", "high surrogate"},
        BadBody{R"({"single_string": "\udc00"})", "low surrogate"},
        BadBody{"{\"single_string\": \"a\x01\"}", "control character"},
        BadBody{"{\"single_string\": \"\xff\"}", "invalid UTF-8"},
        BadBody{"{\"single_string\": \"\xc0\xaf\"}", "invalid UTF-8"},
        BadBody{"{\"single_string\": \"\xed\xa0\x80\"}", "invalid UTF-8"},
        BadBody{"{\"single_string\": \"\xe2\x82\"}", "invalid UTF-8"},
        BadBody{"{\"\xff\": 1}", "invalid UTF-8"},
        BadBody{R"({"single_int32": 01})", "expected ',' or '}'"},
        BadBody{R"({"single_int32": -})", "invalid number"},
        BadBody{R"({"single_int32": 1.})", "invalid number"},
        BadBody{R"({"single_int32": 1e})", "invalid number"},
        BadBody{R"({"single_int32": .5})", "unexpected character"},
        BadBody{R"({"single_int32": +1})", "unexpected character"},
        BadBody{R"({"single_double": NaN})", "unexpected character"},
        BadBody{R"({"single_bool": tru})", "invalid literal"},
        BadBody{R"({"nested": nul})", "invalid literal"},
        // Depth: deep JSON is refused before it can exhaust the stack.
        BadBody{R"({"payload": {"a": )" + Nested(1000, "[", "1", "]") + "}}", "deeper than 64",
                kJob},
        BadBody{R"({"payload": )" + Nested(1000, R"({"a": )", "1", "}") + "}", "deeper than 64",
                kJob},
        BadBody{R"({"payload": {"a": )" + Nested(63, "[", "", "]") + "}}", "deeper than 64", kJob},
        BadBody{Nested(1000, "[", "", "]"), "expected an object, got an array"},
        BadBody{R"({"repeated_nested": [{"inner": )" + Nested(1000, "[", "", "]") + "}]}",
                R"(field "repeated_nested[0].inner": expected an object, got an array)"},
        // bool: true or false only.
        BadBody{R"({"single_bool": "yes"})",
                R"(field "single_bool": expected true or false, got a string)"},
        BadBody{R"({"single_bool": "true"})", R"(field "single_bool": expected true or false)"},
        BadBody{R"({"single_bool": 1})", R"(field "single_bool": expected true or false)"},
        BadBody{R"({"single_bool": {}})", R"(field "single_bool": expected true or false)"},
        BadBody{R"({"bool_value": "false"})", R"(field "bool_value": expected true or false)"},
        // Integers: integral, in range; strings hold plain decimal integers.
        BadBody{R"({"single_int32": "abc"})",
                R"(field "single_int32": "abc" is not a valid int32)"},
        BadBody{R"({"single_int32": 3000000000})",
                R"(field "single_int32": 3000000000 is out of range for int32)"},
        BadBody{R"({"single_int32": -2147483649})", "out of range for int32"},
        BadBody{R"({"single_int32": 1.5})", R"(field "single_int32": 1.5 is not an integer)"},
        BadBody{R"({"single_int32": 1e-1})", "is not an integer"},
        BadBody{R"({"single_int32": 1e400})", "out of range for int32"},
        BadBody{R"({"single_int32": "1.0"})", R"("1.0" is not a valid int32)"},
        BadBody{R"({"single_int32": "1e2"})", R"("1e2" is not a valid int32)"},
        BadBody{R"({"single_int32": " 1"})", "is not a valid int32"},
        BadBody{R"({"single_int32": "+1"})", "is not a valid int32"},
        BadBody{R"({"single_int32": "0x10"})", "is not a valid int32"},
        BadBody{R"({"single_int32": "01"})", "is not a valid int32"},
        BadBody{R"({"single_int32": ""})", R"("" is not a valid int32)"},
        BadBody{R"({"single_int32": true})",
                R"(field "single_int32": expected a number or a numeric string, got true)"},
        BadBody{R"({"single_int32": [1]})", "expected a number or a numeric string, got an array"},
        BadBody{R"({"single_int64": 9223372036854775808})", "out of range for int64"},
        BadBody{R"({"single_int64": "-9223372036854775809"})", "out of range for int64"},
        BadBody{R"({"single_int64": 1e19})", "out of range for int64"},
        BadBody{R"({"single_int64": )" + std::string(500, '9') + "}", "out of range for int64"},
        BadBody{R"({"single_int64": {}})", R"(field "single_int64": expected a number)"},
        BadBody{R"({"single_uint32": -1})", "-1 is out of range for uint32"},
        BadBody{R"({"single_uint32": 4294967296})", "out of range for uint32"},
        BadBody{R"({"single_uint64": "18446744073709551616"})", "out of range for uint64"},
        BadBody{R"({"single_uint64": "-1"})", "out of range for uint64"},
        BadBody{R"({"single_sint32": "x"})", R"(field "single_sint32": "x" is not a valid sint32)"},
        BadBody{R"({"single_sint64": false})", R"(field "single_sint64": expected a number)"},
        BadBody{R"({"single_fixed32": -5})", "out of range for fixed32"},
        BadBody{R"({"single_fixed64": "x"})", "is not a valid fixed64"},
        BadBody{R"({"single_sfixed32": 2147483648})", "out of range for sfixed32"},
        BadBody{R"({"single_sfixed64": []})", R"(field "single_sfixed64": expected a number)"},
        BadBody{R"({"int32_value": "x"})", R"(field "int32_value": "x" is not a valid int32)"},
        BadBody{R"({"uint64_value": -1})", "out of range for uint64"},
        BadBody{R"({"int64_value": {}})", R"(field "int64_value": expected a number)"},
        // Floating point.
        BadBody{R"({"single_double": "abc"})", R"("abc" is not a valid double)"},
        BadBody{R"({"single_double": "nan"})", R"("nan" is not a valid double)"},
        BadBody{R"({"single_double": "inf"})", "is not a valid double"},
        BadBody{R"({"single_double": "Infinity "})", "is not a valid double"},
        BadBody{R"({"single_double": true})", R"(field "single_double": expected a number)"},
        BadBody{R"({"single_double": 1e400})", "1e400 is out of range for double"},
        BadBody{R"({"single_double": "-1e400"})", "out of range for double"},
        BadBody{R"({"single_float": 1e39})", "1e39 is out of range for float"},
        BadBody{R"({"single_float": {}})", R"(field "single_float": expected a number)"},
        BadBody{R"({"float_value": "x"})", R"(field "float_value": "x" is not a valid float)"},
        BadBody{R"({"repeated_double": [1, "two"]})", R"(field "repeated_double[1]")"},
        // Strings and bytes.
        BadBody{R"({"single_string": 5})",
                R"(field "single_string": expected a string, got a number)"},
        BadBody{R"({"single_string": true})", "expected a string, got true"},
        BadBody{R"({"single_string": {}})", "expected a string, got an object"},
        BadBody{R"({"string_value": 1})", R"(field "string_value": expected a string)"},
        BadBody{R"({"single_bytes": "!!!!"})",
                R"(field "single_bytes": "!!!!" is not valid base64)"},
        BadBody{R"({"single_bytes": "QQ="})", "is not valid base64"},
        BadBody{R"({"single_bytes": "Q"})", "is not valid base64"},
        BadBody{R"({"single_bytes": "QQ==QQ=="})", "is not valid base64"},
        BadBody{R"({"single_bytes": "QU JD"})", "is not valid base64"},
        BadBody{R"({"single_bytes": 5})", "expected a base64 string, got a number"},
        BadBody{R"({"repeated_bytes": ["QQ==", "*"]})", R"(field "repeated_bytes[1]")"},
        BadBody{R"({"bytes_value": "%%"})", R"(field "bytes_value": "%%" is not valid base64)"},
        // Enums.
        BadBody{R"({"color": "COLOR_PURPLE"})",
                R"(field "color": "COLOR_PURPLE" is not a value of enum switchyard.test.v1.Color)"},
        BadBody{R"({"color": "color_red"})", "is not a value of enum"},
        BadBody{R"({"color": "1"})", R"("1" is not a value of enum)"},
        BadBody{R"({"color": 1.5})", "1.5 is not an integer"},
        BadBody{R"({"color": 3000000000})", "out of range"},
        BadBody{R"({"color": true})", R"(field "color": expected an enum value name or number)"},
        BadBody{R"({"repeated_color": ["COLOR_RED", "NOPE"]})", R"(field "repeated_color[1]")"},
        BadBody{R"({"size": 7})",
                R"(field "size": 7 is not a value of enum switchyard.test.v1.Size)", kClosed},
        BadBody{R"({"sizes": [1, 7]})", R"(field "sizes[1]": 7 is not a value of enum)", kClosed},
        // Messages, repeated fields and maps.
        BadBody{R"({"nested": "x"})", R"(field "nested": expected an object, got a string)"},
        BadBody{R"({"nested": []})", R"(field "nested": expected an object, got an array)"},
        BadBody{R"({"nested": {"inner": {"level": "high"}}})",
                R"(field "nested.inner.level": "high" is not a valid int32)"},
        BadBody{R"({"repeated_int32": 5})",
                R"(field "repeated_int32": expected an array, got a number)"},
        BadBody{R"({"repeated_int32": {}})", "expected an array, got an object"},
        BadBody{R"({"repeated_int32": [1, "x"]})",
                R"(field "repeated_int32[1]": "x" is not a valid int32)"},
        BadBody{R"({"repeated_int32": [1, null]})",
                R"(field "repeated_int32[1]": null is not allowed in an array)"},
        BadBody{R"({"repeated_int32": [[1]]})", R"(field "repeated_int32[0]": expected a number)"},
        BadBody{R"({"repeated_nested": [null]})", R"(field "repeated_nested[0]": null)"},
        BadBody{R"({"repeated_string": ["a", 1]})",
                R"(field "repeated_string[1]": expected a string)"},
        BadBody{R"({"labels": []})", R"(field "labels": expected an object, got an array)"},
        BadBody{R"({"labels": {"a": 1}})", R"(field "labels[a]": expected a string, got a number)"},
        BadBody{R"({"labels": {"a": null}})",
                R"(field "labels[a]": null is not allowed as a map value)"},
        BadBody{R"({"labels": {"a": {}}})",
                R"(field "labels[a]": expected a string, got an object)"},
        // Well-known types.
        BadBody{R"({"timestamp": "2024-13-01T00:00:00Z"})",
                R"(field "timestamp": "2024-13-01T00:00:00Z" is not an RFC 3339 timestamp)"},
        BadBody{R"({"timestamp": "2023-02-29T00:00:00Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-04-31T00:00:00Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "0000-01-01T00:00:00Z"})", "is outside the range of a timestamp"},
        BadBody{R"({"timestamp": "10000-01-01T00:00:00Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "0001-01-01T00:00:00+01:00"})",
                "outside the range of a timestamp"},
        BadBody{R"({"timestamp": "9999-12-31T23:59:59-00:01"})",
                "outside the range of a timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02 03:04:05Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02t03:04:05z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05.1234567890Z"})", "is not an RFC 3339"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05.Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T24:00:00Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:60Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05+24:00"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05+0100"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-1-02T03:04:05Z"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": "2024-01-02T03:04:05Zjunk"})", "is not an RFC 3339 timestamp"},
        BadBody{R"({"timestamp": 1704164645})",
                R"(field "timestamp": expected an RFC 3339 timestamp string, got a number)"},
        BadBody{R"({"repeated_timestamp": ["2024-01-02T03:04:05Z", ""]})",
                R"(field "repeated_timestamp[1]": "" is not an RFC 3339 timestamp)"},
        BadBody{R"({"duration": "1.5"})", R"(field "duration": "1.5" is not a duration)"},
        BadBody{R"({"duration": "1.5S"})", "is not a duration"},
        BadBody{R"({"duration": "s"})", "is not a duration"},
        BadBody{R"({"duration": "-s"})", "is not a duration"},
        BadBody{R"({"duration": ".5s"})", "is not a duration"},
        BadBody{R"({"duration": "1.s"})", "is not a duration"},
        BadBody{R"({"duration": "+1s"})", "is not a duration"},
        BadBody{R"({"duration": "1 s"})", "is not a duration"},
        BadBody{R"({"duration": "1.0000000001s"})", "is not a duration"},
        BadBody{R"({"duration": "315576000001s"})", "is outside the range of a duration"},
        BadBody{R"({"duration": "99999999999999999999s"})", "is outside the range of a duration"},
        BadBody{R"({"duration": 90})", R"(field "duration": expected a duration string)"},
        BadBody{R"({"field_mask": 5})", R"(field "field_mask": expected a string)"},
        BadBody{R"({"field_mask": "a,,b"})", "has an empty field path"},
        BadBody{R"({"field_mask": "a,"})", "has an empty field path"},
        BadBody{R"({"payload": []})", R"(field "payload": expected an object, got an array)", kJob},
        BadBody{R"({"payload": {"a": 1e400}})", R"(field "payload.a": 1e400 is out of range)",
                kJob},
        BadBody{R"({"payload": {"a": 1, "a": 2}})", R"(field "payload.a": appears more than once)",
                kJob},
        BadBody{R"({"payload": {"a": [1, {"b": tru}]}})", "invalid literal", kJob},
        BadBody{R"({"payload": {"a": [1, {"b": 1e999}]}})", R"(field "payload.a[1].b")", kJob},
        BadBody{R"({"details": [{"@type": "x"}]})",
                R"(field "details[0]": google.protobuf.Any is not supported)",
                &google::rpc::Status::default_instance()}),
    [](const ::testing::TestParamInfo<BadBody>& param) { return std::to_string(param.index); });

TEST(JsonCodecTest, AcceptsNestingUpToTheLimit) {
  data::v1::Job job;
  // The top-level object, the payload object, then 62 arrays: 64 levels.
  const std::string json = R"({"payload": {"a": )" + Nested(62, "[", "", "]") + "}}";
  EXPECT_TRUE(ParseJsonBody(json, job).ok());
  // A lower limit is an option.
  const absl::Status status = ParseJsonBody(R"({"payload": {"a": [[1]]}})", job, {.max_depth = 3});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("deeper than 3 levels"), std::string::npos) << status;
}

// ---- what is accepted -----------------------------------------------------------------------

struct GoodBody {
  std::string json;
  std::string expected;  // text format
};

void PrintTo(const GoodBody& body, std::ostream* out) { *out << body.json; }

class JsonAcceptanceTest : public ::testing::TestWithParam<GoodBody> {};

TEST_P(JsonAcceptanceTest, ParsesToTheExpectedMessage) {
  EchoRequest parsed;
  const absl::Status status = ParseJsonBody(GetParam().json, parsed);
  ASSERT_TRUE(status.ok()) << status;
  const auto expected = FromText<EchoRequest>(GetParam().expected);
  EXPECT_TRUE(MessageDifferencer::Equals(expected, parsed)) << parsed.ShortDebugString();
  // Where protobuf accepts the same body, it reads the same message.
  EchoRequest theirs;
  if (ProtobufParse(GetParam().json, theirs).ok()) {
    EXPECT_TRUE(MessageDifferencer::Equals(theirs, parsed)) << theirs.ShortDebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonAcceptanceTest,
    ::testing::Values(
        GoodBody{"{}", ""},
        GoodBody{" \t\r\n{ \"single_int32\" : 1 , \"name\":\"n\" } \n",
                 "single_int32: 1 name: 'n'"},
        GoodBody{R"({"single_int32": 1.0})", "single_int32: 1"},
        GoodBody{R"({"single_int32": 1e2})", "single_int32: 100"},
        GoodBody{R"({"single_int32": 0.25e3})", "single_int32: 250"},
        GoodBody{R"({"single_int32": -0})", ""}, GoodBody{R"({"single_int32": 0.0e5})", ""},
        GoodBody{R"({"single_int32": -2147483648, "single_uint32": 4294967295})",
                 "single_int32: -2147483648 single_uint32: 4294967295"},
        GoodBody{R"({"single_int32": "-2147483648", "single_sint32": "2147483647"})",
                 "single_int32: -2147483648 single_sint32: 2147483647"},
        GoodBody{
            R"({"single_int64": "9223372036854775807", "single_sint64": -9223372036854775808})",
            "single_int64: 9223372036854775807 single_sint64: -9223372036854775808"},
        GoodBody{R"({"single_int64": 9007199254740993})", "single_int64: 9007199254740993"},
        GoodBody{R"({"single_uint64": "18446744073709551615", "single_fixed64": 1.8e19})",
                 "single_uint64: 18446744073709551615 single_fixed64: 18000000000000000000"},
        GoodBody{
            R"({"single_fixed32": "4294967295", "single_sfixed32": -1, "single_sfixed64": "-1"})",
            "single_fixed32: 4294967295 single_sfixed32: -1 single_sfixed64: -1"},
        GoodBody{R"({"single_double": -1.5e-3, "single_float": 3.4028235e38})",
                 "single_double: -0.0015 single_float: 3.4028235e+38"},
        GoodBody{R"({"single_double": "1.5", "single_float": "-2"})",
                 "single_double: 1.5 single_float: -2"},
        GoodBody{R"({"single_double": "Infinity", "single_float": "-Infinity"})",
                 "single_double: inf single_float: -inf"},
        GoodBody{R"({"single_double": 1e-400})", ""},
        GoodBody{R"({"single_double": 5e-324})", "single_double: 5e-324"},
        GoodBody{R"({"single_bool": true, "bool_value": false})",
                 "single_bool: true bool_value {}"},
        GoodBody{R"({"single_string": "\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t\u0000"})",
                 R"(single_string: "\303\251\360\237\230\200\n\"\\/\b\f\r\t\000")"},
        GoodBody{"{\"single_string\": \"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
                 R"(single_string: "h\303\251 \342\202\254 \360\237\230\200")"},
        GoodBody{R"({"single_bytes": "-_8"})", R"(single_bytes: "\373\377")"},
        GoodBody{R"({"single_bytes": "+/8="})", R"(single_bytes: "\373\377")"},
        GoodBody{R"({"single_bytes": "+/8"})", R"(single_bytes: "\373\377")"},
        GoodBody{
            R"({"single_bytes": "YWJj", "repeated_bytes": ["", "YQ", "YQ=="]})",
            R"(single_bytes: "abc" repeated_bytes: "" repeated_bytes: "a" repeated_bytes: "a")"},
        GoodBody{R"({"color": "COLOR_RED", "repeated_color": [2, "COLOR_RED", 7]})",
                 "color: COLOR_RED repeated_color: [COLOR_GREEN, COLOR_RED, 7]"},
        GoodBody{R"({"color": 7})", "color: 7"}, GoodBody{R"({"otherName": "x"})", "aliased: 'x'"},
        GoodBody{R"({"aliased": "x"})", "aliased: 'x'"},
        GoodBody{R"({"singleString": "a", "repeatedInt32": [1], "fieldMask": "a"})",
                 "single_string: 'a' repeated_int32: 1 field_mask { paths: 'a' }"},
        GoodBody{R"({"single_int32": null, "nested": null, "repeated_int32": null, "labels": null,
                    "timestamp": null, "int32_value": null, "choice_text": null,
                    "choice_number": 5, "single_bool": null, "color": null})",
                 "choice_number: 5"},
        GoodBody{R"({"optional_int32": 0})", "optional_int32: 0"},
        GoodBody{R"({"int32_value": 0, "string_value": "", "bytes_value": "AA=="})",
                 R"(int32_value {} string_value {} bytes_value { value: "\000" })"},
        GoodBody{
            R"({"int64_value": "-5", "uint64_value": 5, "double_value": "-Infinity"})",
            "int64_value { value: -5 } uint64_value { value: 5 } double_value { value: -inf }"},
        GoodBody{R"({"labels": {"k": "v", "": "empty", "\u00e9": "e"}})",
                 R"(labels { key: "k" value: "v" } labels { key: "" value: "empty" }
                    labels { key: "\303\251" value: "e" })"},
        GoodBody{R"({"nested": {}, "payload": {"count": "7"}})", "nested {} payload { count: 7 }"},
        GoodBody{R"({"nested": {"inner": {"color": "COLOR_RED", "level": "3"}, "tags": []}})",
                 "nested { inner { color: COLOR_RED level: 3 } }"},
        GoodBody{R"({"repeated_nested": [{}, {"displayName": "d"}]})",
                 "repeated_nested {} repeated_nested { display_name: 'd' }"},
        GoodBody{R"({"choice_inner": {"id": "x"}})", "choice_inner { id: 'x' }"},
        GoodBody{R"({"choice_inner": {}})", "choice_inner {}"},
        GoodBody{R"({"timestamp": "2024-01-02T03:04:05Z"})", "timestamp { seconds: 1704164645 }"},
        GoodBody{R"({"timestamp": "2024-01-02T03:04:05.123456789+01:30"})",
                 "timestamp { seconds: 1704159245 nanos: 123456789 }"},
        GoodBody{R"({"timestamp": "2024-01-02T03:04:05.5-08:00"})",
                 "timestamp { seconds: 1704193445 nanos: 500000000 }"},
        GoodBody{R"({"timestamp": "1969-12-31T23:59:59.999Z"})",
                 "timestamp { seconds: -1 nanos: 999000000 }"},
        GoodBody{R"({"timestamp": "0001-01-01T00:00:00Z"})", "timestamp { seconds: -62135596800 }"},
        GoodBody{R"({"timestamp": "9999-12-31T23:59:59.999999999Z"})",
                 "timestamp { seconds: 253402300799 nanos: 999999999 }"},
        GoodBody{R"({"timestamp": "2000-02-29T00:00:00Z"})", "timestamp { seconds: 951782400 }"},
        GoodBody{
            R"({"repeated_timestamp": ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000001Z"]})",
            "repeated_timestamp {} repeated_timestamp { nanos: 1000 }"},
        GoodBody{R"({"duration": "1.5s"})", "duration { seconds: 1 nanos: 500000000 }"},
        GoodBody{R"({"duration": "-0.5s"})", "duration { nanos: -500000000 }"},
        GoodBody{R"({"duration": "-3s"})", "duration { seconds: -3 }"},
        GoodBody{R"({"duration": "0.000000001s"})", "duration { nanos: 1 }"},
        GoodBody{R"({"duration": "315576000000.999999999s"})",
                 "duration { seconds: 315576000000 nanos: 999999999 }"},
        GoodBody{R"({"duration": "-315576000000s"})", "duration { seconds: -315576000000 }"},
        GoodBody{R"({"field_mask": "a.bC,dEf.g,display_name"})",
                 "field_mask { paths: ['a.b_c', 'd_ef.g', 'display_name'] }"},
        GoodBody{R"({"field_mask": ""})", "field_mask {}"}),
    [](const ::testing::TestParamInfo<GoodBody>& param) { return std::to_string(param.index); });

TEST(JsonCodecTest, AcceptsProtoAndCamelNamesAndCanonicalForms) {
  EchoRequest message;
  ASSERT_TRUE(ParseJsonBody(R"({"single_int64": "9007199254740993", "singleInt32": 7,
                                "color": "COLOR_GREEN", "otherName": "alias",
                                "timestamp": "2024-01-02T03:04:05Z", "duration": "1.5s"})",
                            message)
                  .ok());
  EXPECT_EQ(message.single_int64(), 9007199254740993);
  EXPECT_EQ(message.single_int32(), 7);
  EXPECT_EQ(message.color(), switchyard::test::v1::COLOR_GREEN);
  EXPECT_EQ(message.aliased(), "alias");
  EXPECT_EQ(message.timestamp().seconds(), 1704164645);
  EXPECT_EQ(message.duration().nanos(), 500000000);
}

TEST(JsonCodecTest, ReplacesWhatTheMessageHeld) {
  EchoRequest message;
  message.set_name("old");
  message.add_repeated_int32(1);
  ASSERT_TRUE(ParseJsonBody(R"({"repeated_int32": [2]})", message).ok());
  EXPECT_EQ(message.name(), "");
  ASSERT_EQ(message.repeated_int32_size(), 1);
  EXPECT_EQ(message.repeated_int32(0), 2);
}

TEST(JsonCodecTest, NaNStringsBecomeNaN) {
  EchoRequest message;
  ASSERT_TRUE(ParseJsonBody(R"({"single_double": "NaN", "single_float": "NaN"})", message).ok());
  EXPECT_TRUE(std::isnan(message.single_double()));
  EXPECT_TRUE(std::isnan(message.single_float()));
}

TEST(JsonCodecTest, StructValueAndListValueTakeAnyJson) {
  data::v1::Job job;
  const std::string json =
      R"({"payload": {"a": null, "b": [1, "x", {"c": false}, [], {}], "d": {"e": -1.5e3}},
          "result": {}})";
  ASSERT_TRUE(ParseJsonBody(json, job).ok());
  data::v1::Job theirs;
  ASSERT_TRUE(ProtobufParse(json, theirs).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(job, theirs)) << job.ShortDebugString();
  EXPECT_EQ(job.payload().fields().at("a").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(job.payload().fields().at("d").struct_value().fields().at("e").number_value(), -1500);
  EXPECT_TRUE(job.has_result());
}

TEST(JsonCodecTest, ValueAtTheTopLevelTakesAnyJsonValue) {
  google::protobuf::Value value;
  ASSERT_TRUE(ParseJsonBody("null", value).ok());
  EXPECT_EQ(value.kind_case(), google::protobuf::Value::kNullValue);
  ASSERT_TRUE(ParseJsonBody(R"(["a", 2])", value).ok());
  EXPECT_EQ(value.list_value().values(1).number_value(), 2);
}

// Reflection only: a dynamic message of the same type parses and prints the same.
TEST(JsonCodecTest, WorksOnDynamicMessages) {
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<Message> dynamic(factory.GetPrototype(EchoRequest::descriptor())->New());
  const std::string json = Print(RichEcho());
  ASSERT_TRUE(ParseJsonBody(json, *dynamic).ok());
  EXPECT_EQ(Print(*dynamic), json);
  EchoRequest generated;
  ASSERT_TRUE(generated.ParseFromString(dynamic->SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(generated, RichEcho()));
}

// Types from another descriptor pool (say, loaded at run time) work through dynamic messages.
TEST(JsonCodecTest, WorksOnTypesOutsideTheGeneratedPool) {
  const auto file = FromText<google::protobuf::FileDescriptorProto>(R"(
    name: "dynamic/thing.proto" package: "dynamic.v1" syntax: "proto3"
    dependency: "google/protobuf/timestamp.proto"
    message_type {
      name: "Thing"
      field { name: "thing_id" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field { name: "when" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".google.protobuf.Timestamp" }
      field { name: "counts" number: 3 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".dynamic.v1.Thing.CountsEntry" }
      field { name: "children" number: 4 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".dynamic.v1.Thing" }
      nested_type {
        name: "CountsEntry" options { map_entry: true }
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 }
      }
    })");
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  ASSERT_NE(pool.BuildFile(file), nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const Message* prototype = factory.GetPrototype(pool.FindMessageTypeByName("dynamic.v1.Thing"));
  std::unique_ptr<Message> thing(prototype->New());
  ASSERT_TRUE(ParseJsonBody(R"({"thingId": "t", "when": "2024-01-02T03:04:05.5Z",
                                "counts": {"-1": "5"}, "children": [{"thing_id": "c"}]})",
                            *thing)
                  .ok());
  const std::string json = Print(*thing);
  EXPECT_EQ(json, R"({"thing_id":"t","when":"2024-01-02T03:04:05.500Z","counts":{"-1":"5"},)"
                  R"("children":[{"thing_id":"c","counts":{},"children":[]}]})");
  EXPECT_EQ(boost::json::parse(json), boost::json::parse(ProtobufPrint(*thing)));
  const absl::Status status = ParseJsonBody(R"({"children": [{"nope": 1}]})", *thing);
  EXPECT_NE(status.message().find(R"(unknown field "children[0].nope")"), std::string::npos)
      << status;
}

// ---- printing --------------------------------------------------------------------------------

TEST(JsonCodecTest, PrintsProtoNamesByDefaultAndCamelOnRequest) {
  ListUsersResponse response;
  response.add_users()->set_id("u1");
  std::string proto_names;
  ASSERT_TRUE(PrintJson(response, JsonOutputOptions{}, proto_names).ok());
  EXPECT_NE(proto_names.find("\"next_page_token\":\"\""), std::string::npos) << proto_names;
  std::string camel;
  ASSERT_TRUE(PrintJson(response, JsonOutputOptions{true}, camel).ok());
  EXPECT_NE(camel.find("\"nextPageToken\":\"\""), std::string::npos) << camel;
}

TEST(JsonCodecTest, Int64IsPrintedAsAString) {
  EchoRequest message;
  message.set_single_int64(9007199254740993);
  std::string json;
  ASSERT_TRUE(PrintJson(message, JsonOutputOptions{}, json).ok());
  EXPECT_NE(json.find("\"single_int64\":\"9007199254740993\""), std::string::npos) << json;
}

TEST(JsonCodecTest, AppendsToTheOutput) {
  user::v1::GetUserRequest request;
  request.set_id("x");
  std::string out = "prefix:";
  ASSERT_TRUE(PrintJson(request, {}, out).ok());
  EXPECT_EQ(out, R"(prefix:{"id":"x"})");
}

TEST(JsonCodecTest, PresenceDecidesWhatIsPrinted) {
  user::v1::UpdateUserRequest request;
  EXPECT_EQ(Print(request), R"({"id":""})");  // proto3 optional: only when present
  request.set_name("");
  EXPECT_EQ(Print(request), R"({"id":"","name":""})");
  user::v1::GetUserResponse response;
  EXPECT_EQ(Print(response), "{}");  // unset message field
  response.mutable_user();
  EXPECT_EQ(Print(response, true), R"({"user":{"id":"","name":"","email":""}})");
  EchoRequest echo;
  echo.set_choice_number(0);
  EXPECT_NE(Print(echo).find(R"("choice_number":"0")"), std::string::npos);
  EXPECT_EQ(Print(echo).find("choice_text"), std::string::npos);
}

TEST(JsonCodecTest, EscapesStringsAsProtobufDoesForAscii) {
  EchoRequest message;
  message.set_name("\"\\/\b\f\n\r\t\x01\x1f\x7f<>&' \xc3\xa9\xe2\x80\xa8");
  const std::string json = Print(message);
  EXPECT_NE(json.find(R"("name":"\"\\/\b\f\n\r\t\u0001\u001f\u007f\u003c\u003e&' )"
                      "\xc3\xa9\xe2\x80\xa8\"}"),
            std::string::npos)
      << json;
  EchoRequest parsed;
  ASSERT_TRUE(ParseJsonBody(json, parsed).ok());
  EXPECT_EQ(parsed.name(), message.name());
}

struct NumberCase {
  double value;
  std::string text;
};

TEST(JsonCodecTest, PrintsShortestRoundTripNumbersInPrintfLayout) {
  const NumberCase cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {100, "100"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {0.0001, "0.0001"},
      {1e-5, "1e-05"},
      {1e-7, "1e-07"},
      {123456, "123456"},
      {1e15, "1e+15"},
      {123456789012345, "123456789012345"},
      {1e20, "1e+20"},
      {1e300, "1e+300"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.0 / 3, "0.3333333333333333"},  // protobuf: 0.33333333333333331
      {5e-324, "5e-324"},               // protobuf: 4.94065645841247e-324
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {std::numeric_limits<double>::infinity(), "\"Infinity\""},
      {-std::numeric_limits<double>::infinity(), "\"-Infinity\""},
      {std::numeric_limits<double>::quiet_NaN(), "\"NaN\""},
  };
  for (const auto& [value, text] : cases) {
    google::protobuf::DoubleValue message;
    message.set_value(value);
    EXPECT_EQ(Print(message), text);
    if (value != 1.0 / 3 && value != 5e-324) {  // where protobuf prints 17 or 15 digits
      EXPECT_EQ(Print(message), ProtobufPrint(message)) << text;
    }
  }
  const std::pair<float, std::string> floats[] = {
      {0.1f, "0.1"},
      {1e6f, "1e+06"},
      {123456.f, "123456"},
      {1234567.f, "1234567"},
      {3.4028235e38f, "3.4028235e+38"},  // protobuf: 3.40282347e+38
      {1e-3f, "0.001"}};
  for (const auto& [value, text] : floats) {
    google::protobuf::FloatValue message;
    message.set_value(value);
    EXPECT_EQ(Print(message), text);
  }
}

TEST(JsonCodecTest, PrintsWellKnownTypesInTheirJsonForms) {
  google::protobuf::Timestamp timestamp = MakeTimestamp(1704164645, 0);
  EXPECT_EQ(Print(timestamp), R"("2024-01-02T03:04:05Z")");
  timestamp.set_nanos(5000000);
  EXPECT_EQ(Print(timestamp), R"("2024-01-02T03:04:05.005Z")");
  timestamp.set_nanos(5000);
  EXPECT_EQ(Print(timestamp), R"("2024-01-02T03:04:05.000005Z")");
  timestamp.set_nanos(5);
  EXPECT_EQ(Print(timestamp), R"("2024-01-02T03:04:05.000000005Z")");
  google::protobuf::Duration duration;
  duration.set_seconds(1);
  duration.set_nanos(500000000);
  EXPECT_EQ(Print(duration), R"("1.500s")");
  duration.set_seconds(-1);
  duration.set_nanos(-500000000);
  EXPECT_EQ(Print(duration), R"("-1.500s")");
  duration.set_seconds(0);
  EXPECT_EQ(Print(duration), R"("-0.500s")");
  duration.set_seconds(1);
  duration.set_nanos(-1);  // mixed signs: normalised (protobuf prints "1.294967295s")
  EXPECT_EQ(Print(duration), R"("0.999999999s")");
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name.inner_id");
  mask.add_paths("a_1");
  EXPECT_EQ(Print(mask), R"("displayName.innerId,a_1")");
  EXPECT_EQ(Print(google::protobuf::Empty()), "{}");
  google::protobuf::Struct object;
  (*object.mutable_fields())["unset"];
  EXPECT_EQ(Print(object), R"({"unset":null})");  // protobuf omits a Value with no kind
}

TEST(JsonCodecTest, PrintsAnyWithItsType) {
  google::rpc::Status status;
  status.set_code(5);
  status.add_details()->PackFrom(MakeUser(1));
  status.add_details()->PackFrom(MakeTimestamp(1, 0));
  const std::string ours = Print(status);
  EXPECT_EQ(boost::json::parse(ours), boost::json::parse(ProtobufPrint(status))) << ours;
  EXPECT_NE(ours.find(R"({"@type":"type.googleapis.com/google.protobuf.Timestamp",)"
                      R"("value":"1970-01-01T00:00:01Z"})"),
            std::string::npos)
      << ours;
  // A packed default value still has its JSON form (protobuf 3.21 drops "value" here).
  google::protobuf::Any epoch;
  epoch.PackFrom(MakeTimestamp(0, 0));
  EXPECT_EQ(
      Print(epoch),
      R"({"@type":"type.googleapis.com/google.protobuf.Timestamp","value":"1970-01-01T00:00:00Z"})");
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/no.such.Type");
  std::string out = "kept";
  EXPECT_EQ(PrintJson(unknown, {}, out).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(out, "kept");
}

TEST(JsonCodecTest, ValuesWithoutAJsonFormFailToPrintAndLeaveTheOutputAlone) {
  data::v1::GetTimeResponse response;
  response.mutable_time()->set_seconds(253402300800);  // year 10000
  std::string out = "before";
  const absl::Status status = PrintJson(response, {}, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("field \"time\""), std::string::npos) << status;
  EXPECT_EQ(out, "before");
  response.mutable_time()->set_seconds(0);
  response.mutable_time()->set_nanos(-1);
  EXPECT_EQ(PrintJson(response, {}, out).code(), absl::StatusCode::kInternal);
}

// ---- building blocks ------------------------------------------------------------------------

TEST(WellKnownTextTest, TimestampsRoundTripAcrossTheRange) {
  for (std::int64_t seconds = -62135596800; seconds <= 253402300799; seconds += 7776037) {
    std::string text;
    ASSERT_TRUE(FormatTimestamp(seconds, 1000, text));
    std::int64_t parsed_seconds = 0;
    std::int32_t parsed_nanos = 0;
    ASSERT_EQ(ParseTimestamp(text, parsed_seconds, parsed_nanos), TextFormError::kNone) << text;
    EXPECT_EQ(parsed_seconds, seconds) << text;
    EXPECT_EQ(parsed_nanos, 1000) << text;
    EXPECT_EQ(text, Print(MakeTimestamp(seconds, 1000)).substr(1, text.size()));
    EXPECT_EQ(Print(MakeTimestamp(seconds, 1000)), ProtobufPrint(MakeTimestamp(seconds, 1000)));
  }
  std::string text;
  EXPECT_TRUE(FormatTimestamp(-62135596800, 0, text));
  EXPECT_EQ(text, "0001-01-01T00:00:00Z");
  EXPECT_FALSE(FormatTimestamp(-62135596801, 0, text));
  EXPECT_FALSE(FormatTimestamp(0, 1000000000, text));
}

TEST(WellKnownTextTest, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 40; ++length) {
    std::string encoded;
    Base64Encode(bytes, encoded);
    std::string decoded;
    ASSERT_TRUE(Base64Decode(encoded, decoded)) << encoded;
    EXPECT_EQ(decoded, bytes);
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    decoded.clear();
    ASSERT_TRUE(Base64Decode(encoded, decoded)) << encoded;
    EXPECT_EQ(decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 200));
  }
}

}  // namespace
}  // namespace switchyard::gateway
