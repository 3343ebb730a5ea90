// The JSON parser of the codec: a recursive-descent reader over the request body that sets fields
// through reflection as it goes (no DOM). Strings without escapes are never copied before they
// reach their field.

#include "gateway/json/json_codec.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "gateway/json/well_known_text.hpp"

namespace switchyard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;
using json_codec_internal::WellKnownType;

using json_codec_internal::Cat;

bool IsValueMessage(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         json_codec_internal::GetWellKnownType(*field.message_type()) == WellKnownType::kValue;
}

bool IsNullValueEnum(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
         field.enum_type()->full_name() == "google.protobuf.NullValue";
}

// The pool of generated types (looked up once: the accessor is not free).
const DescriptorPool* GeneratedPool() {
  static const DescriptorPool* const pool = DescriptorPool::generated_pool();
  return pool;
}

class FieldTable;

// What the parser needs to know of a field, worked out once: asking a descriptor is not free
// (several accessors go through a call_once each time).
struct FieldInfo {
  explicit FieldInfo(const FieldDescriptor& field)
      : descriptor(&field),
        cpp_type(field.cpp_type()),
        type(field.type()),
        is_map(field.is_map()),
        is_repeated(field.is_repeated()),
        null_is_value(IsValueMessage(field) || IsNullValueEnum(field)),
        oneof(field.real_containing_oneof()),
        message_type(field.message_type()),
        enum_type(field.enum_type()),
        // Proto2 enums are closed: only declared numbers are values.
        closed_enum(enum_type != nullptr &&
                    enum_type->file()->syntax() == FileDescriptor::SYNTAX_PROTO2) {}

  const FieldDescriptor* descriptor;
  FieldDescriptor::CppType cpp_type;
  FieldDescriptor::Type type;
  bool is_map;
  bool is_repeated;
  bool null_is_value;  // google.protobuf.Value or NullValue: JSON null is a value, not "unset"
  const OneofDescriptor* oneof;    // a real oneof, not the one of a proto3 `optional`
  const Descriptor* message_type;  // message fields and map entries
  const EnumDescriptor* enum_type;
  bool closed_enum;
  // message_type's table, linked on first use. Tables live in a per-thread (or per-call) cache,
  // so only one thread ever writes this.
  mutable const FieldTable* table = nullptr;
};

// One message type: its fields by JSON name (proto names and json names).
class FieldTable {
 public:
  explicit FieldTable(const Descriptor& descriptor)
      : descriptor_(descriptor), well_known_(json_codec_internal::GetWellKnownType(descriptor)) {
    fields_.reserve(static_cast<std::size_t>(descriptor.field_count()));
    for (int i = 0; i < descriptor.field_count(); ++i) {
      const FieldDescriptor& field = *descriptor.field(i);
      fields_.emplace_back(field);
      names_.push_back({field.name(), i});
      if (field.json_name() != field.name()) names_.push_back({field.json_name(), i});
      if (field.number() > 0 && field.number() < static_cast<int>(by_number_.size())) {
        by_number_[static_cast<std::size_t>(field.number())] = &fields_.back();
      }
    }
    if (names_.size() > kLinearLimit) {
      for (const auto& name : names_) by_name_.emplace(name.name, name.index);
    }
    // For generated types, one reflection object serves every instance of the class.
    if (descriptor.file()->pool() == GeneratedPool()) {
      if (const Message* prototype =
              google::protobuf::MessageFactory::generated_factory()->GetPrototype(&descriptor)) {
        generated_class_ = &typeid(*prototype);
        generated_reflection_ = prototype->GetReflection();
      }
    }
  }

  const FieldInfo* Find(std::string_view name) const {
    if (names_.size() > kLinearLimit) {
      const auto found = by_name_.find(name);
      return found == by_name_.end() ? nullptr : &fields_[static_cast<std::size_t>(found->second)];
    }
    for (const auto& entry : names_) {
      if (entry.name == name) return &fields_[static_cast<std::size_t>(entry.index)];
    }
    return nullptr;
  }

  const FieldInfo& field(int index) const { return fields_[static_cast<std::size_t>(index)]; }
  // Fields 1 to 6 by number (well-known types are addressed by number).
  const FieldInfo& number(int number) const {
    return *by_number_[static_cast<std::size_t>(number)];
  }
  const Descriptor& descriptor() const { return descriptor_; }
  WellKnownType well_known() const { return well_known_; }

  const Reflection& ReflectionOf(const Message& message) const {
    if (generated_class_ != nullptr && typeid(message) == *generated_class_) {
      return *generated_reflection_;
    }
    return *message.GetReflection();
  }

 private:
  static constexpr std::size_t kLinearLimit = 12;
  struct Name {
    std::string_view name;  // owned by the descriptor
    int index;
  };
  const Descriptor& descriptor_;
  WellKnownType well_known_;
  std::vector<FieldInfo> fields_;
  std::vector<Name> names_;
  std::unordered_map<std::string_view, int> by_name_;
  std::array<const FieldInfo*, 7> by_number_{};
  const std::type_info* generated_class_ = nullptr;
  const Reflection* generated_reflection_ = nullptr;
};

class TableCache {
 public:
  const FieldTable& Get(const Descriptor& descriptor) {
    auto& slot = tables_[&descriptor];
    if (!slot) slot = std::make_unique<FieldTable>(descriptor);
    return *slot;
  }

 private:
  std::unordered_map<const Descriptor*, std::unique_ptr<FieldTable>> tables_;
};

// Tables of generated types live as long as their descriptors (the process): cached per thread,
// without locks. Types of other pools may not outlive the call: their tables are per call.
TableCache& GeneratedTables() {
  thread_local TableCache cache;
  return cache;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether 8 bytes at `p` are all printable ASCII other than '"' and '\\' (nothing that ends a
// string, starts an escape or needs UTF-8 checks): the fast path of string scanning.
bool PlainAscii8(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighs = 0x8080808080808080;
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  // A byte of `x` is zero iff the matching byte of this has its high bit set (no false
  // positives before the first zero byte, which is all that matters here).
  const auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t special = zero_bytes(word ^ (kOnes * '"')) |
                                zero_bytes(word ^ (kOnes * '\\')) |
                                ((word - kOnes * 0x20) & ~word & kHighs) |  // below 0x20
                                (word & kHighs);                            // non-ASCII
  return special == 0;
}

// A JSON number split into its parts: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
struct NumberParts {
  bool negative = false;
  std::string_view integer;   // digits before the '.'
  std::string_view fraction;  // digits after it
  std::int64_t exponent = 0;  // clamped to +-1000000: beyond that every result is the same
  bool has_exponent = false;
};

// Scans a JSON number starting at `p`, advancing it past the number. False if there is none.
bool ScanNumber(const char*& p, const char* end, NumberParts& parts) {
  parts = NumberParts{};
  if (p < end && *p == '-') {
    parts.negative = true;
    ++p;
  }
  const char* begin = p;
  if (p < end && *p == '0') {
    ++p;
  } else if (p < end && *p >= '1' && *p <= '9') {
    while (p < end && IsDigit(*p)) ++p;
  } else {
    return false;
  }
  parts.integer = {begin, static_cast<std::size_t>(p - begin)};
  if (p < end && *p == '.') {
    begin = ++p;
    while (p < end && IsDigit(*p)) ++p;
    if (p == begin) return false;
    parts.fraction = {begin, static_cast<std::size_t>(p - begin)};
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    parts.has_exponent = true;
    ++p;
    bool negative_exponent = false;
    if (p < end && (*p == '+' || *p == '-')) negative_exponent = *p++ == '-';
    begin = p;
    while (p < end && IsDigit(*p)) {
      if (parts.exponent < 1'000'000) parts.exponent = parts.exponent * 10 + (*p - '0');
      ++p;
    }
    if (p == begin) return false;
    if (negative_exponent) parts.exponent = -parts.exponent;
  }
  return true;
}

// The whole of `text` as a JSON number.
bool SplitNumber(std::string_view text, NumberParts& parts) {
  const char* p = text.data();
  const char* end = p + text.size();
  return ScanNumber(p, end, parts) && p == end;
}

enum class IntegerResult { kOk, kNotInteger, kOutOfRange };

// The exact value of a JSON number as sign and magnitude, when it is an integer: "1e2" and "1.0"
// are, "1.5" is not.
IntegerResult ToInteger(const NumberParts& parts, std::uint64_t& magnitude) {
  const std::size_t count = parts.integer.size() + parts.fraction.size();
  const auto digit = [&](std::size_t i) {
    return i < parts.integer.size() ? parts.integer[i] : parts.fraction[i - parts.integer.size()];
  };
  std::size_t first = 0;
  while (first < count && digit(first) == '0') ++first;
  magnitude = 0;
  if (first == count) return IntegerResult::kOk;  // zero
  std::size_t last = count - 1;
  while (digit(last) == '0') --last;
  // value = digits[first..last] * 10^scale
  const std::int64_t scale = parts.exponent - static_cast<std::int64_t>(parts.fraction.size()) +
                             static_cast<std::int64_t>(count - 1 - last);
  if (scale < 0) return IntegerResult::kNotInteger;
  if (static_cast<std::int64_t>(last - first + 1) + scale > 20) return IntegerResult::kOutOfRange;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = first; i <= last; ++i) {
    const auto d = static_cast<std::uint64_t>(digit(i) - '0');
    if (magnitude > (kMax - d) / 10) return IntegerResult::kOutOfRange;
    magnitude = magnitude * 10 + d;
  }
  for (std::int64_t i = 0; i < scale; ++i) {
    if (magnitude > kMax / 10) return IntegerResult::kOutOfRange;
    magnitude *= 10;
  }
  return IntegerResult::kOk;
}

// The power of ten of the first significant digit; only its sign matters (underflow or overflow).
std::int64_t MagnitudeExponent(const NumberParts& parts) {
  for (std::size_t i = 0; i < parts.integer.size(); ++i) {
    if (parts.integer[i] != '0') {
      return parts.exponent + static_cast<std::int64_t>(parts.integer.size() - i - 1);
    }
  }
  for (std::size_t i = 0; i < parts.fraction.size(); ++i) {
    if (parts.fraction[i] != '0') return parts.exponent - static_cast<std::int64_t>(i + 1);
  }
  return 0;
}

enum class JsonKind { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

std::string_view Describe(JsonKind kind) {
  switch (kind) {
    case JsonKind::kObject:
      return "an object";
    case JsonKind::kArray:
      return "an array";
    case JsonKind::kString:
      return "a string";
    case JsonKind::kNumber:
      return "a number";
    case JsonKind::kTrue:
      return "true";
    case JsonKind::kFalse:
      return "false";
    case JsonKind::kNull:
      return "null";
  }
  return "a value";
}

// A scalar JSON value: a string (unescaped), a number (as written), true, false or null.
struct Scalar {
  JsonKind kind;
  std::string_view text;
};

// Client text quoted in an error message: at most 64 bytes (cut between UTF-8 sequences), control
// characters replaced.
std::string Shorten(std::string_view text) {
  constexpr std::size_t kMaxEcho = 64;
  std::size_t length = text.size();
  if (length > kMaxEcho) {
    length = kMaxEcho;
    while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xc0) == 0x80) --length;
  }
  std::string shortened;
  for (std::size_t i = 0; i < length; ++i) {
    shortened.push_back(static_cast<unsigned char>(text[i]) < 0x20 ? '?' : text[i]);
  }
  if (length < text.size()) shortened += "...";
  return shortened;
}

// A value for an error message: strings quoted.
std::string Echo(const Scalar& value) {
  if (value.kind != JsonKind::kString) return Shorten(value.text);
  return Cat("\"", Shorten(value.text), "\"");
}

class Parser {
 public:
  Parser(std::string_view text, int max_depth, const Descriptor& type)
      : tables_(type.file()->pool() == GeneratedPool() ? &GeneratedTables() : &local_tables_),
        begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth) {}

  absl::Status Parse(Message& message) {
    SkipWhitespace();
    if (p_ == end_) {
      SyntaxError("the body is empty, expected a JSON object");
      return Error();
    }
    if (!ParseMessageValue(message, tables_->Get(*message.GetDescriptor()))) return Error();
    SkipWhitespace();
    if (p_ != end_) {
      SyntaxError("unexpected data after the JSON value");
      return Error();
    }
    return absl::OkStatus();
  }

 private:
  enum class ErrorKind { kSyntax, kField, kUnknownField, kPlain };

  // ---- errors ----------------------------------------------------------------------------------

  bool SyntaxError(std::string_view what) {
    error_kind_ = ErrorKind::kSyntax;
    error_ = what;
    error_offset_ = static_cast<std::size_t>(p_ - begin_);
    return false;
  }
  bool ValueError(std::string what) {
    error_kind_ = ErrorKind::kField;
    error_ = std::move(what);
    return false;
  }
  bool PlainError(std::string what) {
    error_kind_ = ErrorKind::kPlain;
    error_ = std::move(what);
    return false;
  }
  bool UnknownField(std::string_view name) {
    error_kind_ = ErrorKind::kUnknownField;
    path_.push_back(Shorten(name));
    return false;
  }
  // Called while unwinding from a failed value: records where it was.
  bool InField(std::string_view name) {
    if (error_kind_ == ErrorKind::kField || error_kind_ == ErrorKind::kUnknownField) {
      path_.push_back(Shorten(name));
    }
    return false;
  }
  bool AtIndex(std::size_t index) { return InField(Cat("[", index, "]")); }
  bool AtKey(std::string_view key) { return InField(Cat("[", Shorten(key), "]")); }
  // A value already read was of kind `got` where `expected` was needed.
  bool UnexpectedValue(std::string_view expected, JsonKind got) {
    return ValueError(Cat("expected ", expected, ", got ", Describe(got)));
  }
  // The value at p_ is of kind `got` where `expected` was needed. A malformed literal or number
  // there is reported as the syntax error it is.
  bool WrongType(std::string_view expected, JsonKind got) {
    const char* at = p_;
    if (got == JsonKind::kTrue || got == JsonKind::kFalse || got == JsonKind::kNull) {
      if (!ConsumeLiteral(Describe(got))) return false;
    } else if (got == JsonKind::kNumber) {
      NumberParts parts;
      if (!ScanNumber(p_, end_, parts)) return SyntaxError("invalid number");
    }
    p_ = at;
    return UnexpectedValue(expected, got);
  }
  bool TooDeep() { return PlainError(Cat("JSON nesting is deeper than ", max_depth_, " levels")); }

  // The status for the error recorded.
  absl::Status Error() const {
    std::string message = "invalid JSON body: ";
    std::string path;
    for (auto segment = path_.rbegin(); segment != path_.rend(); ++segment) {
      if (!path.empty() && segment->front() != '[') path.push_back('.');
      path += *segment;
    }
    switch (error_kind_) {
      case ErrorKind::kSyntax: {
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < error_offset_; ++i) {
          if (begin_[i] == '\n') {
            ++line;
            column = 1;
          } else {
            ++column;
          }
        }
        message += Cat(error_, " at line ", line, ", column ", column);
        break;
      }
      case ErrorKind::kField:
        if (!path.empty()) message += Cat("field \"", path, "\": ");
        message += error_;
        break;
      case ErrorKind::kUnknownField:
        message += Cat("unknown field \"", path, "\"");
        break;
      case ErrorKind::kPlain:
        message += error_;
        break;
    }
    return absl::InvalidArgumentError(message);
  }

  // ---- lexing ----------------------------------------------------------------------------------

  void SkipWhitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // The kind of the value at p_ (after whitespace), without consuming it.
  bool PeekKind(JsonKind& kind) {
    SkipWhitespace();
    if (p_ == end_) return SyntaxError("unexpected end of the body, expected a value");
    switch (*p_) {
      case '{':
        kind = JsonKind::kObject;
        return true;
      case '[':
        kind = JsonKind::kArray;
        return true;
      case '"':
        kind = JsonKind::kString;
        return true;
      case 't':
        kind = JsonKind::kTrue;
        return true;
      case 'f':
        kind = JsonKind::kFalse;
        return true;
      case 'n':
        kind = JsonKind::kNull;
        return true;
      default:
        if (*p_ == '-' || IsDigit(*p_)) {
          kind = JsonKind::kNumber;
          return true;
        }
        return SyntaxError("unexpected character, expected a value");
    }
  }

  bool ConsumeLiteral(std::string_view literal) {
    if (static_cast<std::size_t>(end_ - p_) < literal.size() ||
        std::memcmp(p_, literal.data(), literal.size()) != 0) {
      return SyntaxError("invalid literal, expected true, false or null");
    }
    p_ += literal.size();
    return true;
  }

  // Reads the scalar whose kind PeekKind returned (not an object or array).
  bool ReadScalar(JsonKind kind, Scalar& value) {
    value.kind = kind;
    switch (kind) {
      case JsonKind::kString:
        return ReadString(value.text, scratch_);
      case JsonKind::kNumber: {
        const char* begin = p_;
        NumberParts parts;
        if (!ScanNumber(p_, end_, parts)) return SyntaxError("invalid number");
        value.text = {begin, static_cast<std::size_t>(p_ - begin)};
        return true;
      }
      case JsonKind::kTrue:
        value.text = "true";
        return ConsumeLiteral("true");
      case JsonKind::kFalse:
        value.text = "false";
        return ConsumeLiteral("false");
      case JsonKind::kNull:
        value.text = "null";
        return ConsumeLiteral("null");
      default:
        return SyntaxError("expected a scalar value");
    }
  }

  // One UTF-8 sequence of 2 to 4 bytes at p_ (RFC 3629: no overlong forms, no surrogates).
  bool SkipUtf8Sequence() {
    const auto byte = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    const auto continuation = [&](std::ptrdiff_t i) { return (byte(i) & 0xc0) == 0x80; };
    const std::ptrdiff_t left = end_ - p_;
    const unsigned char lead = byte(0);
    if (lead >= 0xc2 && lead <= 0xdf) {
      if (left < 2 || !continuation(1)) return false;
      p_ += 2;
      return true;
    }
    if (lead >= 0xe0 && lead <= 0xef) {
      if (left < 3 || !continuation(1) || !continuation(2)) return false;
      if (lead == 0xe0 && byte(1) < 0xa0) return false;  // overlong
      if (lead == 0xed && byte(1) > 0x9f) return false;  // surrogate
      p_ += 3;
      return true;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
      if (left < 4 || !continuation(1) || !continuation(2) || !continuation(3)) return false;
      if (lead == 0xf0 && byte(1) < 0x90) return false;  // overlong
      if (lead == 0xf4 && byte(1) > 0x8f) return false;  // beyond U+10FFFF
      p_ += 4;
      return true;
    }
    return false;
  }

  // Reads the string at p_ ('"'). `text` views the body when the string has no escapes, else
  // `storage`.
  bool ReadString(std::string_view& text, std::string& storage) {
    const char* begin = ++p_;
    while (p_ < end_) {
      while (end_ - p_ >= 8 && PlainAscii8(p_)) p_ += 8;
      if (p_ == end_) break;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        text = {begin, static_cast<std::size_t>(p_ - begin)};
        ++p_;
        return true;
      }
      if (c == '\\') {
        storage.assign(begin, p_);
        return ReadEscapedString(text, storage);
      }
      if (c < 0x20) return SyntaxError("unescaped control character in a string");
      if (c < 0x80) {
        ++p_;
      } else if (!SkipUtf8Sequence()) {
        return SyntaxError("invalid UTF-8 in a string");
      }
    }
    return SyntaxError("unterminated string");
  }

  bool ReadHex4(std::uint32_t& value) {
    if (end_ - p_ < 4) return SyntaxError("invalid \\u escape");
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return SyntaxError("invalid \\u escape");
      }
      value = value * 16 + digit;
    }
    return true;
  }

  static void AppendUtf8(std::uint32_t code_point, std::string& out) {
    const auto put = [&](std::uint32_t bits) { out.push_back(static_cast<char>(bits)); };
    if (code_point < 0x80) {
      put(code_point);
    } else if (code_point < 0x800) {
      put(0xc0 | (code_point >> 6));
      put(0x80 | (code_point & 0x3f));
    } else if (code_point < 0x10000) {
      put(0xe0 | (code_point >> 12));
      put(0x80 | ((code_point >> 6) & 0x3f));
      put(0x80 | (code_point & 0x3f));
    } else {
      put(0xf0 | (code_point >> 18));
      put(0x80 | ((code_point >> 12) & 0x3f));
      put(0x80 | ((code_point >> 6) & 0x3f));
      put(0x80 | (code_point & 0x3f));
    }
  }

  // Continues ReadString at a backslash, unescaping into `storage`.
  bool ReadEscapedString(std::string_view& text, std::string& storage) {
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        text = storage;
        return true;
      }
      if (c == '\\') {
        if (++p_ == end_) break;
        const char escape = *p_++;
        switch (escape) {
          case '"':
          case '\\':
          case '/':
            storage.push_back(escape);
            break;
          case 'b':
            storage.push_back('\b');
            break;
          case 'f':
            storage.push_back('\f');
            break;
          case 'n':
            storage.push_back('\n');
            break;
          case 'r':
            storage.push_back('\r');
            break;
          case 't':
            storage.push_back('\t');
            break;
          case 'u': {
            std::uint32_t code_point = 0;
            if (!ReadHex4(code_point)) return false;
            if (code_point >= 0xdc00 && code_point <= 0xdfff) {
              return SyntaxError("invalid \\u escape: a low surrogate without a high one");
            }
            if (code_point >= 0xd800 && code_point <= 0xdbff) {
              std::uint32_t low = 0;
              if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
                return SyntaxError("invalid \\u escape: a high surrogate without a low one");
              }
              p_ += 2;
              if (!ReadHex4(low)) return false;
              if (low < 0xdc00 || low > 0xdfff) {
                return SyntaxError("invalid \\u escape: a high surrogate without a low one");
              }
              code_point = 0x10000 + ((code_point - 0xd800) << 10) + (low - 0xdc00);
            }
            AppendUtf8(code_point, storage);
            break;
          }
          default:
            --p_;
            return SyntaxError("invalid escape in a string");
        }
        continue;
      }
      if (c < 0x20) return SyntaxError("unescaped control character in a string");
      const char* run = p_;
      if (c < 0x80) {
        ++p_;
      } else if (!SkipUtf8Sequence()) {
        return SyntaxError("invalid UTF-8 in a string");
      }
      storage.append(run, p_);
    }
    return SyntaxError("unterminated string");
  }

  // Reads `"key":` of an object member at p_ (after whitespace). `storage` backs an escaped key.
  bool ReadKey(std::string_view& key, std::string& storage) {
    SkipWhitespace();
    if (p_ == end_ || *p_ != '"') return SyntaxError("expected a member name in double quotes");
    if (!ReadString(key, storage)) return false;
    SkipWhitespace();
    if (p_ == end_ || *p_ != ':') return SyntaxError("expected ':' after a member name");
    ++p_;
    return true;
  }

  // After a member or element: true with `done` at the closing bracket, or past a comma.
  bool NextMember(char close, bool& done) {
    SkipWhitespace();
    if (p_ < end_ && *p_ == ',') {
      ++p_;
      done = false;
      return true;
    }
    if (p_ < end_ && *p_ == close) {
      ++p_;
      done = true;
      return true;
    }
    return SyntaxError(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  }

  // At '{' or '[': consumes it and reports whether the container is empty.
  bool Open(bool& empty) {
    if (++depth_ > max_depth_) return TooDeep();
    const char close = *p_ == '{' ? '}' : ']';
    ++p_;
    SkipWhitespace();
    empty = p_ < end_ && *p_ == close;
    if (empty) {
      ++p_;
      --depth_;
    }
    return true;
  }

  // ---- messages --------------------------------------------------------------------------------

  const FieldTable& TableOf(const FieldInfo& field) {
    if (field.table == nullptr) field.table = &tables_->Get(*field.message_type);
    return *field.table;
  }

  // Any JSON value into `message` (of `table`'s type), by the type's JSON form.
  bool ParseMessageValue(Message& message, const FieldTable& table) {
    JsonKind kind;
    if (!PeekKind(kind)) return false;
    switch (table.well_known()) {
      case WellKnownType::kNone:
      case WellKnownType::kEmpty:
        if (kind != JsonKind::kObject) return WrongType("an object", kind);
        return ParseObject(message, table);
      case WellKnownType::kAny:
        return ValueError("google.protobuf.Any is not supported in request bodies");
      case WellKnownType::kTimestamp:
        return ParseTimestampValue(message, table, kind);
      case WellKnownType::kDuration:
        return ParseDurationValue(message, table, kind);
      case WellKnownType::kFieldMask:
        return ParseFieldMaskValue(message, table, kind);
      case WellKnownType::kWrapper: {
        const FieldInfo& field = table.number(1);
        Scalar value;
        if (!ReadScalarFor(field, kind, value)) return false;
        return SetScalar(message, table.ReflectionOf(message), field, value, false);
      }
      case WellKnownType::kStruct:
        return ParseStruct(message, table, kind);
      case WellKnownType::kValue:
        return ParseValue(message, table, kind);
      case WellKnownType::kListValue:
        return ParseListValue(message, table, kind);
    }
    return false;
  }

  bool ParseObject(Message& message, const FieldTable& table) {
    bool empty = false;
    if (!Open(empty)) return false;
    if (empty) return true;
    const Reflection& reflection = table.ReflectionOf(message);
    // Fields seen so far, to reject a field given twice (also under its two names).
    const int field_count = table.descriptor().field_count();
    std::uint64_t seen_small = 0;
    std::vector<bool> seen_large;
    if (field_count > 64) seen_large.resize(static_cast<std::size_t>(field_count));
    for (bool done = false; !done;) {
      std::string key_storage;
      std::string_view key;
      if (!ReadKey(key, key_storage)) return false;
      const FieldInfo* field = table.Find(key);
      if (field == nullptr) return UnknownField(key);
      const auto index = static_cast<std::size_t>(field - &table.field(0));
      bool repeated_key = false;
      if (seen_large.empty()) {
        repeated_key = (seen_small >> index) & 1;
        seen_small |= std::uint64_t{1} << index;
      } else {
        repeated_key = seen_large[index];
        seen_large[index] = true;
      }
      if (repeated_key) {
        ValueError("appears more than once in the object");
        return InField(key);
      }
      if (!ParseField(message, reflection, *field)) return InField(key);
      if (!NextMember('}', done)) return false;
    }
    --depth_;
    return true;
  }

  bool ParseField(Message& message, const Reflection& reflection, const FieldInfo& field) {
    JsonKind kind;
    if (!PeekKind(kind)) return false;
    if (field.is_map) {
      if (kind == JsonKind::kNull) return ConsumeLiteral("null");
      if (kind != JsonKind::kObject) return WrongType("an object", kind);
      return ParseMap(message, reflection, field);
    }
    if (field.is_repeated) {
      if (kind == JsonKind::kNull) return ConsumeLiteral("null");
      if (kind != JsonKind::kArray) return WrongType("an array", kind);
      return ParseRepeated(message, reflection, field);
    }
    // null leaves a field unset, but is the value of google.protobuf.Value and NullValue.
    if (kind == JsonKind::kNull && !field.null_is_value) return ConsumeLiteral("null");
    if (field.oneof != nullptr && reflection.HasOneof(message, field.oneof)) {
      return ValueError(Cat("oneof \"", field.oneof->name(), "\" already has field \"",
                            reflection.GetOneofFieldDescriptor(message, field.oneof)->name(),
                            "\" set; only one may be given"));
    }
    if (field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE) {
      return ParseMessageValue(*reflection.MutableMessage(&message, field.descriptor),
                               TableOf(field));
    }
    Scalar value;
    if (!ReadScalarFor(field, kind, value)) return false;
    return SetScalar(message, reflection, field, value, false);
  }

  bool ParseRepeated(Message& message, const Reflection& reflection, const FieldInfo& field) {
    bool empty = false;
    if (!Open(empty)) return false;
    if (empty) return true;
    const bool is_message = field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE;
    std::size_t index = 0;
    for (bool done = false; !done; ++index) {
      JsonKind kind;
      if (!PeekKind(kind)) return false;
      if (kind == JsonKind::kNull && !field.null_is_value) {
        if (!ConsumeLiteral("null")) return false;
        ValueError("null is not allowed in an array");
        return AtIndex(index);
      }
      if (is_message) {
        if (!ParseMessageValue(*reflection.AddMessage(&message, field.descriptor),
                               TableOf(field))) {
          return AtIndex(index);
        }
      } else {
        Scalar value;
        if (!ReadScalarFor(field, kind, value) ||
            !SetScalar(message, reflection, field, value, true)) {
          return AtIndex(index);
        }
      }
      if (!NextMember(']', done)) return false;
    }
    --depth_;
    return true;
  }

  bool ParseMap(Message& message, const Reflection& reflection, const FieldInfo& field) {
    bool empty = false;
    if (!Open(empty)) return false;
    if (empty) return true;
    const FieldTable& entry_table = TableOf(field);
    const FieldInfo& key_field = entry_table.field(0);
    const FieldInfo& value_field = entry_table.field(1);
    std::unordered_set<std::string> keys;
    for (bool done = false; !done;) {
      std::string key_storage;
      std::string_view key;
      if (!ReadKey(key, key_storage)) return false;
      if (!keys.emplace(key).second) {
        ValueError("map key is given more than once");
        return AtKey(key);
      }
      Message& entry = *reflection.AddMessage(&message, field.descriptor);
      const Reflection& entry_reflection = entry_table.ReflectionOf(entry);
      if (!SetMapKey(entry, entry_reflection, key_field, key)) return AtKey(key);
      JsonKind kind;
      if (!PeekKind(kind)) return false;
      if (kind == JsonKind::kNull && !value_field.null_is_value) {
        if (!ConsumeLiteral("null")) return false;
        ValueError("null is not allowed as a map value");
        return AtKey(key);
      }
      if (value_field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!ParseMessageValue(*entry_reflection.MutableMessage(&entry, value_field.descriptor),
                               TableOf(value_field))) {
          return AtKey(key);
        }
      } else {
        Scalar value;
        if (!ReadScalarFor(value_field, kind, value) ||
            !SetScalar(entry, entry_reflection, value_field, value, false)) {
          return AtKey(key);
        }
      }
      if (!NextMember('}', done)) return false;
    }
    --depth_;
    return true;
  }

  bool SetMapKey(Message& entry, const Reflection& reflection, const FieldInfo& field,
                 std::string_view key) {
    if (field.cpp_type == FieldDescriptor::CPPTYPE_BOOL) {
      if (key != "true" && key != "false") {
        return ValueError(Cat("map key ", Echo({JsonKind::kString, key}), " is not true or false"));
      }
      reflection.SetBool(&entry, field.descriptor, key == "true");
      return true;
    }
    return SetScalar(entry, reflection, field, Scalar{JsonKind::kString, key}, false);
  }

  // ---- scalars ---------------------------------------------------------------------------------

  static std::string_view Expected(const FieldInfo& field) {
    switch (field.cpp_type) {
      case FieldDescriptor::CPPTYPE_BOOL:
        return "true or false";
      case FieldDescriptor::CPPTYPE_STRING:
        return field.type == FieldDescriptor::TYPE_BYTES ? "a base64 string" : "a string";
      case FieldDescriptor::CPPTYPE_ENUM:
        return "an enum value name or number";
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return "an object";
      default:
        return "a number or a numeric string";
    }
  }

  static const char* TypeName(const FieldInfo& field) {
    return FieldDescriptor::TypeName(field.type);
  }

  // Reads a scalar for `field`, rejecting objects and arrays.
  bool ReadScalarFor(const FieldInfo& field, JsonKind kind, Scalar& value) {
    if (kind == JsonKind::kObject || kind == JsonKind::kArray) {
      return WrongType(Expected(field), kind);
    }
    return ReadScalar(kind, value);
  }

  // Sets (or with `add`, appends) `value` into a scalar field.
  bool SetScalar(Message& message, const Reflection& reflection, const FieldInfo& field,
                 const Scalar& value, bool add) {
    const FieldDescriptor* descriptor = field.descriptor;
    switch (field.cpp_type) {
      case FieldDescriptor::CPPTYPE_INT32: {
        std::int64_t number = 0;
        if (!ToSigned(value, field, std::numeric_limits<std::int32_t>::min(),
                      std::numeric_limits<std::int32_t>::max(), number)) {
          return false;
        }
        const auto v = static_cast<std::int32_t>(number);
        add ? reflection.AddInt32(&message, descriptor, v)
            : reflection.SetInt32(&message, descriptor, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        std::int64_t number = 0;
        if (!ToSigned(value, field, std::numeric_limits<std::int64_t>::min(),
                      std::numeric_limits<std::int64_t>::max(), number)) {
          return false;
        }
        add ? reflection.AddInt64(&message, descriptor, number)
            : reflection.SetInt64(&message, descriptor, number);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        std::uint64_t number = 0;
        if (!ToUnsigned(value, field, std::numeric_limits<std::uint32_t>::max(), number)) {
          return false;
        }
        const auto v = static_cast<std::uint32_t>(number);
        add ? reflection.AddUInt32(&message, descriptor, v)
            : reflection.SetUInt32(&message, descriptor, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        std::uint64_t number = 0;
        if (!ToUnsigned(value, field, std::numeric_limits<std::uint64_t>::max(), number)) {
          return false;
        }
        add ? reflection.AddUInt64(&message, descriptor, number)
            : reflection.SetUInt64(&message, descriptor, number);
        return true;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double number = 0;
        if (!ToDouble(value, field, number)) return false;
        add ? reflection.AddDouble(&message, descriptor, number)
            : reflection.SetDouble(&message, descriptor, number);
        return true;
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double number = 0;
        if (!ToDouble(value, field, number)) return false;
        // Beyond the largest float, doubles up to half a float step above it still round to it.
        constexpr float kMaxFloat = std::numeric_limits<float>::max();
        const double limit = std::ldexp(1.0, 128) - std::ldexp(1.0, 103);
        if (std::isfinite(number) && std::fabs(number) >= limit) return OutOfRange(value, field);
        float v = 0;
        if (std::isfinite(number) && std::fabs(number) > kMaxFloat) {
          v = number > 0 ? kMaxFloat : -kMaxFloat;
        } else {
          v = static_cast<float>(number);
        }
        add ? reflection.AddFloat(&message, descriptor, v)
            : reflection.SetFloat(&message, descriptor, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (value.kind != JsonKind::kTrue && value.kind != JsonKind::kFalse) {
          return UnexpectedValue(Expected(field), value.kind);
        }
        const bool v = value.kind == JsonKind::kTrue;
        add ? reflection.AddBool(&message, descriptor, v)
            : reflection.SetBool(&message, descriptor, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (value.kind != JsonKind::kString) return UnexpectedValue(Expected(field), value.kind);
        std::string bytes;
        if (field.type == FieldDescriptor::TYPE_BYTES) {
          if (!Base64Decode(value.text, bytes)) return ValueError(Base64Problem(Echo(value)));
        } else {
          bytes.assign(value.text);
        }
        add ? reflection.AddString(&message, descriptor, std::move(bytes))
            : reflection.SetString(&message, descriptor, std::move(bytes));
        return true;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        int number = 0;
        if (!ToEnum(value, field, number)) return false;
        add ? reflection.AddEnumValue(&message, descriptor, number)
            : reflection.SetEnumValue(&message, descriptor, number);
        return true;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return ValueError("unsupported field type");
  }

  bool OutOfRange(const Scalar& value, const FieldInfo& field) {
    return ValueError(Cat(Echo(value), " is out of range for ", TypeName(field)));
  }

  // An integer from a JSON number (any exact integral value: 1, 1.0, 1e2) or a string of decimal
  // digits ("123", as int64 values usually come).
  bool ToMagnitude(const Scalar& value, const FieldInfo& field, bool& negative,
                   std::uint64_t& magnitude) {
    if (value.kind != JsonKind::kNumber && value.kind != JsonKind::kString) {
      return UnexpectedValue(Expected(field), value.kind);
    }
    NumberParts parts;
    if (!SplitNumber(value.text, parts) ||
        (value.kind == JsonKind::kString && (!parts.fraction.empty() || parts.has_exponent))) {
      return ValueError(Cat(Echo(value), " is not a valid ", TypeName(field)));
    }
    switch (ToInteger(parts, magnitude)) {
      case IntegerResult::kOk:
        negative = parts.negative && magnitude != 0;
        return true;
      case IntegerResult::kNotInteger:
        return ValueError(Cat(Echo(value), " is not an integer"));
      case IntegerResult::kOutOfRange:
        break;
    }
    return OutOfRange(value, field);
  }

  bool ToSigned(const Scalar& value, const FieldInfo& field, std::int64_t min, std::int64_t max,
                std::int64_t& out) {
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!ToMagnitude(value, field, negative, magnitude)) return false;
    if (negative) {
      if (magnitude - 1 > static_cast<std::uint64_t>(-(min + 1))) return OutOfRange(value, field);
      out = -static_cast<std::int64_t>(magnitude - 1) - 1;
    } else {
      if (magnitude > static_cast<std::uint64_t>(max)) return OutOfRange(value, field);
      out = static_cast<std::int64_t>(magnitude);
    }
    return true;
  }

  bool ToUnsigned(const Scalar& value, const FieldInfo& field, std::uint64_t max,
                  std::uint64_t& out) {
    bool negative = false;
    if (!ToMagnitude(value, field, negative, out)) return false;
    if (negative || out > max) return OutOfRange(value, field);
    return true;
  }

  // A JSON number, a numeric string, or "NaN", "Infinity", "-Infinity".
  bool ToDouble(const Scalar& value, const FieldInfo& field, double& out) {
    if (value.kind == JsonKind::kString) {
      if (value.text == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
      }
      if (value.text == "Infinity" || value.text == "-Infinity") {
        out = value.text[0] == '-' ? -std::numeric_limits<double>::infinity()
                                   : std::numeric_limits<double>::infinity();
        return true;
      }
    } else if (value.kind != JsonKind::kNumber) {
      return UnexpectedValue(Expected(field), value.kind);
    }
    NumberParts parts;
    if (!SplitNumber(value.text, parts)) {
      return ValueError(Cat(Echo(value), " is not a valid ", TypeName(field)));
    }
    if (!NumberToDouble(value.text, parts, out)) return OutOfRange(value, field);
    return true;
  }

  // False when the number is too large for a double; too small ones become zero.
  static bool NumberToDouble(std::string_view text, const NumberParts& parts, double& out) {
    const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
    if (result.ec == std::errc::result_out_of_range) {
      if (MagnitudeExponent(parts) > 0) return false;
      out = parts.negative ? -0.0 : 0.0;
    }
    return true;
  }

  bool ToEnum(const Scalar& value, const FieldInfo& field, int& number) {
    const EnumDescriptor& type = *field.enum_type;
    if (value.kind == JsonKind::kString) {
      name_buffer_.assign(value.text);
      const EnumValueDescriptor* named = type.FindValueByName(name_buffer_);
      if (named == nullptr) {
        return ValueError(Cat(Echo(value), " is not a value of enum ", type.full_name()));
      }
      number = named->number();
      return true;
    }
    if (value.kind == JsonKind::kNull) {  // NullValue
      number = 0;
      return true;
    }
    if (value.kind != JsonKind::kNumber) return UnexpectedValue(Expected(field), value.kind);
    std::int64_t wide = 0;
    if (!ToSigned(value, field, std::numeric_limits<std::int32_t>::min(),
                  std::numeric_limits<std::int32_t>::max(), wide)) {
      return false;
    }
    number = static_cast<int>(wide);
    if (field.closed_enum && type.FindValueByNumber(number) == nullptr) {
      return ValueError(Cat(number, " is not a value of enum ", type.full_name()));
    }
    return true;
  }

  // ---- well-known types ------------------------------------------------------------------------

  bool ReadWellKnownString(JsonKind kind, std::string_view expected, Scalar& value) {
    if (kind != JsonKind::kString) return WrongType(expected, kind);
    return ReadScalar(kind, value);
  }

  bool ParseTimestampValue(Message& message, const FieldTable& table, JsonKind kind) {
    Scalar value;
    if (!ReadWellKnownString(kind, "an RFC 3339 timestamp string", value)) return false;
    std::int64_t seconds = 0;
    std::int32_t nanos = 0;
    if (const TextFormError error = ParseTimestamp(value.text, seconds, nanos);
        error != TextFormError::kNone) {
      return ValueError(TimestampProblem(Echo(value), error));
    }
    return SetSecondsAndNanos(message, table, seconds, nanos);
  }

  bool ParseDurationValue(Message& message, const FieldTable& table, JsonKind kind) {
    Scalar value;
    if (!ReadWellKnownString(kind, "a duration string such as \"1.5s\"", value)) return false;
    std::int64_t seconds = 0;
    std::int32_t nanos = 0;
    if (const TextFormError error = ParseDuration(value.text, seconds, nanos);
        error != TextFormError::kNone) {
      return ValueError(DurationProblem(Echo(value), error));
    }
    return SetSecondsAndNanos(message, table, seconds, nanos);
  }

  static bool SetSecondsAndNanos(Message& message, const FieldTable& table, std::int64_t seconds,
                                 std::int32_t nanos) {
    const Reflection& reflection = table.ReflectionOf(message);
    reflection.SetInt64(&message, table.number(1).descriptor, seconds);
    reflection.SetInt32(&message, table.number(2).descriptor, nanos);
    return true;
  }

  // "fooBar.baz,qux" -> paths "foo_bar.baz" and "qux".
  bool ParseFieldMaskValue(Message& message, const FieldTable& table, JsonKind kind) {
    Scalar value;
    if (!ReadWellKnownString(kind, "a string of comma-separated field paths", value)) {
      return false;
    }
    const FieldDescriptor* paths = table.number(1).descriptor;
    const Reflection& reflection = table.ReflectionOf(message);
    std::string_view rest = value.text;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view path = rest.substr(0, comma);
      if (path.empty()) return ValueError(Cat(Echo(value), " has an empty field path"));
      std::string snake;
      for (const char c : path) {
        if (c >= 'A' && c <= 'Z') {
          snake.push_back('_');
          snake.push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
          snake.push_back(c);
        }
      }
      reflection.AddString(&message, paths, std::move(snake));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
      if (rest.empty()) return ValueError(Cat(Echo(value), " has an empty field path"));
    }
    return true;
  }

  // A JSON object into a google.protobuf.Struct.
  bool ParseStruct(Message& message, const FieldTable& table, JsonKind kind) {
    if (kind != JsonKind::kObject) return WrongType("an object", kind);
    bool empty = false;
    if (!Open(empty)) return false;
    if (empty) return true;
    const FieldInfo& fields = table.number(1);
    const FieldTable& entry_table = TableOf(fields);
    const FieldInfo& key_field = entry_table.field(0);
    const FieldInfo& value_field = entry_table.field(1);
    const FieldTable& value_table = TableOf(value_field);
    const Reflection& reflection = table.ReflectionOf(message);
    std::unordered_set<std::string> keys;
    for (bool done = false; !done;) {
      std::string key_storage;
      std::string_view key;
      if (!ReadKey(key, key_storage)) return false;
      if (!keys.emplace(key).second) {
        ValueError("appears more than once in the object");
        return InField(key);
      }
      Message& entry = *reflection.AddMessage(&message, fields.descriptor);
      const Reflection& entry_reflection = entry_table.ReflectionOf(entry);
      entry_reflection.SetString(&entry, key_field.descriptor, std::string(key));
      JsonKind value_kind;
      if (!PeekKind(value_kind) ||
          !ParseValue(*entry_reflection.MutableMessage(&entry, value_field.descriptor), value_table,
                      value_kind)) {
        return InField(key);
      }
      if (!NextMember('}', done)) return false;
    }
    --depth_;
    return true;
  }

  // A JSON array into a google.protobuf.ListValue.
  bool ParseListValue(Message& message, const FieldTable& table, JsonKind kind) {
    if (kind != JsonKind::kArray) return WrongType("an array", kind);
    bool empty = false;
    if (!Open(empty)) return false;
    if (empty) return true;
    const FieldInfo& values = table.number(1);
    const FieldTable& value_table = TableOf(values);
    const Reflection& reflection = table.ReflectionOf(message);
    std::size_t index = 0;
    for (bool done = false; !done; ++index) {
      JsonKind value_kind;
      if (!PeekKind(value_kind) || !ParseValue(*reflection.AddMessage(&message, values.descriptor),
                                               value_table, value_kind)) {
        return AtIndex(index);
      }
      if (!NextMember(']', done)) return false;
    }
    --depth_;
    return true;
  }

  // Any JSON value into a google.protobuf.Value.
  bool ParseValue(Message& message, const FieldTable& table, JsonKind kind) {
    const Reflection& reflection = table.ReflectionOf(message);
    if (kind == JsonKind::kObject || kind == JsonKind::kArray) {
      const FieldInfo& field = table.number(kind == JsonKind::kObject ? 5 : 6);
      Message& container = *reflection.MutableMessage(&message, field.descriptor);
      return kind == JsonKind::kObject ? ParseStruct(container, TableOf(field), kind)
                                       : ParseListValue(container, TableOf(field), kind);
    }
    Scalar value;
    if (!ReadScalar(kind, value)) return false;
    switch (kind) {
      case JsonKind::kNull:
        reflection.SetEnumValue(&message, table.number(1).descriptor, 0);
        return true;
      case JsonKind::kNumber: {
        double number = 0;
        NumberParts parts;
        SplitNumber(value.text, parts);
        if (!NumberToDouble(value.text, parts, number)) {
          return ValueError(Cat(Echo(value), " is out of range for a JSON number"));
        }
        reflection.SetDouble(&message, table.number(2).descriptor, number);
        return true;
      }
      case JsonKind::kString:
        reflection.SetString(&message, table.number(3).descriptor, std::string(value.text));
        return true;
      default:
        reflection.SetBool(&message, table.number(4).descriptor, kind == JsonKind::kTrue);
        return true;
    }
  }

  TableCache* tables_;
  TableCache local_tables_;  // for types outside the generated pool
  const char* begin_;
  const char* p_;
  const char* end_;
  int depth_ = 0;
  int max_depth_;
  std::string scratch_;      // unescaped string values
  std::string name_buffer_;  // enum value names being looked up

  ErrorKind error_kind_ = ErrorKind::kPlain;
  std::string error_;
  std::size_t error_offset_ = 0;
  std::vector<std::string> path_;  // innermost first
};

}  // namespace

absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message) {
  return ParseJsonBody(json, message, JsonParseOptions{});
}

absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message,
                           const JsonParseOptions& options) {
  message.Clear();
  Parser parser(json, options.max_depth, *message.GetDescriptor());
  return parser.Parse(message);
}

namespace json_codec_internal {

WellKnownType GetWellKnownType(const google::protobuf::Descriptor& descriptor) {
  if (descriptor.file()->package() != "google.protobuf") return WellKnownType::kNone;
  const std::string_view name = descriptor.name();
  if (name == "Timestamp") return WellKnownType::kTimestamp;
  if (name == "Duration") return WellKnownType::kDuration;
  if (name == "FieldMask") return WellKnownType::kFieldMask;
  if (name == "Struct") return WellKnownType::kStruct;
  if (name == "Value") return WellKnownType::kValue;
  if (name == "ListValue") return WellKnownType::kListValue;
  if (name == "Any") return WellKnownType::kAny;
  if (name == "Empty") return WellKnownType::kEmpty;
  if (name == "DoubleValue" || name == "FloatValue" || name == "Int64Value" ||
      name == "UInt64Value" || name == "Int32Value" || name == "UInt32Value" ||
      name == "BoolValue" || name == "StringValue" || name == "BytesValue") {
    return WellKnownType::kWrapper;
  }
  return WellKnownType::kNone;
}

}  // namespace json_codec_internal

}  // namespace switchyard::gateway
