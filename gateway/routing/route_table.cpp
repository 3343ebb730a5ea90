#include "gateway/routing/route_table.hpp"

#include <optional>
#include <utility>

#include "google/api/annotations.pb.h"
#include <google/protobuf/reflection.h>

#include "switchyard/api/v1/http_options.pb.h"

namespace switchyard::gateway {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The HTTP method and path of a rule, or an error for an empty pattern.
absl::Status RuleMethodAndPath(const google::api::HttpRule& rule, std::string& method,
                               std::string& path) {
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      method = "GET";
      path = rule.get();
      break;
    case google::api::HttpRule::kPut:
      method = "PUT";
      path = rule.put();
      break;
    case google::api::HttpRule::kPost:
      method = "POST";
      path = rule.post();
      break;
    case google::api::HttpRule::kDelete:
      method = "DELETE";
      path = rule.delete_();
      break;
    case google::api::HttpRule::kPatch:
      method = "PATCH";
      path = rule.patch();
      break;
    case google::api::HttpRule::kCustom:
      method = rule.custom().kind();
      path = rule.custom().path();
      break;
    default:
      return absl::InvalidArgumentError("http rule without a method and path");
  }
  return absl::OkStatus();
}

// `path` resolved against `type` when it names a singular message field, else nullptr.
std::optional<FieldPath> SingularMessagePath(const Descriptor& type, std::string_view path) {
  absl::StatusOr<FieldPath> resolved = FieldPath::Resolve(type, path);
  if (!resolved.ok() || resolved->leaf().cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      resolved->leaf().is_repeated()) {
    return std::nullopt;
  }
  return *std::move(resolved);
}

}  // namespace

absl::Status RouteTable::AddRule(const MethodDescriptor* method, const google::api::HttpRule& rule,
                                 std::size_t upstream, bool nested) {
  const std::string where = method->full_name();
  if (nested && rule.additional_bindings_size() > 0) {
    return absl::InvalidArgumentError(where + ": additional_bindings may not nest");
  }
  RouteTarget target;
  target.method = method;
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  target.request_prototype = factory->GetPrototype(method->input_type());
  target.response_prototype = factory->GetPrototype(method->output_type());
  target.grpc_path = "/" + method->service()->full_name() + "/" + method->name();
  target.upstream = upstream;
  if (auto status = RuleMethodAndPath(rule, target.http_method, target.path_template);
      !status.ok()) {
    return absl::InvalidArgumentError(where + ": " + std::string(status.message()));
  }
  target.body = rule.body();
  target.response_body = rule.response_body();
  if (!target.body.empty() && target.body != "*") {
    auto field = SingularMessagePath(*method->input_type(), target.body);
    if (!field) {
      return absl::InvalidArgumentError(where + ": body \"" + target.body +
                                        "\" must name a singular message field of the request");
    }
    target.body_field = *std::move(field);
  }
  if (!target.response_body.empty()) {
    auto field = SingularMessagePath(*method->output_type(), target.response_body);
    if (!field) {
      return absl::InvalidArgumentError(where + ": response_body \"" + target.response_body +
                                        "\" must name a singular message field of the response");
    }
    target.response_field = *std::move(field);
  }
  const auto& options = method->options();
  target.server_streaming = method->server_streaming();
  if (options.HasExtension(switchyard::api::v1::http_stream)) {
    if (!target.server_streaming) {
      return absl::InvalidArgumentError(where + ": http_stream is for server-streaming methods");
    }
    const auto& stream = options.GetExtension(switchyard::api::v1::http_stream);
    const auto resolve = [&](const Descriptor& type, const std::string& path, bool enum_allowed,
                             std::string_view what, FieldPath& out) -> absl::Status {
      if (path.empty()) return absl::OkStatus();
      auto field = FieldPath::Resolve(type, path);
      const bool ok = field.ok() && !field->leaf().is_repeated() &&
                      (field->leaf().cpp_type() == FieldDescriptor::CPPTYPE_STRING ||
                       (enum_allowed && field->leaf().cpp_type() == FieldDescriptor::CPPTYPE_ENUM));
      if (!ok) {
        return absl::InvalidArgumentError(where + ": http_stream " + std::string(what) + " \"" +
                                          path + "\" must name a singular string" +
                                          (enum_allowed ? " or enum" : "") + " field");
      }
      out = *std::move(field);
      return absl::OkStatus();
    };
    if (auto status = resolve(*method->output_type(), stream.position_field(), false,
                              "position_field", target.position_field);
        !status.ok()) {
      return status;
    }
    if (auto status = resolve(*method->output_type(), stream.event_field(), true, "event_field",
                              target.event_field);
        !status.ok()) {
      return status;
    }
    if (auto status = resolve(*method->input_type(), stream.resume_field(), false, "resume_field",
                              target.resume_field);
        !status.ok()) {
      return status;
    }
    target.shared_stream = stream.shared();
  }
  if (target.server_streaming && !target.response_body.empty()) {
    return absl::InvalidArgumentError(where + ": a streaming route cannot have a response_body");
  }
  if (options.HasExtension(switchyard::api::v1::http_response)) {
    const auto& response = options.GetExtension(switchyard::api::v1::http_response);
    if (response.success_status() != 0) {
      if (response.success_status() < 200 || response.success_status() > 299) {
        return absl::InvalidArgumentError(where + ": success_status must be a 2xx code");
      }
      target.success_status = static_cast<unsigned>(response.success_status());
    }
    target.location = response.location();
    auto location = LocationTemplate::Parse(target.location, *method->output_type());
    if (!location.ok()) {
      return absl::InvalidArgumentError(where + ": location \"" + target.location +
                                        "\": " + std::string(location.status().message()));
    }
    target.location_template = *std::move(location);
  }

  auto parsed = PathTemplate::Parse(target.path_template);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(where + ": path \"" + target.path_template +
                                      "\": " + std::string(parsed.status().message()));
  }
  for (const std::string& variable : parsed->variables()) {
    absl::StatusOr<FieldPath> field = FieldPath::Resolve(*method->input_type(), variable);
    if (!field.ok() || field->leaf().is_repeated() ||
        field->leaf().cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(where + ": path variable \"" + variable +
                                        "\" must name a singular scalar field of the request");
    }
    target.path_fields.push_back(*std::move(field));
  }
  std::vector<FieldPath> bound = target.path_fields;
  if (!target.body_field.empty()) bound.push_back(target.body_field);
  target.query = QueryBinder(*method->input_type(), std::move(bound), target.body == "*");
  routes_.push_back(std::move(target));
  const RouteTarget* stored = &routes_.back();
  if (auto status = router_.Add(stored->http_method, *std::move(parsed), stored); !status.ok()) {
    routes_.pop_back();
    return absl::InvalidArgumentError(where + ": " + std::string(status.message()));
  }
  for (const auto& binding : rule.additional_bindings()) {
    if (auto status = AddRule(method, binding, upstream, true); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RouteTable>> RouteTable::Build(
    const std::map<std::string, std::size_t>& services) {
  auto table = std::unique_ptr<RouteTable>(new RouteTable());
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& [name, upstream] : services) {
    const auto* service = pool->FindServiceByName(name);
    if (service == nullptr) {
      return absl::NotFoundError("service " + name + " is not linked into the gateway");
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      if (method->client_streaming()) {
        return absl::InvalidArgumentError(method->full_name() +
                                          ": client-streaming methods cannot have REST routes");
      }
      const auto& rule = method->options().GetExtension(google::api::http);
      if (auto status = table->AddRule(method, rule, upstream, false); !status.ok()) {
        return status;
      }
    }
  }
  return table;
}

absl::StatusOr<LocationTemplate> LocationTemplate::Parse(std::string_view text,
                                                         const Descriptor& response) {
  LocationTemplate result;
  while (!text.empty()) {
    const auto open = text.find('{');
    Part part;
    part.literal = std::string(text.substr(0, open));
    if (open == std::string_view::npos) {
      result.parts_.push_back(std::move(part));
      break;
    }
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) return absl::InvalidArgumentError("unclosed '{'");
    const std::string_view name = text.substr(open + 1, close - open - 1);
    absl::StatusOr<FieldPath> field = FieldPath::Resolve(response, name);
    if (!field.ok()) return field.status();
    const auto type = field->leaf().cpp_type();
    if (field->leaf().is_repeated() ||
        (type != FieldDescriptor::CPPTYPE_STRING && type != FieldDescriptor::CPPTYPE_INT64 &&
         type != FieldDescriptor::CPPTYPE_INT32)) {
      return absl::InvalidArgumentError("field \"" + std::string(name) +
                                        "\" must be a singular string or signed integer");
    }
    part.field = *std::move(field);
    result.parts_.push_back(std::move(part));
    text.remove_prefix(close + 1);
  }
  return result;
}

std::string LocationTemplate::Expand(const Message& response) const {
  std::string out;
  for (const Part& part : parts_) {
    out += part.literal;
    if (part.field.empty()) continue;
    const auto fields = part.field.fields();
    const Message& holder = WalkFields(response, fields.first(fields.size() - 1));
    const auto& reflection = *holder.GetReflection();
    const FieldDescriptor* leaf = &part.field.leaf();
    switch (leaf->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        out += reflection.GetString(holder, leaf);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        out += std::to_string(reflection.GetInt64(holder, leaf));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        out += std::to_string(reflection.GetInt32(holder, leaf));
        break;
      default:
        break;  // Parse admits no other type
    }
  }
  return out;
}

}  // namespace switchyard::gateway
