#include "gateway/json/protobuf_json_codec.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include "gateway/json/well_known_text.hpp"

namespace switchyard::gateway::protobuf_json {
namespace {

using boost::json::error_code;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using json_codec_internal::Cat;
using json_codec_internal::GetWellKnownType;
using json_codec_internal::WellKnownType;
using JsonText = boost::json::string_view;

// A plain decimal integer: what the gateway accepts for an integer given as a string.
bool IsPlainInteger(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The pre-pass: a SAX handler that follows the message's descriptors and records the first
// problem protobuf would let through.
class StrictnessCheck {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit StrictnessCheck(const Descriptor& root) : root_(&root) {}

  const std::string& problem() const { return problem_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code& ec) {
    Frame frame;
    const FieldDescriptor* field = nullptr;
    if (stack_.empty()) {
      frame.kind = Frame::kMessage;
      frame.type = root_;
    } else if (!Expected(field)) {
      frame.kind = Frame::kAny;
    } else if (field->is_map()) {
      if (Top().kind == Frame::kMessage) {
        frame.kind = Frame::kMap;
        frame.map_value = field->message_type()->map_value();
      } else {
        frame.kind = Frame::kMessage;  // an element of a repeated map is impossible; stay safe
        frame.type = field->message_type();
      }
    } else if (field->is_repeated() && Top().kind == Frame::kMessage) {
      return Fail(ec, "expected an array, got an object");
    } else if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return Fail(ec, "expected a scalar, got an object");
    } else {
      switch (GetWellKnownType(*field->message_type())) {
        case WellKnownType::kNone:
        case WellKnownType::kEmpty:
          frame.kind = Frame::kMessage;
          frame.type = field->message_type();
          break;
        case WellKnownType::kStruct:
        case WellKnownType::kValue:
        case WellKnownType::kAny:
          frame.kind = Frame::kAny;
          break;
        default:
          return Fail(ec, "expected a string or a number, got an object");
      }
    }
    stack_.push_back(std::move(frame));
    return true;
  }

  bool on_object_end(std::size_t, error_code&) {
    stack_.pop_back();
    return true;
  }

  bool on_array_begin(error_code& ec) {
    Frame frame;
    const FieldDescriptor* field = nullptr;
    if (stack_.empty()) return Fail(ec, "expected an object, got an array");
    if (!Expected(field)) {
      frame.kind = Frame::kAny;
    } else if (field->is_repeated() && !field->is_map() && Top().kind == Frame::kMessage) {
      frame.kind = Frame::kArray;
      frame.element = field;
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               (GetWellKnownType(*field->message_type()) == WellKnownType::kListValue ||
                GetWellKnownType(*field->message_type()) == WellKnownType::kValue)) {
      frame.kind = Frame::kAny;
    } else {
      return Fail(ec, "expected a single value, got an array");
    }
    stack_.push_back(std::move(frame));
    return true;
  }

  bool on_array_end(std::size_t, error_code&) {
    stack_.pop_back();
    return true;
  }

  bool on_key_part(JsonText part, std::size_t, error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }

  bool on_key(JsonText part, std::size_t, error_code& ec) {
    key_.append(part.data(), part.size());
    Frame& frame = Top();
    frame.field = nullptr;
    if (frame.kind == Frame::kMap) {
      if (std::find(frame.keys.begin(), frame.keys.end(), key_) != frame.keys.end()) {
        return Fail(ec, Cat("map key \"", key_, "\" is given more than once"));
      }
      frame.keys.push_back(key_);
    } else if (frame.kind == Frame::kMessage) {
      const FieldDescriptor* field = frame.type->FindFieldByName(key_);
      for (int i = 0; field == nullptr && i < frame.type->field_count(); ++i) {
        if (frame.type->field(i)->json_name() == key_) field = frame.type->field(i);
      }
      if (field != nullptr) {  // unknown names are left to protobuf, which rejects them
        if (std::find(frame.seen.begin(), frame.seen.end(), field) != frame.seen.end()) {
          return Fail(ec, Cat("field \"", key_, "\" appears more than once"));
        }
        for (const FieldDescriptor* seen : frame.seen) {
          if (seen->real_containing_oneof() != nullptr &&
              seen->real_containing_oneof() == field->real_containing_oneof()) {
            return Fail(ec, Cat("field \"", key_, "\": oneof already has field \"", seen->name(),
                                "\" set"));
          }
        }
        frame.seen.push_back(field);
        frame.field = field;
      }
    }
    key_.clear();
    return true;
  }

  bool on_string_part(JsonText part, std::size_t, error_code&) {
    string_.append(part.data(), part.size());
    return true;
  }

  bool on_string(JsonText part, std::size_t, error_code& ec) {
    string_.append(part.data(), part.size());
    const bool ok = CheckString(string_, ec);
    string_.clear();
    return ok;
  }

  bool on_number_part(JsonText, error_code&) { return true; }
  bool on_int64(std::int64_t, JsonText, error_code& ec) { return CheckNumber(ec); }
  bool on_uint64(std::uint64_t, JsonText, error_code& ec) { return CheckNumber(ec); }
  bool on_double(double, JsonText, error_code& ec) { return CheckNumber(ec); }

  bool on_bool(bool, error_code& ec) {
    const FieldDescriptor* field = nullptr;
    if (!Expected(field) || Scalar(*field)->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      return true;
    }
    return Fail(ec, "unexpected true or false");
  }

  bool on_null(error_code&) { return true; }
  bool on_comment_part(JsonText, error_code&) { return true; }
  bool on_comment(JsonText, error_code&) { return true; }

 private:
  struct Frame {
    enum Kind { kMessage, kMap, kArray, kAny } kind = kAny;
    const Descriptor* type = nullptr;            // kMessage
    const FieldDescriptor* field = nullptr;      // kMessage: the field of the current key
    const FieldDescriptor* map_value = nullptr;  // kMap
    const FieldDescriptor* element = nullptr;    // kArray
    std::vector<const FieldDescriptor*> seen;    // kMessage
    std::vector<std::string> keys;               // kMap
  };

  Frame& Top() { return stack_.back(); }

  // The field the next value is for; false when anything goes (Struct, Value, unknown keys).
  bool Expected(const FieldDescriptor*& field) {
    const Frame& frame = stack_.back();
    switch (frame.kind) {
      case Frame::kMessage:
        field = frame.field;
        break;
      case Frame::kMap:
        field = frame.map_value;
        break;
      case Frame::kArray:
        field = frame.element;
        break;
      case Frame::kAny:
        field = nullptr;
        break;
    }
    return field != nullptr;
  }

  // A wrapper's `value` field stands for the wrapper.
  static const FieldDescriptor* Scalar(const FieldDescriptor& field) {
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        GetWellKnownType(*field.message_type()) == WellKnownType::kWrapper) {
      return field.message_type()->field(0);
    }
    return &field;
  }

  bool CheckString(const std::string& text, error_code& ec) {
    const FieldDescriptor* declared = nullptr;
    if (!Expected(declared)) return true;
    if (declared->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      std::int64_t seconds = 0;
      std::int32_t nanos = 0;
      switch (GetWellKnownType(*declared->message_type())) {
        case WellKnownType::kTimestamp:
          if (ParseTimestamp(text, seconds, nanos) != TextFormError::kNone) {
            return Fail(ec, TimestampProblem(Cat("\"", text, "\""), TextFormError::kSyntax));
          }
          return true;
        case WellKnownType::kDuration:
          if (ParseDuration(text, seconds, nanos) != TextFormError::kNone) {
            return Fail(ec, DurationProblem(Cat("\"", text, "\""), TextFormError::kSyntax));
          }
          return true;
        case WellKnownType::kWrapper:
          break;
        default:
          return true;
      }
    }
    const FieldDescriptor& field = *Scalar(*declared);
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        if (!IsPlainInteger(text)) return Fail(ec, Cat("\"", text, "\" is not a valid integer"));
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        return Fail(ec, "expected true or false, got a string");
      case FieldDescriptor::CPPTYPE_STRING:
        if (field.type() == FieldDescriptor::TYPE_BYTES) {
          std::string bytes;
          if (!Base64Decode(text, bytes)) return Fail(ec, Base64Problem(Cat("\"", text, "\"")));
        }
        return true;
      default:
        return true;  // enums by name, "NaN" and friends: protobuf checks them
    }
  }

  bool CheckNumber(error_code& ec) {
    const FieldDescriptor* field = nullptr;
    if (!Expected(field)) return true;
    switch (Scalar(*field)->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        return Fail(ec, "expected true or false, got a number");
      case FieldDescriptor::CPPTYPE_STRING:
        return Fail(ec, "expected a string, got a number");
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Fail(ec, "expected an object or a string, got a number");
      default:
        return true;
    }
  }

  bool Fail(error_code& ec, std::string problem) {
    problem_ = std::move(problem);
    ec = boost::json::error::extra_data;  // any error stops the parser; problem_ says which
    return false;
  }

  const Descriptor* root_;
  std::vector<Frame> stack_;
  std::string key_;
  std::string string_;
  std::string problem_;
};

}  // namespace

absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message,
                           const JsonParseOptions& options) {
  boost::json::parse_options parse_options;
  parse_options.max_depth = static_cast<std::size_t>(options.max_depth);
  boost::json::basic_parser<StrictnessCheck> parser(parse_options, *message.GetDescriptor());
  error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  if (ec) {
    const std::string& problem = parser.handler().problem();
    return absl::InvalidArgumentError(
        Cat("invalid JSON body: ", problem.empty() ? ec.message() : problem));
  }
  message.Clear();
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(Cat(
        "invalid JSON body: ", std::string_view(status.message().data(), status.message().size())));
  }
  return absl::OkStatus();
}

absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out) {
  google::protobuf::util::JsonPrintOptions print_options;
  print_options.preserve_proto_field_names = !options.camel_case;
  print_options.always_print_primitive_fields = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, print_options);
  if (!status.ok()) return absl::InternalError("a value has no JSON form");
  out += json;
  return absl::OkStatus();
}

}  // namespace switchyard::gateway::protobuf_json
