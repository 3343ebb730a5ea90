#include "gateway/routing/field_binding.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/validation.hpp"
#include "gateway/json/well_known_text.hpp"
#include "gateway/routing/path_template.hpp"

namespace switchyard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// Quotes `text` for an error message: printable ASCII as is, other bytes as \xNN, at most 64 bytes.
// Error messages end up in JSON bodies and logs, so they never carry raw client bytes.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxBytes = 64;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxBytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  if (text.size() > kMaxBytes) out += "...";
  out += '"';
  return out;
}

absl::Status InvalidValue(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError("invalid value for field " + Quote(name) + ": " +
                                    std::string(what));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// A QueryBinder's table stops growing here (recursive or very wide types): names past it are
// resolved when they arrive.
constexpr std::size_t kMaxQueryNames = 4096;

// --- Field paths -------------------------------------------------------------------------------

const FieldDescriptor* FindField(const Descriptor& descriptor, std::string_view name) {
  if (const FieldDescriptor* field = descriptor.FindFieldByName(std::string(name))) return field;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == name) return descriptor.field(i);
  }
  return nullptr;
}

// The fields `field_path` names; `unknown` tells a missing field apart from the other errors.
absl::Status ResolveChain(const Descriptor& descriptor, std::string_view field_path,
                          std::vector<const FieldDescriptor*>& fields, bool& unknown) {
  unknown = false;
  fields.clear();
  const Descriptor* current = &descriptor;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = field_path.find('.', begin);
    const std::string_view name = field_path.substr(begin, dot - begin);
    if (name.empty()) return absl::InvalidArgumentError("invalid field path " + Quote(field_path));
    if (current == nullptr) {
      const std::string_view parent = field_path.substr(0, begin - 1);
      return absl::InvalidArgumentError("invalid field path " + Quote(field_path) + ": " +
                                        Quote(parent) + " is not a message");
    }
    const FieldDescriptor* field = FindField(*current, name);
    if (field == nullptr) {
      unknown = true;
      return absl::InvalidArgumentError("unknown field " + Quote(field_path));
    }
    fields.push_back(field);
    if (dot == std::string_view::npos) return absl::OkStatus();
    const std::string_view prefix = field_path.substr(0, dot);
    if (field->is_map()) {
      return absl::InvalidArgumentError("invalid field path " + Quote(field_path) + ": " +
                                        Quote(prefix) + " is a map field");
    }
    if (field->is_repeated()) {
      return absl::InvalidArgumentError("invalid field path " + Quote(field_path) + ": " +
                                        Quote(prefix) + " is a repeated field");
    }
    current =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
    begin = dot + 1;
  }
}

// --- Scalars -----------------------------------------------------------------------------------

// A converted scalar; enums are held as their number (int32_t), string and bytes as std::string.
using Scalar = std::variant<std::int32_t, std::int64_t, std::uint32_t, std::uint64_t, float, double,
                            bool, std::string>;

// "an int32", "a uint64": for "... is not <this>".
std::string_view TypeWithArticle(FieldDescriptor::Type type) {
  switch (type) {
    case FieldDescriptor::TYPE_INT32:
      return "an int32";
    case FieldDescriptor::TYPE_INT64:
      return "an int64";
    case FieldDescriptor::TYPE_UINT32:
      return "a uint32";
    case FieldDescriptor::TYPE_UINT64:
      return "a uint64";
    case FieldDescriptor::TYPE_SINT32:
      return "an sint32";
    case FieldDescriptor::TYPE_SINT64:
      return "an sint64";
    case FieldDescriptor::TYPE_FIXED32:
      return "a fixed32";
    case FieldDescriptor::TYPE_FIXED64:
      return "a fixed64";
    case FieldDescriptor::TYPE_SFIXED32:
      return "an sfixed32";
    case FieldDescriptor::TYPE_SFIXED64:
      return "an sfixed64";
    case FieldDescriptor::TYPE_FLOAT:
      return "a float";
    case FieldDescriptor::TYPE_DOUBLE:
      return "a double";
    case FieldDescriptor::TYPE_BOOL:
      return "a bool (true or false)";
    default:
      return "a valid value";
  }
}

enum class NumberError { kNone, kSyntax, kRange };

// Decimal integer, nothing around it: no sign for unsigned types, no '+', no spaces.
template <typename Int>
NumberError ParseInteger(std::string_view text, Int& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ptr != end || text.empty()) return NumberError::kSyntax;
  if (ec == std::errc::result_out_of_range) return NumberError::kRange;
  return ec == std::errc() ? NumberError::kNone : NumberError::kSyntax;
}

// Decimal or exponent notation, or the JSON spellings "NaN", "Infinity", "-Infinity".
template <typename Float>
NumberError ParseFloat(std::string_view text, Float& out) {
  if (text == "NaN") {
    out = std::numeric_limits<Float>::quiet_NaN();
    return NumberError::kNone;
  }
  if (text == "Infinity" || text == "-Infinity") {
    out = text.front() == '-' ? -std::numeric_limits<Float>::infinity()
                              : std::numeric_limits<Float>::infinity();
    return NumberError::kNone;
  }
  // from_chars also takes "inf", "nan(...)" and friends: only digits or '.' may follow the sign.
  const std::size_t first = !text.empty() && text.front() == '-' ? 1 : 0;
  if (first >= text.size() || !(IsDigit(text[first]) || text[first] == '.')) {
    return NumberError::kSyntax;
  }
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  if (ptr != end) return NumberError::kSyntax;
  if (ec == std::errc::result_out_of_range) return NumberError::kRange;
  return ec == std::errc() ? NumberError::kNone : NumberError::kSyntax;
}

// In a query string an unencoded '+' arrives as a space, and a space is never valid in a
// Timestamp or in base64: read it as the '+' it was.
std::string SpaceAsPlus(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), ' ', '+');
  return out;
}

absl::Status ParseScalar(const FieldDescriptor& field, std::string_view name, std::string_view text,
                         Scalar& out) {
  auto integer = [&]<typename Int>(Int value) -> absl::Status {
    switch (ParseInteger(text, value)) {
      case NumberError::kNone:
        out = value;
        return absl::OkStatus();
      case NumberError::kRange:
        return InvalidValue(name, Quote(text) + " is out of range for " + field.type_name());
      case NumberError::kSyntax:
        break;
    }
    return InvalidValue(name,
                        Quote(text) + " is not " + std::string(TypeWithArticle(field.type())));
  };
  auto floating = [&]<typename Float>(Float value) -> absl::Status {
    switch (ParseFloat(text, value)) {
      case NumberError::kNone:
        out = value;
        return absl::OkStatus();
      case NumberError::kRange:
        return InvalidValue(name, Quote(text) + " is out of range for " + field.type_name());
      case NumberError::kSyntax:
        break;
    }
    return InvalidValue(name,
                        Quote(text) + " is not " + std::string(TypeWithArticle(field.type())));
  };

  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return integer(std::int32_t{});
    case FieldDescriptor::CPPTYPE_INT64:
      return integer(std::int64_t{});
    case FieldDescriptor::CPPTYPE_UINT32:
      return integer(std::uint32_t{});
    case FieldDescriptor::CPPTYPE_UINT64:
      return integer(std::uint64_t{});
    case FieldDescriptor::CPPTYPE_FLOAT:
      return floating(float{});
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return floating(double{});
    case FieldDescriptor::CPPTYPE_BOOL:
      if (text == "true" || text == "false") {
        out = text == "true";
        return absl::OkStatus();
      }
      return InvalidValue(name, Quote(text) + " is not a bool (true or false)");
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (const EnumValueDescriptor* value =
              field.enum_type()->FindValueByName(std::string(text))) {
        out = value->number();
        return absl::OkStatus();
      }
      // A number: any int32 for an open (proto3) enum, a declared one for a closed enum.
      std::int32_t number = 0;
      if (ParseInteger(text, number) == NumberError::kNone &&
          (field.enum_type()->FindValueByNumber(number) != nullptr ||
           field.containing_type()->file()->syntax() == FileDescriptor::SYNTAX_PROTO3)) {
        out = number;
        return absl::OkStatus();
      }
      return InvalidValue(
          name, Quote(text) + " is not a value of enum " + field.enum_type()->full_name());
    }
    case FieldDescriptor::CPPTYPE_STRING:
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        std::string bytes;
        if (!Base64Decode(SpaceAsPlus(text), bytes)) {
          return InvalidValue(name, Base64Problem(Quote(text)));
        }
        out = std::move(bytes);
        return absl::OkStatus();
      }
      if (!IsValidUtf8(text)) return InvalidValue(name, "the text is not valid UTF-8");
      out = std::string(text);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::InternalError("ParseScalar on a message field");
}

void WriteScalar(Message& message, const FieldDescriptor& field, Scalar value) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto v = std::get<std::int32_t>(value);
      repeated ? reflection.AddInt32(&message, &field, v)
               : reflection.SetInt32(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      const auto v = std::get<std::int64_t>(value);
      repeated ? reflection.AddInt64(&message, &field, v)
               : reflection.SetInt64(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto v = std::get<std::uint32_t>(value);
      repeated ? reflection.AddUInt32(&message, &field, v)
               : reflection.SetUInt32(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const auto v = std::get<std::uint64_t>(value);
      repeated ? reflection.AddUInt64(&message, &field, v)
               : reflection.SetUInt64(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const auto v = std::get<float>(value);
      repeated ? reflection.AddFloat(&message, &field, v)
               : reflection.SetFloat(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const auto v = std::get<double>(value);
      repeated ? reflection.AddDouble(&message, &field, v)
               : reflection.SetDouble(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const auto v = std::get<bool>(value);
      repeated ? reflection.AddBool(&message, &field, v) : reflection.SetBool(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto v = std::get<std::int32_t>(value);
      repeated ? reflection.AddEnumValue(&message, &field, v)
               : reflection.SetEnumValue(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      auto v = std::get<std::string>(std::move(value));
      repeated ? reflection.AddString(&message, &field, std::move(v))
               : reflection.SetString(&message, &field, std::move(v));
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

// --- Well-known types --------------------------------------------------------------------------

enum class LeafKind { kScalar, kTimestamp, kDuration, kFieldMask, kWrapper, kMessage };

LeafKind KindOf(const FieldDescriptor& field) {
  if (field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return LeafKind::kScalar;
  const std::string& type = field.message_type()->full_name();
  if (type == "google.protobuf.Timestamp") return LeafKind::kTimestamp;
  if (type == "google.protobuf.Duration") return LeafKind::kDuration;
  if (type == "google.protobuf.FieldMask") return LeafKind::kFieldMask;
  constexpr std::string_view kWrappers[] = {
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  if (std::find(std::begin(kWrappers), std::end(kWrappers), type) != std::end(kWrappers)) {
    return LeafKind::kWrapper;
  }
  return LeafKind::kMessage;
}

struct SecondsNanos {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
};

// A Timestamp or a Duration read by the parsers JSON bodies use (gateway/json/well_known_text).
absl::Status ParseTimestampLeaf(std::string_view name, std::string_view text, SecondsNanos& out) {
  const TextFormError error = ParseTimestamp(SpaceAsPlus(text), out.seconds, out.nanos);
  if (error == TextFormError::kNone) return absl::OkStatus();
  return InvalidValue(name, TimestampProblem(Quote(text), error));
}

absl::Status ParseDurationLeaf(std::string_view name, std::string_view text, SecondsNanos& out) {
  const TextFormError error = ParseDuration(text, out.seconds, out.nanos);
  if (error == TextFormError::kNone) return absl::OkStatus();
  return InvalidValue(name, DurationProblem(Quote(text), error));
}

// Comma-separated field paths; lowerCamelCase segments become snake_case ("user.displayName" ->
// "user.display_name"), snake_case ones stay. A segment mixing both is ambiguous and rejected.
absl::Status ParseFieldMask(std::string_view name, std::string_view text,
                            std::vector<std::string>& out) {
  if (text.empty()) return absl::OkStatus();
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::string_view path = text.substr(begin, comma - begin);
    std::string converted;
    std::size_t segment_begin = 0;
    while (true) {
      const std::size_t dot = path.find('.', segment_begin);
      const std::string_view segment = path.substr(segment_begin, dot - segment_begin);
      const bool has_upper = std::any_of(segment.begin(), segment.end(), IsUpper);
      const bool valid =
          !segment.empty() && !IsDigit(segment.front()) &&
          std::all_of(segment.begin(), segment.end(),
                      [](char c) { return IsLower(c) || IsUpper(c) || IsDigit(c) || c == '_'; }) &&
          !(has_upper && segment.find('_') != std::string_view::npos);
      if (!valid) {
        return InvalidValue(name, Quote(text) +
                                      " is not a field mask (comma-separated field paths, e.g. "
                                      "name,address.zipCode)");
      }
      if (!converted.empty()) converted += '.';
      for (char c : segment) {
        if (IsUpper(c)) {
          converted += '_';
          converted += static_cast<char>(c - 'A' + 'a');
        } else {
          converted += c;
        }
      }
      if (dot == std::string_view::npos) break;
      segment_begin = dot + 1;
    }
    out.push_back(std::move(converted));
    if (comma == std::string_view::npos) return absl::OkStatus();
    begin = comma + 1;
  }
}

// A leaf value converted from text, before anything in the message changes.
struct ParsedLeaf {
  LeafKind kind = LeafKind::kScalar;
  Scalar scalar;                   // kScalar, kWrapper
  SecondsNanos time;               // kTimestamp, kDuration
  std::vector<std::string> paths;  // kFieldMask
};

absl::Status ParseLeaf(const FieldDescriptor& field, std::string_view name, std::string_view text,
                       ParsedLeaf& out) {
  out.kind = KindOf(field);
  if (field.is_map()) {
    return absl::InvalidArgumentError("field " + Quote(name) +
                                      " is a map and cannot be set from the URL");
  }
  switch (out.kind) {
    case LeafKind::kScalar:
      return ParseScalar(field, name, text, out.scalar);
    case LeafKind::kTimestamp:
      return ParseTimestampLeaf(name, text, out.time);
    case LeafKind::kDuration:
      return ParseDurationLeaf(name, text, out.time);
    case LeafKind::kFieldMask:
      return ParseFieldMask(name, text, out.paths);
    case LeafKind::kWrapper:
      return ParseScalar(*field.message_type()->FindFieldByNumber(1), name, text, out.scalar);
    case LeafKind::kMessage:
      break;
  }
  const Descriptor& type = *field.message_type();
  std::string hint;
  if (type.field_count() > 0) {
    hint =
        ": set its fields instead, e.g. " + Quote(std::string(name) + "." + type.field(0)->name());
  }
  return absl::InvalidArgumentError("field " + Quote(name) + " is a message (" + type.full_name() +
                                    ") and cannot be set from text" + hint);
}

void WriteLeaf(Message& parent, const FieldDescriptor& field, ParsedLeaf leaf) {
  if (leaf.kind == LeafKind::kScalar) {
    WriteScalar(parent, field, std::move(leaf.scalar));
    return;
  }
  const Reflection& reflection = *parent.GetReflection();
  Message& target = field.is_repeated() ? *reflection.AddMessage(&parent, &field)
                                        : *reflection.MutableMessage(&parent, &field);
  const Descriptor& type = *target.GetDescriptor();
  const Reflection& target_reflection = *target.GetReflection();
  switch (leaf.kind) {
    case LeafKind::kTimestamp:
    case LeafKind::kDuration:
      target_reflection.SetInt64(&target, type.FindFieldByNumber(1), leaf.time.seconds);
      target_reflection.SetInt32(&target, type.FindFieldByNumber(2), leaf.time.nanos);
      break;
    case LeafKind::kFieldMask:
      target_reflection.ClearField(&target, type.FindFieldByNumber(1));
      for (std::string& path : leaf.paths) {
        target_reflection.AddString(&target, type.FindFieldByNumber(1), std::move(path));
      }
      break;
    case LeafKind::kWrapper:
      WriteScalar(target, *type.FindFieldByNumber(1), std::move(leaf.scalar));
      break;
    case LeafKind::kScalar:
    case LeafKind::kMessage:
      break;
  }
}

// A oneof member may not replace another member that is set already (say, one from the path and
// one from the query string): reflection would silently clear the first.
absl::Status CheckOneof(const Message& message, const FieldDescriptor& field,
                        std::string_view name) {
  const OneofDescriptor* oneof = field.real_containing_oneof();
  if (oneof == nullptr) return absl::OkStatus();
  const FieldDescriptor* current = message.GetReflection()->GetOneofFieldDescriptor(message, oneof);
  if (current == nullptr || current == &field) return absl::OkStatus();
  return absl::InvalidArgumentError("field " + Quote(name) + " cannot be set: field " +
                                    Quote(current->name()) + " of the same oneof (" +
                                    Quote(oneof->name()) + ") is set already");
}

absl::Status SetResolved(Message& message, std::span<const FieldDescriptor* const> fields,
                         std::string_view name, std::string_view value) {
  const FieldDescriptor& leaf = *fields.back();
  ParsedLeaf parsed;
  if (absl::Status status = ParseLeaf(leaf, name, value, parsed); !status.ok()) return status;
  // Check every oneof on the way before changing anything.
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const Message& holder = WalkFields(std::as_const(message), fields.first(i));
    if (absl::Status status = CheckOneof(holder, *fields[i], name); !status.ok()) return status;
  }
  WriteLeaf(WalkFields(message, fields.first(fields.size() - 1)), leaf, std::move(parsed));
  return absl::OkStatus();
}

// Both forms of WalkFields.
template <typename M>
M& Walk(M& root, std::span<const FieldDescriptor* const> fields) {
  M* current = &root;
  for (const FieldDescriptor* field : fields) {
    if constexpr (std::is_const_v<M>) {
      current = &current->GetReflection()->GetMessage(*current, field);
    } else {
      current = current->GetReflection()->MutableMessage(current, field);
    }
  }
  return *current;
}

}  // namespace

FieldPath::FieldPath(std::vector<const FieldDescriptor*> fields, std::string name)
    : fields_(std::move(fields)), name_(std::move(name)) {
  for (const FieldDescriptor* field : fields_) {
    if (!canonical_.empty()) canonical_ += '.';
    canonical_ += field->name();
  }
}

absl::StatusOr<FieldPath> FieldPath::Resolve(const Descriptor& descriptor, std::string_view path,
                                             bool& unknown) {
  std::vector<const FieldDescriptor*> fields;
  if (absl::Status status = ResolveChain(descriptor, path, fields, unknown); !status.ok()) {
    return status;
  }
  return FieldPath(std::move(fields), std::string(path));
}

absl::StatusOr<FieldPath> FieldPath::Resolve(const Descriptor& descriptor, std::string_view path) {
  bool unknown = false;
  return Resolve(descriptor, path, unknown);
}

bool FieldPath::Overlaps(const FieldPath& other) const {
  const std::size_t common = std::min(fields_.size(), other.fields_.size());
  return common > 0 && std::equal(fields_.begin(), fields_.begin() + common, other.fields_.begin());
}

const Message& WalkFields(const Message& root, std::span<const FieldDescriptor* const> fields) {
  return Walk(root, fields);
}

Message& WalkFields(Message& root, std::span<const FieldDescriptor* const> fields) {
  return Walk(root, fields);
}

absl::Status SetField(Message& message, const FieldPath& path, std::string_view value) {
  return SetResolved(message, path.fields(), path.name(), value);
}

absl::Status SetField(Message& message, std::string_view field_path, std::string_view value) {
  absl::StatusOr<FieldPath> path = FieldPath::Resolve(*message.GetDescriptor(), field_path);
  if (!path.ok()) return path.status();
  return SetField(message, *path, value);
}

absl::StatusOr<QueryParameters> ParseQuery(std::string_view query) {
  QueryParameters parameters;
  std::size_t begin = 0;
  while (begin <= query.size()) {
    std::size_t end = query.find('&', begin);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    const std::string_view raw_key = pair.substr(0, equals);
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    std::string key;
    std::string value;
    if (!PercentDecodeTo(raw_key, PercentDecodeMode::kForm, key) ||
        !PercentDecodeTo(raw_value, PercentDecodeMode::kForm, value)) {
      return absl::InvalidArgumentError("malformed percent-encoding in query parameter " +
                                        Quote(raw_key));
    }
    if (key.empty()) {
      return absl::InvalidArgumentError("query parameter without a name: " + Quote(pair));
    }
    parameters.emplace_back(std::move(key), std::move(value));
  }
  return parameters;
}

QueryBinder::QueryBinder(const Descriptor& request, std::vector<FieldPath> bound,
                         bool body_takes_all)
    : request_(&request), bound_(std::move(bound)), body_takes_all_(body_takes_all) {
  if (body_takes_all_) return;  // no parameter can bind: every name goes the slow way to its error
  std::vector<const FieldDescriptor*> chain;
  AddPaths(request, "", chain);
}

void QueryBinder::AddPaths(const Descriptor& type, std::string spelled,
                           std::vector<const FieldDescriptor*>& chain) {
  for (int i = 0; i < type.field_count() && by_name_.size() < kMaxQueryNames; ++i) {
    const FieldDescriptor* field = type.field(i);
    chain.push_back(field);
    const FieldPath* path = nullptr;
    for (const std::string* spelling : {&field->name(), &field->json_name()}) {
      std::string name = spelled.empty() ? *spelling : spelled + "." + *spelling;
      if (by_name_.contains(name)) continue;  // json_name equal to the proto name
      if (path == nullptr) {
        path = &paths_.emplace_back(FieldPath(chain, name));
      }
      Entry entry{path, nullptr};
      for (const FieldPath& other : bound_) {
        if (path->Overlaps(other)) {
          entry.conflict = &other;
          break;
        }
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
          chain.size() < kMaxResolvedDepth) {
        AddPaths(*field->message_type(), name, chain);
      }
      by_name_.emplace(std::move(name), entry);
    }
    chain.pop_back();
  }
}

absl::Status QueryBinder::CheckAndSet(Message& message, const FieldPath& path,
                                      const FieldPath* conflict, std::string_view key,
                                      std::string_view value,
                                      std::vector<const FieldPath*>& singular_seen) const {
  if (body_takes_all_) {
    return absl::InvalidArgumentError("query parameter " + Quote(key) +
                                      " is not allowed: the request body sets every field");
  }
  if (conflict != nullptr) {
    return absl::InvalidArgumentError("query parameter " + Quote(key) + " conflicts with field " +
                                      Quote(conflict->canonical()) +
                                      ", bound from the path or the body");
  }
  if (!path.leaf().is_repeated()) {
    for (const FieldPath* seen : singular_seen) {
      if (seen->fields().size() == path.fields().size() &&
          std::equal(path.fields().begin(), path.fields().end(), seen->fields().begin())) {
        return absl::InvalidArgumentError("query parameter " + Quote(key) +
                                          " is given more than once but is not repeated");
      }
    }
    singular_seen.push_back(&path);
  }
  return SetResolved(message, path.fields(), key, value);
}

absl::Status QueryBinder::Bind(Message& message, std::string_view query) const {
  absl::StatusOr<QueryParameters> parameters = ParseQuery(query);
  if (!parameters.ok()) return parameters.status();
  std::vector<const FieldPath*> singular_seen;
  std::deque<FieldPath> resolved_here;  // names outside the table, resolved on the spot
  for (const auto& [key, value] : *parameters) {
    if (const auto found = by_name_.find(std::string_view(key)); found != by_name_.end()) {
      const Entry& entry = found->second;
      if (absl::Status status =
              CheckAndSet(message, *entry.path, entry.conflict, key, value, singular_seen);
          !status.ok()) {
        return status;
      }
      continue;
    }
    bool unknown = true;
    absl::StatusOr<FieldPath> path = request_ == nullptr
                                         ? absl::InvalidArgumentError("no fields")
                                         : FieldPath::Resolve(*request_, key, unknown);
    if (!path.ok()) {
      if (unknown) return absl::InvalidArgumentError("unknown query parameter " + Quote(key));
      return absl::InvalidArgumentError("query parameter " + Quote(key) + ": " +
                                        std::string(path.status().message()));
    }
    const FieldPath* conflict = nullptr;
    for (const FieldPath& other : bound_) {
      if (path->Overlaps(other)) {
        conflict = &other;
        break;
      }
    }
    const FieldPath& kept = resolved_here.emplace_back(*std::move(path));
    if (absl::Status status = CheckAndSet(message, kept, conflict, key, value, singular_seen);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status BindQuery(Message& message, std::string_view query,
                       const std::vector<std::string>& bound_paths) {
  const Descriptor& descriptor = *message.GetDescriptor();
  std::vector<FieldPath> bound;
  bool body_takes_all = false;
  for (const std::string& text : bound_paths) {
    if (text == "*") {
      body_takes_all = true;
    } else if (absl::StatusOr<FieldPath> path = FieldPath::Resolve(descriptor, text); path.ok()) {
      bound.push_back(*std::move(path));
    }
  }
  return QueryBinder(descriptor, std::move(bound), body_takes_all).Bind(message, query);
}

}  // namespace switchyard::gateway
