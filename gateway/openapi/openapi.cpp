#include "gateway/openapi/openapi.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "gateway/json/json_codec.hpp"
#include "gateway/routing/field_binding.hpp"
#include "gateway/routing/http_mapping.hpp"
#include "gateway/routing/path_template.hpp"
#include "switchyard/api/v1/http_options.pb.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace switchyard::gateway {

namespace {

namespace json = boost::json;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr std::string_view kJsonMediaType = "application/json";
constexpr std::string_view kStatusRef = "#/components/schemas/Status";
constexpr std::string_view kRequestIdHeader = "X-Request-ID";
constexpr std::string_view kSseMediaType = "text/event-stream";
constexpr std::string_view kNdjsonMediaType = "application/x-ndjson";

// --- Descriptors ----------------------------------------------------------------------------

// The well-known types, classified once for the JSON codec and the document alike.
using WellKnown = json_codec_internal::WellKnownType;

WellKnown WellKnownOf(const Descriptor& type) {
  return json_codec_internal::GetWellKnownType(type);
}

// The leading comments of a descriptor, one space of indentation removed from each line, or ""
// when the descriptors carry no SourceCodeInfo (generated code usually does not).
template <typename D>
std::string Comments(const D& descriptor) {
  google::protobuf::SourceLocation location;
  if (!descriptor.GetSourceLocation(&location)) return "";
  std::vector<std::string_view> lines;
  std::string_view text = location.leading_comments;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.starts_with(' ')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    if (i > first) out += '\n';
    out += lines[i];
  }
  return out;
}

// The first sentence of a comment's first paragraph, without its full stop: a summary.
std::string FirstSentence(std::string_view comment) {
  comment = comment.substr(0, comment.find("\n\n"));
  std::string out;
  for (std::size_t i = 0; i < comment.size(); ++i) {
    const char c = comment[i];
    if (c == '.' && (i + 1 == comment.size() || comment[i + 1] == ' ' || comment[i + 1] == '\n')) {
      break;
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// Joins non-empty paragraphs with a blank line.
std::string Paragraphs(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += part;
  }
  return out;
}

// Component names are full proto names; a package-less type keeps protobuf's leading dot, so it
// can never take the name of the document's own `Status` schema.
std::string SchemaName(const Descriptor& type) {
  return type.file()->package().empty() ? "." + type.full_name() : type.full_name();
}

json::object Ref(std::string_view target) {
  json::object ref;
  ref["$ref"] = target;
  return ref;
}

// --- Paths ----------------------------------------------------------------------------------

std::string_view SegmentText(const PathTemplate::Segment& segment) {
  switch (segment.kind) {
    case PathTemplate::SegmentKind::kWildcard:
      return "*";
    case PathTemplate::SegmentKind::kDoubleWildcard:
      return "**";
    case PathTemplate::SegmentKind::kLiteral:
      break;
  }
  return segment.literal;
}

// A literal segment as it goes into an OpenAPI path: characters that are not allowed in a URL
// path segment as they are, and the braces OpenAPI would read as a parameter, percent-encoded.
std::string EncodeLiteral(std::string_view literal) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : literal) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        kAllowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace

namespace openapi_internal {

std::string OpenApiPath::Text() const {
  std::string out = literals.front();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    out += "{" + parameters[i].name + "}" + literals[i + 1];
  }
  return out;
}

std::string OpenApiPath::Shape() const {
  std::string out = literals.front();
  for (std::size_t i = 1; i < literals.size(); ++i) out += "{}" + literals[i];
  return out;
}

std::optional<OpenApiPath> ConvertPathTemplate(std::string_view text) {
  auto parsed = PathTemplate::Parse(text);
  if (!parsed.ok()) return std::nullopt;
  const auto& segments = parsed->segments();
  const auto& variables = parsed->variable_specs();
  OpenApiPath path;
  path.literals.emplace_back();
  std::set<std::string> field_paths;
  for (const auto& variable : variables) field_paths.insert(variable.field_path);
  std::size_t next_variable = 0;
  int wildcards = 0;
  for (std::size_t i = 0; i < segments.size();) {
    PathParameter parameter;
    if (next_variable < variables.size() && variables[next_variable].begin == i) {
      const auto& variable = variables[next_variable++];
      parameter.name = variable.field_path;
      parameter.field_path = variable.field_path;
      parameter.multi_segment = variable.multi_segment;
      for (std::size_t j = variable.begin; j < variable.end && j < segments.size(); ++j) {
        if (j > variable.begin) parameter.pattern += '/';
        parameter.pattern += SegmentText(segments[j]);
      }
      i = std::max(variable.end, i + 1);
    } else if (segments[i].kind == PathTemplate::SegmentKind::kLiteral) {
      path.literals.back() += "/" + EncodeLiteral(segments[i].literal);
      ++i;
      continue;
    } else {
      // A bare `*` or `**`: matched but bound to no field. It still needs a parameter name.
      do {
        parameter.name = "wildcard_" + std::to_string(++wildcards);
      } while (field_paths.contains(parameter.name));
      parameter.pattern = SegmentText(segments[i]);
      parameter.multi_segment = segments[i].kind == PathTemplate::SegmentKind::kDoubleWildcard;
      ++i;
    }
    path.literals.back() += "/";
    path.parameters.push_back(std::move(parameter));
    path.literals.emplace_back();
  }
  if (segments.empty()) path.literals.back() = "/";
  if (!parsed->verb().empty()) path.literals.back() += ":" + parsed->verb();
  return path;
}

}  // namespace openapi_internal

namespace {

using openapi_internal::OpenApiPath;
using openapi_internal::PathParameter;

std::string_view OpenApiMethod(std::string_view method) {
  static constexpr std::pair<std::string_view, std::string_view> kMethods[] = {
      {"GET", "get"},         {"PUT", "put"},   {"POST", "post"},   {"DELETE", "delete"},
      {"OPTIONS", "options"}, {"HEAD", "head"}, {"PATCH", "patch"}, {"TRACE", "trace"},
  };
  for (const auto& [http, openapi] : kMethods) {
    if (http == method) return openapi;
  }
  return {};
}

// --- Output ---------------------------------------------------------------------------------

// Compact JSON with every object's keys sorted, so the output depends only on the routes.
void WriteSorted(const json::value& value, std::string& out) {
  if (value.is_object()) {
    std::vector<const json::key_value_pair*> members;
    for (const auto& member : value.get_object()) members.push_back(&member);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += json::serialize(members[i]->key());
      out += ':';
      WriteSorted(members[i]->value(), out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& element : value.get_array()) {
      if (!first) out += ',';
      first = false;
      WriteSorted(element, out);
    }
    out += ']';
  } else {
    out += json::serialize(value);
  }
}

// --- The document ---------------------------------------------------------------------------

json::object HeaderParameter(std::string_view name, std::string_view pattern,
                             std::string_view description);

class DocumentBuilder {
 public:
  explicit DocumentBuilder(const OpenApiOptions& options) : options_(options) {}

  json::object Build(const RouteTable& routes);

 private:
  std::string FieldName(const FieldDescriptor& field) const {
    return options_.camel_case ? field.json_name() : field.name();
  }

  json::object EnumSchema(const EnumDescriptor& type) const;
  json::object ScalarSchema(const FieldDescriptor& field) const;
  json::object WellKnownSchema(WellKnown kind, const Descriptor& type) const;
  // An inline schema for a well-known type, else a $ref to the message's component (queued).
  json::object MessageSchema(const Descriptor& type);
  // The schema of one value of `field` (an element, for a repeated field).
  json::object ValueSchema(const FieldDescriptor& field);
  // The schema of `field` itself: arrays, maps, its description.
  json::object FieldSchema(const FieldDescriptor& field);
  json::object ComponentSchema(const Descriptor& type);
  std::string OneofNote(const FieldDescriptor& field) const;

  void AddRoute(const RouteTarget& route, const OpenApiPath& path, std::string operation_id);
  json::array Parameters(const RouteTarget& route, const OpenApiPath& path);
  void AddQueryParameters(const Descriptor& type, const std::string& proto_prefix,
                          const std::string& name_prefix, const std::set<std::string>& excluded,
                          std::vector<const Descriptor*>& stack, json::array& out);
  json::object Responses(const RouteTarget& route);

  // Marks `type` and every message type reachable from it as part of a request.
  void MarkRequestType(const Descriptor& type);
  // Whether the JSON printer always writes `field`: singular scalars without presence, repeated
  // fields and maps (json/json_codec.hpp).
  static bool AlwaysPrinted(const FieldDescriptor& field);

  const OpenApiOptions& options_;
  std::set<const Descriptor*> request_types_;  // messages a request can carry
  json::object paths_;
  std::map<std::string, std::string> tags_;            // service name -> description
  std::map<std::string, const Descriptor*> messages_;  // component name -> type, all referenced
  std::vector<const Descriptor*> pending_;  // every referenced type, in order of first use
  std::map<std::string, std::vector<std::string>> parameter_names_;  // path shape -> names
};

json::object DocumentBuilder::EnumSchema(const EnumDescriptor& type) const {
  json::object schema;
  if (type.full_name() == "google.protobuf.NullValue") {
    schema["description"] = "Always null.";
    return schema;
  }
  schema["type"] = "string";
  json::array names;
  for (int i = 0; i < type.value_count(); ++i) names.emplace_back(type.value(i)->name());
  schema["enum"] = std::move(names);
  if (std::string comments = Comments(type); !comments.empty()) {
    schema["description"] = std::move(comments);
  }
  return schema;
}

json::object DocumentBuilder::ScalarSchema(const FieldDescriptor& field) const {
  json::object schema;
  switch (field.type()) {
    case FieldDescriptor::TYPE_DOUBLE:
      schema["type"] = "number";
      schema["format"] = "double";
      break;
    case FieldDescriptor::TYPE_FLOAT:
      schema["type"] = "number";
      schema["format"] = "float";
      break;
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
      schema["type"] = "string";
      schema["format"] = "int64";
      break;
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      schema["type"] = "string";
      schema["format"] = "uint64";
      break;
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
      schema["type"] = "integer";
      schema["format"] = "int32";
      break;
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      schema["type"] = "integer";
      schema["format"] = "int64";
      schema["minimum"] = 0;
      schema["maximum"] = std::int64_t{4294967295};
      break;
    case FieldDescriptor::TYPE_BOOL:
      schema["type"] = "boolean";
      break;
    case FieldDescriptor::TYPE_STRING:
      schema["type"] = "string";
      break;
    case FieldDescriptor::TYPE_BYTES:
      schema["type"] = "string";
      schema["format"] = "byte";
      break;
    case FieldDescriptor::TYPE_ENUM:
      return EnumSchema(*field.enum_type());
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      break;  // not scalars; ValueSchema handles them
  }
  return schema;
}

json::object DocumentBuilder::WellKnownSchema(WellKnown kind, const Descriptor& type) const {
  json::object schema;
  switch (kind) {
    case WellKnown::kAny: {
      schema["type"] = "object";
      json::object properties;
      json::object type_url;
      type_url["type"] = "string";
      properties["@type"] = std::move(type_url);
      schema["properties"] = std::move(properties);
      schema["required"] = json::array{"@type"};
      schema["additionalProperties"] = true;
      schema["description"] = "A google.protobuf.Any: `@type` names the type of the value.";
      break;
    }
    case WellKnown::kTimestamp:
      schema["type"] = "string";
      schema["format"] = "date-time";
      break;
    case WellKnown::kDuration:
      schema["type"] = "string";
      schema["pattern"] = R"(^-?[0-9]+(\.[0-9]{1,9})?s$)";
      schema["description"] = "Seconds with up to 9 decimals and an `s`, e.g. `1.5s`.";
      break;
    case WellKnown::kFieldMask:
      schema["type"] = "string";
      schema["description"] = "Field paths separated by commas, e.g. `name,email`.";
      break;
    case WellKnown::kStruct:
      schema["type"] = "object";
      schema["additionalProperties"] = true;
      break;
    case WellKnown::kValue:
      schema["description"] = "Any JSON value.";
      break;
    case WellKnown::kListValue:
      schema["type"] = "array";
      schema["items"] = json::object();
      break;
    case WellKnown::kWrapper:
      if (const FieldDescriptor* value = type.FindFieldByName("value"); value != nullptr) {
        schema = ScalarSchema(*value);
      }
      schema["nullable"] = true;
      break;
    case WellKnown::kEmpty:
      schema["type"] = "object";
      break;
    case WellKnown::kNone:
      break;
  }
  return schema;
}

json::object DocumentBuilder::MessageSchema(const Descriptor& type) {
  if (const WellKnown kind = WellKnownOf(type); kind != WellKnown::kNone) {
    return WellKnownSchema(kind, type);
  }
  std::string name = SchemaName(type);
  json::object ref = Ref("#/components/schemas/" + name);
  if (messages_.emplace(std::move(name), &type).second) pending_.push_back(&type);
  return ref;
}

json::object DocumentBuilder::ValueSchema(const FieldDescriptor& field) {
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return MessageSchema(*field.message_type());
  }
  return ScalarSchema(field);
}

std::string DocumentBuilder::OneofNote(const FieldDescriptor& field) const {
  const auto* oneof = field.real_containing_oneof();
  if (oneof == nullptr) return "";
  std::string note = "Part of oneof `" + oneof->name() + "`: at most one of ";
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (i > 0) note += ", ";
    note += "`" + FieldName(*oneof->field(i)) + "`";
  }
  return note + " is set.";
}

json::object DocumentBuilder::FieldSchema(const FieldDescriptor& field) {
  json::object schema;
  if (field.is_map()) {
    schema["type"] = "object";
    schema["additionalProperties"] = ValueSchema(*field.message_type()->map_value());
  } else if (field.is_repeated()) {
    schema["type"] = "array";
    schema["items"] = ValueSchema(field);
  } else {
    schema = ValueSchema(field);
  }
  const std::string description = Paragraphs({Comments(field), OneofNote(field)});
  const bool deprecated = field.options().deprecated();
  if (description.empty() && !deprecated) return schema;
  if (schema.contains("$ref")) {
    // OpenAPI 3.0 ignores the siblings of a $ref: wrap it to say more.
    json::object wrapper;
    wrapper["allOf"] = json::array{std::move(schema)};
    schema = std::move(wrapper);
  }
  if (!description.empty()) {
    if (const auto* own = schema.if_contains("description"); own != nullptr) {
      schema["description"] = Paragraphs({description, own->as_string()});
    } else {
      schema["description"] = description;
    }
  }
  if (deprecated) schema["deprecated"] = true;
  return schema;
}

void DocumentBuilder::MarkRequestType(const Descriptor& type) {
  if (!request_types_.insert(&type).second) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      MarkRequestType(*field.message_type());
    }
  }
}

bool DocumentBuilder::AlwaysPrinted(const FieldDescriptor& field) {
  if (field.is_repeated()) return true;  // maps too
  return field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE && !field.has_presence();
}

json::object DocumentBuilder::ComponentSchema(const Descriptor& type) {
  json::object schema;
  schema["type"] = "object";
  json::object properties;
  json::array required;
  // A request's required fields are the ones its service requires (field_required); a message
  // only ever sent by the gateway lists every field the gateway always writes.
  const bool response_only = !request_types_.contains(&type);
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    properties[FieldName(field)] = FieldSchema(field);
    if (field.is_required() || field.options().GetExtension(switchyard::api::v1::field_required) ||
        (response_only && AlwaysPrinted(field))) {
      required.emplace_back(FieldName(field));
    }
  }
  if (!properties.empty()) schema["properties"] = std::move(properties);
  if (!required.empty()) schema["required"] = std::move(required);
  if (std::string comments = Comments(type); !comments.empty()) {
    schema["description"] = std::move(comments);
  }
  if (type.options().deprecated()) schema["deprecated"] = true;
  return schema;
}

void DocumentBuilder::AddQueryParameters(const Descriptor& type, const std::string& proto_prefix,
                                         const std::string& name_prefix,
                                         const std::set<std::string>& excluded,
                                         std::vector<const Descriptor*>& stack, json::array& out) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    const std::string proto_path = proto_prefix + field.name();
    const std::string name = name_prefix + FieldName(field);
    if (excluded.contains(proto_path) || field.is_map()) continue;
    json::object value;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Descriptor& message = *field.message_type();
      switch (const WellKnown kind = WellKnownOf(message)) {
        case WellKnown::kTimestamp:
        case WellKnown::kDuration:
        case WellKnown::kFieldMask:
        case WellKnown::kWrapper:
          value = WellKnownSchema(kind, message);
          value.erase("nullable");  // a query parameter is absent, never null
          break;
        case WellKnown::kNone:
          // A message: its fields, by dotted names. Not through a repeated field, and not into a
          // type that is already being expanded (recursive messages).
          if (!field.is_repeated() &&
              std::find(stack.begin(), stack.end(), &message) == stack.end()) {
            stack.push_back(&message);
            AddQueryParameters(message, proto_path + ".", name + ".", excluded, stack, out);
            stack.pop_back();
          }
          continue;
        default:
          continue;  // Any, Struct, Value, ListValue, Empty have no text form
      }
    } else {
      value = ScalarSchema(field);
    }
    json::object parameter;
    parameter["name"] = name;
    parameter["in"] = "query";
    if (field.is_repeated()) {
      json::object array;
      array["type"] = "array";
      array["items"] = std::move(value);
      parameter["schema"] = std::move(array);
      parameter["style"] = "form";
      parameter["explode"] = true;
    } else {
      parameter["schema"] = std::move(value);
    }
    if (std::string description = Paragraphs({Comments(field), OneofNote(field)});
        !description.empty()) {
      parameter["description"] = std::move(description);
    }
    if (field.options().deprecated()) parameter["deprecated"] = true;
    if (field.options().GetExtension(switchyard::api::v1::field_required)) {
      parameter["required"] = true;
    }
    out.emplace_back(std::move(parameter));
  }
}

json::array DocumentBuilder::Parameters(const RouteTarget& route, const OpenApiPath& path) {
  const Descriptor& input = *route.method->input_type();
  json::array parameters;
  for (const PathParameter& spec : path.parameters) {
    json::object parameter;
    parameter["name"] = spec.name;
    parameter["in"] = "path";
    parameter["required"] = true;
    std::string description;
    if (spec.field_path.empty()) {
      parameter["schema"] = json::object{{"type", "string"}};
      description = "Matches `" + spec.pattern + "`; not bound to a request field.";
    } else {
      const auto bound =
          std::find_if(route.path_fields.begin(), route.path_fields.end(),
                       [&](const FieldPath& field) { return field.name() == spec.field_path; });
      if (bound != route.path_fields.end()) {
        parameter["schema"] = ScalarSchema(bound->leaf());
        description = Comments(bound->leaf());
      } else {
        parameter["schema"] = json::object{{"type", "string"}};
      }
      description = Paragraphs({description, "The request field `" + spec.field_path + "`."});
    }
    if (spec.multi_segment) {
      description = Paragraphs(
          {description, "Matches `" + spec.pattern +
                            "`, so the value may contain '/': send the slashes as they are "
                            "(an escaped %2F stays part of the value)."});
    }
    parameter["description"] = std::move(description);
    parameters.emplace_back(std::move(parameter));
  }
  if (route.body != "*") {
    std::set<std::string> excluded;
    for (const FieldPath& field : route.path_fields) excluded.insert(field.canonical());
    if (!route.body_field.empty()) excluded.insert(route.body_field.canonical());
    std::vector<const Descriptor*> stack{&input};
    AddQueryParameters(input, "", "", excluded, stack, parameters);
  }
  parameters.emplace_back(Ref("#/components/parameters/X-Request-ID"));
  if (route.server_streaming) {
    if (!route.resume_field.empty()) {
      parameters.emplace_back(HeaderParameter(
          "Last-Event-ID", "^[!-~]{1,256}$",
          "Resume after this position (an event's `id:`), with no event missed or repeated; "
          "sets `" +
              route.resume_field.name() +
              "` (the header wins over the query parameter). "
              "A position older than the retained history ends the stream with an error event."));
    }
  } else {
    parameters.emplace_back(Ref("#/components/parameters/Grpc-Timeout"));
  }
  return parameters;
}

json::object DocumentBuilder::Responses(const RouteTarget& route) {
  json::object success;
  const std::string_view reason = ReasonPhrase(route.success_status);
  success["description"] = reason.empty() ? std::string_view("Success") : reason;
  json::object headers;
  headers[kRequestIdHeader] = Ref("#/components/headers/X-Request-ID");
  if ((route.success_status == 201 || route.success_status == 202) && !route.location.empty()) {
    json::object location;
    location["description"] = "Where the resource is: `" + route.location +
                              "`, each `{field}` filled from the response message.";
    location["schema"] = json::object{{"type", "string"}};
    headers["Location"] = std::move(location);
  }
  success["headers"] = std::move(headers);
  if (route.server_streaming) {
    const Descriptor& output = *route.method->output_type();
    const std::string name = SchemaName(output);
    json::object sse_schema;
    sse_schema["type"] = "string";
    std::string sse =
        "Server-Sent Events, one per message: `data:` is the message as JSON (schema `" + name +
        "`)";
    if (!route.position_field.empty()) {
      sse += ", `id:` its `" + route.position_field.name() +
             "` (reconnect with `Last-Event-ID` to resume after it)";
    }
    sse += route.event_field.empty() ? ", `event:` \"message\""
                                     : ", `event:` its `" + route.event_field.name() +
                                           "` (enum values in lower case "
                                           "without their prefix)";
    sse +=
        ". A comment line (`: keepalive`) keeps an idle stream open. An error after the "
        "stream has started arrives as `event: error` whose data is a `Status`; the stream "
        "then ends.";
    sse_schema["description"] = sse;
    json::object sse_media;
    sse_media["schema"] = std::move(sse_schema);
    json::object ndjson_media;
    ndjson_media["schema"] = MessageSchema(output);
    json::object content;
    content[kSseMediaType] = std::move(sse_media);
    content[kNdjsonMediaType] = std::move(ndjson_media);
    success["content"] = std::move(content);
    success["description"] =
        "A stream of messages: Server-Sent Events when the request accepts `text/event-stream`, "
        "else newline-delimited JSON (one message per line; an error after the start as a line "
        "`{\"error\": <Status>}`).";
  } else if (route.success_status != 204) {
    json::object schema;
    const Descriptor& output = *route.method->output_type();
    schema = route.response_field.empty() ? MessageSchema(output)
                                          : ValueSchema(route.response_field.leaf());
    json::object media;
    media["schema"] = std::move(schema);
    json::object content;
    content[kJsonMediaType] = std::move(media);
    success["content"] = std::move(content);
  }
  json::object responses;
  responses[std::to_string(route.success_status)] = std::move(success);
  responses["400"] = Ref("#/components/responses/BadRequest");
  responses["404"] = Ref("#/components/responses/NotFound");
  responses["409"] = Ref("#/components/responses/Conflict");
  responses["429"] = Ref("#/components/responses/TooManyRequests");
  responses["503"] = Ref("#/components/responses/ServiceUnavailable");
  responses["504"] = Ref("#/components/responses/GatewayTimeout");
  responses["default"] = Ref("#/components/responses/Error");
  return responses;
}

void DocumentBuilder::AddRoute(const RouteTarget& route, const OpenApiPath& path,
                               std::string operation_id) {
  const MethodDescriptor& method = *route.method;
  const ServiceDescriptor& service = *method.service();
  if (!tags_.contains(service.name())) {
    std::string description = Comments(service);
    tags_[service.name()] =
        Paragraphs({description, "The gRPC service `" + service.full_name() + "`."});
  }

  json::object operation;
  operation["operationId"] = std::move(operation_id);
  operation["tags"] = json::array{json::string(service.name())};
  const std::string comments = Comments(method);
  operation["summary"] = comments.empty() ? method.name() : FirstSentence(comments);
  operation["description"] =
      Paragraphs({comments, "Calls the gRPC method `" + route.grpc_path + "`."});
  if (method.options().deprecated()) operation["deprecated"] = true;
  operation["parameters"] = Parameters(route, path);
  if (route.body == "*") MarkRequestType(*method.input_type());
  if (!route.body_field.empty()) {
    const FieldDescriptor& leaf = route.body_field.leaf();
    if (leaf.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) MarkRequestType(*leaf.message_type());
  }
  if (!route.body.empty()) {
    json::object schema;
    std::string description;
    if (route.body == "*") {
      schema = MessageSchema(*method.input_type());
      description = "The request message.";
      if (!route.path_fields.empty()) {
        description += " Fields bound by the path (";
        for (std::size_t i = 0; i < route.path_fields.size(); ++i) {
          if (i > 0) description += ", ";
          description += "`" + route.path_fields[i].name() + "`";
        }
        description += ") take their values from the path.";
      }
    } else {
      schema = ValueSchema(route.body_field.leaf());
      description = "The request's `" + route.body + "` field.";
    }
    json::object media;
    media["schema"] = std::move(schema);
    json::object content;
    content[kJsonMediaType] = std::move(media);
    json::object body;
    body["description"] = std::move(description);
    body["content"] = std::move(content);
    operation["requestBody"] = std::move(body);
  }
  operation["responses"] = Responses(route);

  const std::string text = path.Text();
  json::value& slot = paths_[text];
  if (!slot.is_object()) slot.emplace_object();
  json::object& item = slot.as_object();
  const std::string_view key = OpenApiMethod(route.http_method);
  if (!key.empty() && !item.contains(key)) {
    item[key] = std::move(operation);
    return;
  }
  // A method OpenAPI 3.0 cannot name, or a second operation for this path and method.
  json::object extra;
  extra["method"] = route.http_method;
  extra["path_template"] = route.path_template;
  extra["operation"] = std::move(operation);
  auto* list = item.if_contains("x-switchyard-operations");
  if (list == nullptr) list = &(item["x-switchyard-operations"] = json::array());
  list->as_array().emplace_back(std::move(extra));
}

json::object StatusSchema() {
  json::object code;
  code["type"] = "integer";
  code["format"] = "int32";
  code["description"] = "The gRPC status code (google.rpc.Code), e.g. 5 for NOT_FOUND.";
  json::object message;
  message["type"] = "string";
  message["description"] = "What went wrong, for a developer; names the field when input is bad.";
  json::object type_url;
  type_url["type"] = "string";
  json::object detail;
  detail["type"] = "object";
  detail["properties"] = json::object{{"@type", std::move(type_url)}};
  detail["required"] = json::array{"@type"};
  detail["additionalProperties"] = true;
  json::object details;
  details["type"] = "array";
  details["items"] = std::move(detail);
  details["description"] =
      "Typed details; always a google.rpc.RequestInfo whose `request_id` is the X-Request-ID.";

  json::object schema;
  schema["type"] = "object";
  schema["description"] = "A google.rpc.Status: the body of every error response.";
  schema["required"] = json::array{"code", "message"};
  schema["properties"] = json::object{
      {"code", std::move(code)}, {"message", std::move(message)}, {"details", std::move(details)}};
  schema["example"] = json::parse(R"({"code":5,"message":"user not found","details":[{"@type":)"
                                  R"("type.googleapis.com/google.rpc.RequestInfo","request_id":)"
                                  R"("0b6e3c2e-3f57-4f0e-9a4c-5f1b7f1f2a10"}]})");
  return schema;
}

json::object ErrorResponse(std::string_view description) {
  json::object media;
  media["schema"] = Ref(kStatusRef);
  json::object response;
  response["description"] = description;
  response["headers"] = json::object{{kRequestIdHeader, Ref("#/components/headers/X-Request-ID")}};
  response["content"] = json::object{{kJsonMediaType, std::move(media)}};
  return response;
}

json::object HeaderParameter(std::string_view name, std::string_view pattern,
                             std::string_view description) {
  json::object schema;
  schema["type"] = "string";
  schema["pattern"] = pattern;
  json::object parameter;
  parameter["name"] = name;
  parameter["in"] = "header";
  parameter["required"] = false;
  parameter["schema"] = std::move(schema);
  parameter["description"] = description;
  return parameter;
}

json::object DocumentBuilder::Build(const RouteTable& routes) {
  std::map<const MethodDescriptor*, int> bindings;  // routes seen per method
  std::set<std::string> operation_ids;
  for (const RouteTarget& route : routes.routes()) {
    auto path = openapi_internal::ConvertPathTemplate(route.path_template);
    if (!path.has_value()) continue;  // cannot happen: RouteTable parsed it already
    // Paths of one shape must use one set of names; the first route's names win.
    auto [names, inserted] = parameter_names_.try_emplace(path->Shape());
    if (inserted) {
      for (const auto& parameter : path->parameters) names->second.push_back(parameter.name);
    } else {
      for (std::size_t i = 0; i < path->parameters.size() && i < names->second.size(); ++i) {
        path->parameters[i].name = names->second[i];
      }
    }
    const MethodDescriptor& method = *route.method;
    const int binding = ++bindings[&method];
    std::string id = method.service()->name() + "_" + method.name();
    if (binding > 1) id += "_" + std::to_string(binding);
    if (operation_ids.contains(id)) {
      // Two services of one name in different packages.
      std::string qualified = method.service()->full_name() + "_" + method.name();
      std::replace(qualified.begin(), qualified.end(), '.', '_');
      if (binding > 1) qualified += "_" + std::to_string(binding);
      id = qualified;
      for (int n = 2; operation_ids.contains(id); ++n) id = qualified + "_n" + std::to_string(n);
    }
    operation_ids.insert(id);
    AddRoute(route, *path, std::move(id));
  }

  json::object schemas;
  schemas["Status"] = StatusSchema();
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const Descriptor& type = *pending_[i];  // ComponentSchema may append to pending_
    schemas[SchemaName(type)] = ComponentSchema(type);
  }

  json::object responses;
  responses["BadRequest"] = ErrorResponse(
      "Bad request: malformed JSON, an unknown field or query parameter, a value that does not "
      "convert, or INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE from the service.");
  responses["NotFound"] = ErrorResponse("No such route, or NOT_FOUND from the service.");
  responses["Conflict"] = ErrorResponse("ALREADY_EXISTS or ABORTED from the service.");
  responses["TooManyRequests"] = ErrorResponse(
      "Too many requests in flight at the gateway, or RESOURCE_EXHAUSTED from the service.");
  responses["ServiceUnavailable"] =
      ErrorResponse("The service is unavailable (UNAVAILABLE); retry later.");
  responses["GatewayTimeout"] =
      ErrorResponse("The deadline passed before the service answered (DEADLINE_EXCEEDED).");
  responses["Error"] = ErrorResponse("Any other error.");

  json::object request_id_header;
  request_id_header["description"] =
      "The request's id: the client's X-Request-ID when it was well-formed, else a new UUID. "
      "Every service that handled the request logged it.";
  request_id_header["schema"] = json::object{{"type", "string"}};

  json::object components;
  components["schemas"] = std::move(schemas);
  components["responses"] = std::move(responses);
  components["headers"] = json::object{{kRequestIdHeader, std::move(request_id_header)}};
  components["parameters"] = json::object{
      {kRequestIdHeader,
       HeaderParameter(kRequestIdHeader, "^[!-~]{1,128}$",
                       "Kept and echoed when it is 1-128 printable ASCII characters; otherwise "
                       "the gateway generates a UUID.")},
      {"Grpc-Timeout",
       HeaderParameter("Grpc-Timeout", "^[0-9]{1,8}[HMSmun]$",
                       "The call's deadline, e.g. `500m` (milliseconds) or `2S`; capped by the "
                       "gateway. Past it: 504.")}};

  json::object info;
  info["title"] = options_.title;
  info["version"] = options_.version.empty() ? std::string(SWITCHYARD_VERSION) : options_.version;
  info["description"] = std::string(
                            "REST/JSON to gRPC, generated from the services' google.api.http "
                            "annotations. Field names as in this document (") +
                        (options_.camel_case ? "lowerCamelCase" : "proto field names") +
                        "); proto and lowerCamelCase names are both accepted in requests, "
                        "unknown fields and query parameters are rejected. 64-bit integers "
                        "are strings. Every error is a google.rpc.Status.";

  json::array tags;
  for (const auto& [name, description] : tags_) {
    tags.emplace_back(json::object{{"name", name}, {"description", description}});
  }

  json::object document;
  document["openapi"] = "3.0.3";
  document["info"] = std::move(info);
  if (!options_.server_url.empty()) {
    document["servers"] = json::array{json::object{{"url", options_.server_url}}};
  }
  document["tags"] = std::move(tags);
  document["paths"] = std::move(paths_);
  document["components"] = std::move(components);
  return document;
}

}  // namespace

std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options) {
  const json::value document = DocumentBuilder(options).Build(routes);
  std::string out;
  out.reserve(64 * 1024);
  WriteSorted(document, out);
  return out;
}

}  // namespace switchyard::gateway
