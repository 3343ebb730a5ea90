#include "gateway/routing/route_table.hpp"

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

// The field a dotted path names in `type`, or nullptr.
const FieldDescriptor* FindFieldPath(const Descriptor* type, std::string_view path) {
  const FieldDescriptor* field = nullptr;
  while (type != nullptr) {
    const auto dot = path.find('.');
    const std::string name(path.substr(0, dot));
    field = type->FindFieldByName(name);
    if (field == nullptr) return nullptr;
    if (dot == std::string_view::npos) return field;
    if (field->type() != FieldDescriptor::TYPE_MESSAGE || field->is_repeated()) return nullptr;
    type = field->message_type();
    path.remove_prefix(dot + 1);
  }
  return nullptr;
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
    const FieldDescriptor* field = FindFieldPath(method->input_type(), target.body);
    if (field == nullptr || field->type() != FieldDescriptor::TYPE_MESSAGE ||
        field->is_repeated()) {
      return absl::InvalidArgumentError(where + ": body \"" + target.body +
                                        "\" must name a singular message field of the request");
    }
  }
  if (!target.response_body.empty()) {
    const FieldDescriptor* field = FindFieldPath(method->output_type(), target.response_body);
    if (field == nullptr || field->type() != FieldDescriptor::TYPE_MESSAGE ||
        field->is_repeated()) {
      return absl::InvalidArgumentError(where + ": response_body \"" + target.response_body +
                                        "\" must name a singular message field of the response");
    }
  }
  const auto& options = method->options();
  if (options.HasExtension(switchyard::api::v1::http_response)) {
    const auto& response = options.GetExtension(switchyard::api::v1::http_response);
    if (response.success_status() != 0) {
      if (response.success_status() < 200 || response.success_status() > 299) {
        return absl::InvalidArgumentError(where + ": success_status must be a 2xx code");
      }
      target.success_status = static_cast<unsigned>(response.success_status());
    }
    target.location = response.location();
  }

  auto parsed = PathTemplate::Parse(target.path_template);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(where + ": path \"" + target.path_template +
                                      "\": " + std::string(parsed.status().message()));
  }
  for (const std::string& variable : parsed->variables()) {
    const FieldDescriptor* field = FindFieldPath(method->input_type(), variable);
    if (field == nullptr || field->is_repeated() ||
        field->type() == FieldDescriptor::TYPE_MESSAGE) {
      return absl::InvalidArgumentError(where + ": path variable \"" + variable +
                                        "\" must name a singular scalar field of the request");
    }
    target.path_fields.push_back(variable);
  }
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
      if (method->client_streaming() || method->server_streaming()) {
        return absl::InvalidArgumentError(method->full_name() +
                                          ": streaming methods cannot have REST routes");
      }
      const auto& rule = method->options().GetExtension(google::api::http);
      if (auto status = table->AddRule(method, rule, upstream, false); !status.ok()) {
        return status;
      }
    }
  }
  return table;
}

std::string ExpandLocation(std::string_view location, const google::protobuf::Message& message) {
  std::string out;
  out.reserve(location.size() + 40);
  while (!location.empty()) {
    const auto open = location.find('{');
    if (open == std::string_view::npos) {
      out.append(location);
      break;
    }
    out.append(location.substr(0, open));
    const auto close = location.find('}', open);
    if (close == std::string_view::npos) break;
    std::string_view path = location.substr(open + 1, close - open - 1);
    location.remove_prefix(close + 1);
    const Message* current = &message;
    while (current != nullptr) {
      const auto dot = path.find('.');
      const FieldDescriptor* field =
          current->GetDescriptor()->FindFieldByName(std::string(path.substr(0, dot)));
      if (field == nullptr || field->is_repeated()) break;
      const auto* reflection = current->GetReflection();
      if (dot == std::string_view::npos) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          out += reflection->GetString(*current, field);
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
          out += std::to_string(reflection->GetInt64(*current, field));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          out += std::to_string(reflection->GetInt32(*current, field));
        }
        break;
      }
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) break;
      current = &reflection->GetMessage(*current, field);
      path.remove_prefix(dot + 1);
    }
  }
  return out;
}

}  // namespace switchyard::gateway
