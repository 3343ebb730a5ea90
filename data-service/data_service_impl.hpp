#pragma once

// The business rules of DataService, free of transport: validate, call the store, build the
// response. The gRPC adapter (DataServiceApp) only translates statuses.

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include <boost/asio/awaitable.hpp>

#include "common/service/call_context.hpp"
#include "data-service/data_store.hpp"
#include "switchyard/data/v1/data_service.pb.h"

namespace switchyard::data {

namespace v1 = ::switchyard::data::v1;

class DataServiceImpl {
 public:
  explicit DataServiceImpl(DataStore& store);

  boost::asio::awaitable<absl::Status> PutData(CallContext call, const v1::PutDataRequest& request,
                                               v1::PutDataResponse& response);
  boost::asio::awaitable<absl::Status> GetData(CallContext call, const v1::GetDataRequest& request,
                                               v1::GetDataResponse& response);
  boost::asio::awaitable<absl::Status> ListData(CallContext call,
                                                const v1::ListDataRequest& request,
                                                v1::ListDataResponse& response);
  boost::asio::awaitable<absl::Status> DeleteData(CallContext call,
                                                  const v1::DeleteDataRequest& request,
                                                  v1::DeleteDataResponse& response);
  boost::asio::awaitable<absl::Status> GetTime(CallContext call, const v1::GetTimeRequest& request,
                                               v1::GetTimeResponse& response);

 private:
  DataStore& store_;
};

void ToProto(const DataRecord& record, v1::DataItem& item);

// FAILED_PRECONDITION naming the versions, for a conditional write or delete that did not match.
absl::Status VersionMismatch(std::string_view key, std::int64_t expected, std::int64_t current);

}  // namespace switchyard::data
