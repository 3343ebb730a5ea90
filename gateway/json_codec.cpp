#include "gateway/json_codec.hpp"

#include <google/protobuf/util/json_util.h>

namespace switchyard::gateway {

absl::Status ParseJsonBody(std::string_view json, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (status.ok()) return absl::OkStatus();
  const auto text = status.message();
  return absl::InvalidArgumentError("invalid JSON body: " + std::string(text.data(), text.size()));
}

absl::Status PrintJson(const google::protobuf::Message& message, const JsonOutputOptions& options,
                       std::string& out) {
  google::protobuf::util::JsonPrintOptions print_options;
  print_options.preserve_proto_field_names = !options.camel_case;
  print_options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, print_options).ok()) {
    return absl::InternalError("response cannot be printed as JSON");
  }
  return absl::OkStatus();
}

}  // namespace switchyard::gateway
