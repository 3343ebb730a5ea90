#include "data-service/struct_json.hpp"

#include <google/protobuf/util/json_util.h>

namespace switchyard::data {

std::string StructToJson(const google::protobuf::Struct& value) {
  std::string json;
  // A Struct always prints: every value it can hold has a JSON form.
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) return "{}";
  return json;
}

absl::StatusOr<google::protobuf::Struct> JsonToStruct(std::string_view json) {
  google::protobuf::Struct value;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!status.ok()) {
    const auto message = status.message();
    return absl::InvalidArgumentError("not a JSON object: " +
                                      std::string(message.data(), message.size()));
  }
  return value;
}

}  // namespace switchyard::data
