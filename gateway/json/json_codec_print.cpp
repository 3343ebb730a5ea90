// The JSON printer of the codec: walks a message through reflection and appends JSON text to the
// caller's string (no DOM, no binary round trip).

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include "gateway/json/json_codec.hpp"
#include "gateway/json/well_known_text.hpp"

namespace switchyard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using json_codec_internal::WellKnownType;

using json_codec_internal::Cat;

// Protobuf's deepest binary nesting is 100; Struct values may nest on their own.
constexpr int kMaxPrintDepth = 128;

// What each byte becomes inside a JSON string: 0 for itself, 'u' for \u00XX, else the letter
// after the backslash. '<' and '>' are escaped as protobuf does, so JSON stays inert in HTML.
constexpr std::array<char, 256> MakeEscapes() {
  std::array<char, 256> escapes{};
  for (int c = 0; c < 0x20; ++c) escapes[static_cast<std::size_t>(c)] = 'u';
  escapes['\b'] = 'b';
  escapes['\f'] = 'f';
  escapes['\n'] = 'n';
  escapes['\r'] = 'r';
  escapes['\t'] = 't';
  escapes['"'] = '"';
  escapes['\\'] = '\\';
  escapes['<'] = 'u';
  escapes['>'] = 'u';
  escapes[0x7f] = 'u';
  return escapes;
}
constexpr std::array<char, 256> kEscapes = MakeEscapes();

// Whether none of 8 bytes at `p` needs escaping: the fast path of AppendQuoted.
bool NoEscapes8(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighs = 0x8080808080808080;
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  // A byte of `x` is zero iff the matching byte of this has its high bit set (no false
  // positives before the first zero byte, which is all that matters here).
  const auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t ascii = ~word & kHighs;  // bytes from 0x80 up never need escaping
  const std::uint64_t special =
      (zero_bytes(word ^ (kOnes * '"')) | zero_bytes(word ^ (kOnes * '\\')) |
       zero_bytes(word ^ (kOnes * '<')) | zero_bytes(word ^ (kOnes * '>')) |
       zero_bytes(word ^ (kOnes * 0x7f)) | ((word - kOnes * 0x20) & ~word)) &
      ascii;
  return special == 0;
}

void AppendQuoted(std::string_view text, std::string& out) {
  out.push_back('"');
  const char* run = text.data();
  const char* end = run + text.size();
  for (const char* p = run; p < end; ++p) {
    while (end - p >= 8 && NoEscapes8(p)) p += 8;
    if (p == end) break;
    const char escape = kEscapes[static_cast<unsigned char>(*p)];
    if (escape == 0) continue;
    out.append(run, p);
    run = p + 1;
    out.push_back('\\');
    if (escape != 'u') {
      out.push_back(escape);
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(*p);
    const char unicode[] = {'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xf]};
    out.append(unicode, sizeof unicode);
  }
  out.append(run, end);
  out.push_back('"');
}

template <typename Integer>
void AppendInteger(Integer value, std::string& out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

template <typename Integer>
void AppendQuotedInteger(Integer value, std::string& out) {
  out.push_back('"');
  AppendInteger(value, out);
  out.push_back('"');
}

// The shortest digits that read back as the same value, laid out the way printf's %g lays out
// protobuf's output: plain notation for exponents from -4 up to the precision, else scientific.
// `short_precision` and `long_precision` are protobuf's two attempts (15 and 17 for double, 6
// and 9 for float): the layout matches protobuf's whenever the shortest digits fit the first.
template <typename Floating>
void AppendFloating(Floating value, int short_precision, int long_precision, std::string& out) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  // buffer: [-]d[.ddd]e(+|-)dd[d]
  const std::string_view scientific(buffer, static_cast<std::size_t>(result.ptr - buffer));
  const std::size_t e = scientific.find('e');
  int exponent = 0;
  const char* exponent_begin = buffer + e + 1;
  if (*exponent_begin == '+') ++exponent_begin;
  std::from_chars(exponent_begin, result.ptr, exponent);
  const bool negative = buffer[0] == '-';
  char digits[32];
  int count = 0;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
    if (buffer[i] != '.') digits[count++] = buffer[i];
  }
  const int precision = count <= short_precision ? short_precision : long_precision;
  if (exponent < -4 || exponent >= precision) {
    out.append(scientific);
    return;
  }
  if (negative) out.push_back('-');
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out.append(digits, static_cast<std::size_t>(count));
    return;
  }
  const int integer_digits = exponent + 1;
  if (count <= integer_digits) {
    out.append(digits, static_cast<std::size_t>(count));
    out.append(static_cast<std::size_t>(integer_digits - count), '0');
    return;
  }
  out.append(digits, static_cast<std::size_t>(integer_digits));
  out.push_back('.');
  out.append(digits + integer_digits, static_cast<std::size_t>(count - integer_digits));
}

void AppendDouble(double value, std::string& out) { AppendFloating(value, 15, 17, out); }
void AppendFloat(float value, std::string& out) { AppendFloating(value, 6, 9, out); }

// The pool of generated types (looked up once: the accessor is not free).
const DescriptorPool* GeneratedPool() {
  static const DescriptorPool* const pool = DescriptorPool::generated_pool();
  return pool;
}

class PrintTable;

// What the printer needs to know of a field, worked out once (several descriptor accessors go
// through a call_once each time), with its keys ready to append.
struct PrintField {
  explicit PrintField(const FieldDescriptor& field)
      : descriptor(&field),
        cpp_type(field.cpp_type()),
        is_bytes(field.type() == FieldDescriptor::TYPE_BYTES),
        is_map(field.is_map()),
        is_repeated(field.is_repeated()),
        // Message fields, oneof members and proto3 `optional` fields appear only when set.
        skip_unless_set(!field.is_repeated() &&
                        (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ||
                         field.containing_oneof() != nullptr)),
        is_null_value(field.enum_type() != nullptr &&
                      field.enum_type()->full_name() == "google.protobuf.NullValue"),
        message_type(field.message_type()),
        enum_type(field.enum_type()) {
    AppendQuoted(field.name(), proto_key);
    proto_key.push_back(':');
    AppendQuoted(field.json_name(), camel_key);
    camel_key.push_back(':');
  }

  const FieldDescriptor* descriptor;
  FieldDescriptor::CppType cpp_type;
  bool is_bytes;
  bool is_map;
  bool is_repeated;
  bool skip_unless_set;
  bool is_null_value;  // google.protobuf.NullValue prints as null
  const Descriptor* message_type;
  const google::protobuf::EnumDescriptor* enum_type;
  std::string proto_key;  // "name":
  std::string camel_key;  // "jsonName":
  // message_type's table, linked on first use (tables live in a per-thread or per-call cache, so
  // only one thread writes this).
  mutable const PrintTable* table = nullptr;
};

// One message type: its fields in declaration order.
class PrintTable {
 public:
  explicit PrintTable(const Descriptor& descriptor)
      : well_known_(json_codec_internal::GetWellKnownType(descriptor)) {
    fields_.reserve(static_cast<std::size_t>(descriptor.field_count()));
    for (int i = 0; i < descriptor.field_count(); ++i) {
      const FieldDescriptor& field = *descriptor.field(i);
      fields_.emplace_back(field);
      if (field.number() > 0 && field.number() < static_cast<int>(by_number_.size())) {
        by_number_[static_cast<std::size_t>(field.number())] = &fields_.back();
      }
    }
    if (well_known_ == WellKnownType::kValue) kind_ = descriptor.oneof_decl(0);
    // For generated types, one reflection object serves every instance of the class.
    if (descriptor.file()->pool() == GeneratedPool()) {
      if (const Message* prototype =
              google::protobuf::MessageFactory::generated_factory()->GetPrototype(&descriptor)) {
        generated_class_ = &typeid(*prototype);
        generated_reflection_ = prototype->GetReflection();
      }
    }
  }

  const std::vector<PrintField>& fields() const { return fields_; }
  const PrintField& field(int index) const { return fields_[static_cast<std::size_t>(index)]; }
  // Fields 1 to 6 by number (well-known types are addressed by number).
  const PrintField& number(int number) const {
    return *by_number_[static_cast<std::size_t>(number)];
  }
  WellKnownType well_known() const { return well_known_; }
  const google::protobuf::OneofDescriptor* value_kind() const { return kind_; }

  const Reflection& ReflectionOf(const Message& message) const {
    if (generated_class_ != nullptr && typeid(message) == *generated_class_) {
      return *generated_reflection_;
    }
    return *message.GetReflection();
  }

 private:
  WellKnownType well_known_;
  std::vector<PrintField> fields_;
  std::array<const PrintField*, 7> by_number_{};
  const google::protobuf::OneofDescriptor* kind_ = nullptr;  // google.protobuf.Value's oneof
  const std::type_info* generated_class_ = nullptr;
  const Reflection* generated_reflection_ = nullptr;
};

class TableCache {
 public:
  const PrintTable& Get(const Descriptor& descriptor) {
    auto& slot = tables_[&descriptor];
    if (!slot) slot = std::make_unique<PrintTable>(descriptor);
    return *slot;
  }

 private:
  std::unordered_map<const Descriptor*, std::unique_ptr<PrintTable>> tables_;
};

// Tables of generated types live as long as their descriptors (the process): cached per thread,
// without locks. Types of other pools may not outlive the call: their tables are per call.
TableCache& GeneratedTables() {
  thread_local TableCache cache;
  return cache;
}

class Printer {
 public:
  Printer(bool camel_case, std::string& out, const Descriptor& type)
      : camel_case_(camel_case),
        out_(out),
        tables_(type.file()->pool() == GeneratedPool() ? &GeneratedTables() : &local_tables_) {}

  bool Print(const Message& message) {
    return PrintMessage(message, tables_->Get(*message.GetDescriptor()));
  }

  // The reason of a failure, with the path of the field that caused it.
  std::string error() const {
    std::string path;
    for (auto name = error_path_.rbegin(); name != error_path_.rend(); ++name) {
      if (!path.empty() && name->front() != '[') path.push_back('.');
      path += *name;
    }
    return path.empty() ? error_ : Cat("field \"", path, "\": ", error_);
  }

 private:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  const PrintTable& TableOf(const PrintField& field) {
    if (field.table == nullptr) field.table = &tables_->Get(*field.message_type);
    return *field.table;
  }

  // The JSON form of `message` (of `table`'s type), by its type.
  bool PrintMessage(const Message& message, const PrintTable& table) {
    if (++depth_ > kMaxPrintDepth) return Fail("the message nests too deeply");
    bool ok = true;
    switch (table.well_known()) {
      case WellKnownType::kNone:
      case WellKnownType::kEmpty:
        out_.push_back('{');
        ok = PrintFields(message, table, true);
        out_.push_back('}');
        break;
      case WellKnownType::kAny:
        ok = PrintAny(message, table);
        break;
      case WellKnownType::kTimestamp:
      case WellKnownType::kDuration:
        ok = PrintTime(message, table);
        break;
      case WellKnownType::kFieldMask:
        PrintFieldMask(message, table);
        break;
      case WellKnownType::kWrapper:
        PrintSingular(message, table.ReflectionOf(message), table.number(1));
        break;
      case WellKnownType::kStruct:
        ok = PrintMap(message, table.ReflectionOf(message), table.number(1));
        break;
      case WellKnownType::kValue:
        ok = PrintValue(message, table);
        break;
      case WellKnownType::kListValue:
        ok = PrintRepeated(message, table.ReflectionOf(message), table.number(1));
        break;
    }
    --depth_;
    return ok;
  }

  // The members of an object, without braces. `first` says no member precedes them.
  bool PrintFields(const Message& message, const PrintTable& table, bool first) {
    const Reflection& reflection = table.ReflectionOf(message);
    for (const PrintField& field : table.fields()) {
      if (field.skip_unless_set && !reflection.HasField(message, field.descriptor)) continue;
      if (!first) out_.push_back(',');
      first = false;
      out_ += camel_case_ ? field.camel_key : field.proto_key;
      bool ok = true;
      if (field.is_map) {
        ok = PrintMap(message, reflection, field);
      } else if (field.is_repeated) {
        ok = PrintRepeated(message, reflection, field);
      } else if (field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE) {
        ok = PrintMessage(reflection.GetMessage(message, field.descriptor), TableOf(field));
      } else {
        PrintSingular(message, reflection, field);
      }
      if (!ok) {
        error_path_.push_back(field.descriptor->name());
        return false;
      }
    }
    return true;
  }

  void PrintEnum(const PrintField& field, int number) {
    if (field.is_null_value) {
      out_ += "null";
      return;
    }
    const EnumValueDescriptor* value = field.enum_type->FindValueByNumber(number);
    if (value == nullptr) {
      AppendInteger(number, out_);
    } else {
      AppendQuoted(value->name(), out_);
    }
  }

  void PrintBytesOrString(const PrintField& field, const std::string& value) {
    if (field.is_bytes) {
      out_.push_back('"');
      Base64Encode(value, out_);
      out_.push_back('"');
    } else {
      AppendQuoted(value, out_);
    }
  }

  void PrintSingular(const Message& message, const Reflection& reflection,
                     const PrintField& field) {
    const FieldDescriptor* descriptor = field.descriptor;
    switch (field.cpp_type) {
      case FieldDescriptor::CPPTYPE_INT32:
        AppendInteger(reflection.GetInt32(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        AppendQuotedInteger(reflection.GetInt64(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendInteger(reflection.GetUInt32(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        AppendQuotedInteger(reflection.GetUInt64(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendDouble(reflection.GetDouble(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendFloat(reflection.GetFloat(message, descriptor), out_);
        return;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += reflection.GetBool(message, descriptor) ? "true" : "false";
        return;
      case FieldDescriptor::CPPTYPE_ENUM:
        PrintEnum(field, reflection.GetEnumValue(message, descriptor));
        return;
      case FieldDescriptor::CPPTYPE_STRING:
        PrintBytesOrString(field, reflection.GetStringReference(message, descriptor, &scratch_));
        return;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return;
    }
  }

  bool PrintRepeated(const Message& message, const Reflection& reflection,
                     const PrintField& field) {
    const FieldDescriptor* descriptor = field.descriptor;
    const int size = reflection.FieldSize(message, descriptor);
    out_.push_back('[');
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_.push_back(',');
      switch (field.cpp_type) {
        case FieldDescriptor::CPPTYPE_INT32:
          AppendInteger(reflection.GetRepeatedInt32(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          AppendQuotedInteger(reflection.GetRepeatedInt64(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          AppendInteger(reflection.GetRepeatedUInt32(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          AppendQuotedInteger(reflection.GetRepeatedUInt64(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          AppendDouble(reflection.GetRepeatedDouble(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          AppendFloat(reflection.GetRepeatedFloat(message, descriptor, i), out_);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          out_ += reflection.GetRepeatedBool(message, descriptor, i) ? "true" : "false";
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          PrintEnum(field, reflection.GetRepeatedEnumValue(message, descriptor, i));
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          PrintBytesOrString(
              field, reflection.GetRepeatedStringReference(message, descriptor, i, &scratch_));
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (!PrintMessage(reflection.GetRepeatedMessage(message, descriptor, i),
                            TableOf(field))) {
            error_path_.push_back(Cat("[", i, "]"));
            return false;
          }
          break;
      }
    }
    out_.push_back(']');
    return true;
  }

  // A map (or Struct's fields): entries through the repeated view (const-safe), keys as JSON
  // strings.
  bool PrintMap(const Message& message, const Reflection& reflection, const PrintField& field) {
    const PrintTable& entry_table = TableOf(field);
    const PrintField& key_field = entry_table.field(0);
    const PrintField& value_field = entry_table.field(1);
    const int size = reflection.FieldSize(message, field.descriptor);
    out_.push_back('{');
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_.push_back(',');
      const Message& entry = reflection.GetRepeatedMessage(message, field.descriptor, i);
      const Reflection& entry_reflection = entry_table.ReflectionOf(entry);
      switch (key_field.cpp_type) {
        case FieldDescriptor::CPPTYPE_STRING:
          AppendQuoted(entry_reflection.GetStringReference(entry, key_field.descriptor, &scratch_),
                       out_);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          out_ += entry_reflection.GetBool(entry, key_field.descriptor) ? "\"true\"" : "\"false\"";
          break;
        case FieldDescriptor::CPPTYPE_INT32:
        case FieldDescriptor::CPPTYPE_UINT32:
          // 32-bit integers print bare: quote them; 64-bit ones come quoted.
          out_.push_back('"');
          PrintSingular(entry, entry_reflection, key_field);
          out_.push_back('"');
          break;
        default:
          PrintSingular(entry, entry_reflection, key_field);
          break;
      }
      out_.push_back(':');
      if (value_field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!PrintMessage(entry_reflection.GetMessage(entry, value_field.descriptor),
                          TableOf(value_field))) {
          return false;
        }
      } else {
        PrintSingular(entry, entry_reflection, value_field);
      }
    }
    out_.push_back('}');
    return true;
  }

  bool PrintTime(const Message& message, const PrintTable& table) {
    const Reflection& reflection = table.ReflectionOf(message);
    const std::int64_t seconds = reflection.GetInt64(message, table.number(1).descriptor);
    const std::int32_t nanos = reflection.GetInt32(message, table.number(2).descriptor);
    const std::size_t start = out_.size();
    out_.push_back('"');
    const bool timestamp = table.well_known() == WellKnownType::kTimestamp;
    const bool ok =
        timestamp ? FormatTimestamp(seconds, nanos, out_) : FormatDuration(seconds, nanos, out_);
    if (!ok) {
      out_.resize(start);
      return Fail(Cat(timestamp ? "Timestamp" : "Duration", " of ", seconds, "s ", nanos,
                      "ns is out of range"));
    }
    out_.push_back('"');
    return true;
  }

  // Paths joined by commas, snake_case to lowerCamel ("foo_bar" -> "fooBar"; an underscore not
  // followed by a lowercase letter stays, so the parser's reverse mapping restores the path).
  void PrintFieldMask(const Message& message, const PrintTable& table) {
    const FieldDescriptor* paths = table.number(1).descriptor;
    const Reflection& reflection = table.ReflectionOf(message);
    std::string joined;
    const int size = reflection.FieldSize(message, paths);
    for (int i = 0; i < size; ++i) {
      if (i > 0) joined.push_back(',');
      const std::string& path = reflection.GetRepeatedStringReference(message, paths, i, &scratch_);
      for (std::size_t c = 0; c < path.size(); ++c) {
        if (path[c] == '_' && c + 1 < path.size() && path[c + 1] >= 'a' && path[c + 1] <= 'z') {
          joined.push_back(static_cast<char>(path[++c] - 'a' + 'A'));
        } else {
          joined.push_back(path[c]);
        }
      }
    }
    AppendQuoted(joined, out_);
  }

  // google.protobuf.Value: whichever kind is set; null when none is.
  bool PrintValue(const Message& message, const PrintTable& table) {
    const Reflection& reflection = table.ReflectionOf(message);
    const FieldDescriptor* kind = reflection.GetOneofFieldDescriptor(message, table.value_kind());
    if (kind == nullptr) {
      out_ += "null";
      return true;
    }
    const PrintField& field = table.number(kind->number());
    if (field.cpp_type == FieldDescriptor::CPPTYPE_MESSAGE) {
      return PrintMessage(reflection.GetMessage(message, kind), TableOf(field));
    }
    PrintSingular(message, reflection, field);
    return true;
  }

  // google.protobuf.Any: {"@type": url, ...the packed message's fields}, or for a packed
  // well-known type {"@type": url, "value": its JSON form}. The type must be in the message's
  // descriptor pool.
  bool PrintAny(const Message& message, const PrintTable& table) {
    const Reflection& reflection = table.ReflectionOf(message);
    std::string url_scratch;
    std::string value_scratch;
    const std::string& url =
        reflection.GetStringReference(message, table.number(1).descriptor, &url_scratch);
    const std::string& bytes =
        reflection.GetStringReference(message, table.number(2).descriptor, &value_scratch);
    if (url.empty() && bytes.empty()) {
      out_ += "{}";
      return true;
    }
    const std::string_view type_name = std::string_view(url).substr(url.rfind('/') + 1);
    const DescriptorPool& pool = *message.GetDescriptor()->file()->pool();
    const Descriptor* packed_type = pool.FindMessageTypeByName(std::string(type_name));
    if (packed_type == nullptr) return Fail(Cat("Any holds unknown type ", url));
    std::unique_ptr<google::protobuf::DynamicMessageFactory> dynamic_factory;
    google::protobuf::MessageFactory* factory =
        google::protobuf::MessageFactory::generated_factory();
    if (&pool != GeneratedPool()) {
      dynamic_factory = std::make_unique<google::protobuf::DynamicMessageFactory>(&pool);
      factory = dynamic_factory.get();
    }
    const Message* prototype = factory->GetPrototype(packed_type);
    if (prototype == nullptr) return Fail(Cat("Any holds unknown type ", url));
    std::unique_ptr<Message> packed(prototype->New());
    if (!packed->ParseFromString(bytes)) return Fail(Cat("Any holds a malformed ", url));
    out_ += "{\"@type\":";
    AppendQuoted(url, out_);
    const PrintTable& packed_table = tables_->Get(*packed_type);
    bool ok = true;
    if (packed_table.well_known() == WellKnownType::kNone ||
        packed_table.well_known() == WellKnownType::kEmpty) {
      ok = PrintFields(*packed, packed_table, false);
    } else {
      out_ += ",\"value\":";
      ok = PrintMessage(*packed, packed_table);
    }
    out_.push_back('}');
    return ok;
  }

  bool camel_case_;
  std::string& out_;
  TableCache* tables_;
  TableCache local_tables_;  // for types outside the generated pool
  std::string scratch_;
  int depth_ = 0;
  std::string error_;
  std::vector<std::string> error_path_;  // innermost first
};

}  // namespace

absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out) {
  const std::size_t start = out.size();
  Printer printer(options.camel_case, out, *message.GetDescriptor());
  if (!printer.Print(message)) {
    out.resize(start);
    return absl::InternalError(Cat("response cannot be printed as JSON: ", printer.error()));
  }
  return absl::OkStatus();
}

}  // namespace switchyard::gateway
