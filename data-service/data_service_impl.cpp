#include "data-service/data_service_impl.hpp"

#include <optional>
#include <string>

#include <google/protobuf/util/time_util.h>

#include "data-service/data_validation.hpp"

namespace switchyard::data {

using google::protobuf::util::TimeUtil;

void ToProto(const DataRecord& record, v1::DataItem& item) {
  item.set_key(record.key);
  item.set_value(record.value);
  item.set_version(record.version);
  *item.mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(record.updated_at_us);
}

absl::Status VersionMismatch(std::string_view key, std::int64_t expected, std::int64_t current) {
  const std::string quoted = "'" + std::string(key) + "'";
  if (expected == 0) {
    return absl::FailedPreconditionError("expected_version: key " + quoted +
                                         " already exists (version " + std::to_string(current) +
                                         "); 0 means it must not exist");
  }
  if (current == 0) {
    return absl::FailedPreconditionError("expected_version: key " + quoted +
                                         " does not exist (expected version " +
                                         std::to_string(expected) + ")");
  }
  return absl::FailedPreconditionError("expected_version: key " + quoted + " is at version " +
                                       std::to_string(current) + ", not " +
                                       std::to_string(expected));
}

DataServiceImpl::DataServiceImpl(DataStore& store) : store_(store) {}

boost::asio::awaitable<absl::Status> DataServiceImpl::PutData(CallContext call,
                                                              const v1::PutDataRequest& request,
                                                              v1::PutDataResponse& response) {
  if (auto status = ValidateKey(request.key()); !status.ok()) co_return status;
  if (auto status = ValidateValue(request.value()); !status.ok()) co_return status;
  std::optional<std::int64_t> expected;
  if (request.has_expected_version()) {
    if (auto status = ValidateExpectedVersion(request.expected_version()); !status.ok()) {
      co_return status;
    }
    expected = request.expected_version();
  }

  auto result = co_await store_.Put(request.key(), request.value(), expected, call.deadline);
  if (!result.ok()) co_return result.status();
  if (result->outcome == WriteResult::Outcome::kVersionMismatch) {
    co_return VersionMismatch(request.key(), expected.value_or(0), result->current_version);
  }
  ToProto(result->record, *response.mutable_item());
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DataServiceImpl::GetData(CallContext call,
                                                              const v1::GetDataRequest& request,
                                                              v1::GetDataResponse& response) {
  if (auto status = ValidateKey(request.key()); !status.ok()) co_return status;
  auto record = co_await store_.Get(request.key(), call.deadline);
  if (!record.ok()) co_return record.status();
  ToProto(*record, *response.mutable_item());
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DataServiceImpl::ListData(CallContext call,
                                                               const v1::ListDataRequest& request,
                                                               v1::ListDataResponse& response) {
  if (auto status = ValidatePrefix(request.prefix()); !status.ok()) co_return status;
  auto page_size = NormalizePageSize(request.page_size());
  if (!page_size.ok()) co_return page_size.status();
  auto after = DecodeDataPageToken(request.page_token(), request.prefix());
  if (!after.ok()) co_return after.status();

  auto page = co_await store_.List(request.prefix(), *std::move(after), *page_size, call.deadline);
  if (!page.ok()) co_return page.status();
  response.mutable_items()->Reserve(static_cast<int>(page->items.size()));
  for (const DataRecord& record : page->items) ToProto(record, *response.add_items());
  if (page->more && !page->items.empty()) {
    response.set_next_page_token(EncodeDataPageToken(page->items.back().key));
  }
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DataServiceImpl::DeleteData(
    CallContext call, const v1::DeleteDataRequest& request, v1::DeleteDataResponse& /*response*/) {
  if (auto status = ValidateKey(request.key()); !status.ok()) co_return status;
  std::optional<std::int64_t> expected;
  if (request.has_expected_version()) {
    if (auto status = ValidateExpectedVersion(request.expected_version()); !status.ok()) {
      co_return status;
    }
    expected = request.expected_version();
  }

  auto result = co_await store_.Delete(request.key(), expected, call.deadline);
  if (!result.ok()) co_return result.status();
  switch (result->outcome) {
    case WriteResult::Outcome::kNotFound:
      co_return absl::NotFoundError("key '" + request.key() + "' not found");
    case WriteResult::Outcome::kVersionMismatch:
      co_return VersionMismatch(request.key(), expected.value_or(0), result->current_version);
    case WriteResult::Outcome::kApplied:
      break;
  }
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DataServiceImpl::GetTime(CallContext call,
                                                              const v1::GetTimeRequest& /*request*/,
                                                              v1::GetTimeResponse& response) {
  auto now = co_await store_.Now(call.deadline);
  if (!now.ok()) co_return now.status();
  *response.mutable_time() = TimeUtil::MicrosecondsToTimestamp(*now);
  co_return absl::OkStatus();
}

}  // namespace switchyard::data
