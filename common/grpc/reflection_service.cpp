#include "common/grpc/reflection_service.hpp"

#include <unordered_set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "common/grpc/grpc_stream.hpp"

namespace switchyard {

namespace {

namespace v1 = grpc::reflection::v1;
namespace v1alpha = grpc::reflection::v1alpha;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

void SetError(v1::ServerReflectionResponse& response, grpc::StatusCode code, std::string message) {
  auto* error = response.mutable_error_response();
  error->set_error_code(static_cast<std::int32_t>(code));
  error->set_error_message(std::move(message));
}

// `file` and, after it, every file it depends on (directly or not), each once.
void AddFileWithDependencies(const FileDescriptor* file, v1::FileDescriptorResponse& out) {
  std::unordered_set<const FileDescriptor*> seen{file};
  std::vector<const FileDescriptor*> order{file};
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (int d = 0; d < order[i]->dependency_count(); ++d) {
      const FileDescriptor* dependency = order[i]->dependency(d);
      if (seen.insert(dependency).second) order.push_back(dependency);
    }
  }
  for (const FileDescriptor* each : order) {
    google::protobuf::FileDescriptorProto proto;
    each->CopyTo(&proto);
    proto.SerializeToString(out.add_file_descriptor_proto());
  }
}

// Runs one reflection stream: each request read gets its answer, until the client closes.
template <class Request, class Response>
boost::asio::awaitable<grpc::Status> Converse(const ReflectionService& reflection, auto& stream) {
  Request request;
  while (co_await stream.Read(request)) {
    Response response;
    if constexpr (std::is_same_v<Request, v1::ServerReflectionRequest>) {
      response = reflection.Answer(request);
    } else {
      // v1alpha and v1 share every field number: convert through the wire format.
      v1::ServerReflectionRequest as_v1;
      as_v1.ParseFromString(request.SerializeAsString());
      response.ParseFromString(reflection.Answer(as_v1).SerializeAsString());
    }
    if (!co_await stream.Write(response)) co_return grpc::Status::CANCELLED;
  }
  co_return grpc::Status::OK;
}

}  // namespace

ReflectionService::ReflectionService(std::vector<std::string> services)
    : services_(std::move(services)) {
  services_.emplace_back("grpc.reflection.v1.ServerReflection");
  services_.emplace_back("grpc.reflection.v1alpha.ServerReflection");
}

void ReflectionService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&v1_);
  builder.RegisterService(&v1alpha_);
}

v1::ServerReflectionResponse ReflectionService::Answer(
    const v1::ServerReflectionRequest& request) const {
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  v1::ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  const auto found = [&](const FileDescriptor* file, const std::string& what) {
    if (file == nullptr) {
      SetError(response, grpc::StatusCode::NOT_FOUND, what + " not found");
    } else {
      AddFileWithDependencies(file, *response.mutable_file_descriptor_response());
    }
  };
  switch (request.message_request_case()) {
    case v1::ServerReflectionRequest::kFileByFilename:
      found(pool.FindFileByName(request.file_by_filename()),
            "file '" + request.file_by_filename() + "'");
      break;
    case v1::ServerReflectionRequest::kFileContainingSymbol:
      found(pool.FindFileContainingSymbol(request.file_containing_symbol()),
            "symbol '" + request.file_containing_symbol() + "'");
      break;
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const auto& asked = request.file_containing_extension();
      const auto* type = pool.FindMessageTypeByName(asked.containing_type());
      const auto* extension =
          type == nullptr ? nullptr : pool.FindExtensionByNumber(type, asked.extension_number());
      found(extension == nullptr ? nullptr : extension->file(),
            "extension " + std::to_string(asked.extension_number()) + " of '" +
                asked.containing_type() + "'");
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(response, grpc::StatusCode::NOT_FOUND,
                 "type '" + request.all_extension_numbers_of_type() + "' not found");
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool.FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* extension : extensions) numbers->add_extension_number(extension->number());
      break;
    }
    case v1::ServerReflectionRequest::kListServices:
      for (const auto& name : services_) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case v1::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(response, grpc::StatusCode::INVALID_ARGUMENT,
               "the request asks for nothing (no message_request field set)");
      break;
  }
  return response;
}

absl::Status ReflectionService::Serve(rpc::Runtime& runtime, Logger& logger) {
  auto v1 = rpc::Register(
      v1_, &v1::ServerReflection::AsyncService::RequestServerReflectionInfo,
      [this](rpc::RpcContext&, auto& stream) {
        return Converse<v1::ServerReflectionRequest, v1::ServerReflectionResponse>(*this, stream);
      },
      logger);
  if (auto status = rpc::Serve(runtime, std::move(v1)); !status.ok()) return status;
  auto v1alpha = rpc::Register(
      v1alpha_, &v1alpha::ServerReflection::AsyncService::RequestServerReflectionInfo,
      [this](rpc::RpcContext&, auto& stream) {
        return Converse<v1alpha::ServerReflectionRequest, v1alpha::ServerReflectionResponse>(
            *this, stream);
      },
      logger);
  return rpc::Serve(runtime, std::move(v1alpha));
}

}  // namespace switchyard
