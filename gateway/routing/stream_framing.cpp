#include "gateway/routing/stream_framing.hpp"

#include <cctype>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

namespace switchyard::gateway {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

// "DataChangeKind" -> "DATA_CHANGE_KIND_": the prefix buf's ENUM_VALUE_PREFIX rule asks for.
std::string EnumValuePrefix(std::string_view enum_name) {
  std::string prefix;
  for (std::size_t i = 0; i < enum_name.size(); ++i) {
    const char c = enum_name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
        !std::isupper(static_cast<unsigned char>(enum_name[i - 1]))) {
      prefix += '_';
    }
    prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return prefix + "_";
}

// The message holding the leaf of `path`, or null when an intermediate message is unset.
const Message* Holder(const Message& message, const FieldPath& path) {
  const Message* current = &message;
  const auto fields = path.fields();
  for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
    const auto* reflection = current->GetReflection();
    if (!reflection->HasField(*current, fields[i])) return nullptr;
    current = &reflection->GetMessage(*current, fields[i]);
  }
  return current;
}

}  // namespace

StreamFormat NegotiateStreamFormat(std::string_view accept) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    std::size_t end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view item = accept.substr(start, end - start);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() == 17) {
      std::string lower(item);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "text/event-stream") return StreamFormat::kSse;
    }
    start = end + 1;
  }
  return StreamFormat::kNdjson;
}

std::string_view StreamContentType(StreamFormat format) {
  return format == StreamFormat::kSse ? "text/event-stream" : "application/x-ndjson";
}

std::string StringAt(const Message& message, const FieldPath& path) {
  if (path.empty()) return {};
  const Message* holder = Holder(message, path);
  if (holder == nullptr) return {};
  return holder->GetReflection()->GetString(*holder, &path.leaf());
}

std::string EventName(const Message& message, const FieldPath& path) {
  if (path.empty()) return "message";
  const Message* holder = Holder(message, path);
  if (holder == nullptr) return "message";
  const FieldDescriptor& leaf = path.leaf();
  std::string name;
  if (leaf.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    const auto* value = holder->GetReflection()->GetEnum(*holder, &leaf);
    name = value->name();
    const std::string prefix = EnumValuePrefix(leaf.enum_type()->name());
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
      name.erase(0, prefix.size());
    }
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else {
    name = holder->GetReflection()->GetString(*holder, &leaf);
    // An event name is one line.
    for (char& c : name) {
      if (c == '\n' || c == '\r') c = ' ';
    }
  }
  return name.empty() ? "message" : name;
}

std::string SseEvent(std::string_view id, std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(id.size() + event.size() + data.size() + 24);
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return out;
}

std::string MessageFrame(StreamFormat format, std::string_view id, std::string_view event,
                         std::string_view json) {
  if (format == StreamFormat::kSse) return SseEvent(id, event, json);
  std::string line(json);
  line += '\n';
  return line;
}

std::string ErrorFrame(StreamFormat format, std::string_view status_json) {
  if (format == StreamFormat::kSse) return SseEvent("", "error", status_json);
  std::string line = "{\"error\":";
  line += status_json;
  line += "}\n";
  return line;
}

}  // namespace switchyard::gateway
