// DataServiceImpl's rules against a hand-written in-memory store: no Redis, no gRPC.

#include "data-service/data_service_impl.hpp"

#include <map>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "data-service/data_validation.hpp"

namespace switchyard::data {
namespace {

class FakeDataStore final : public DataStore {
 public:
  boost::asio::awaitable<absl::StatusOr<WriteResult>> Put(std::string key, std::string value,
                                                          std::optional<std::int64_t> expected,
                                                          Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    DataRecord& item = items_[key];
    WriteResult result;
    result.current_version = item.version;
    if (expected && *expected != item.version) {
      if (item.version == 0) items_.erase(key);
      result.outcome = WriteResult::Outcome::kVersionMismatch;
      co_return result;
    }
    item.key = key;
    item.value = std::move(value);
    ++item.version;
    item.updated_at_us = now_us;
    result.record = item;
    co_return result;
  }
  boost::asio::awaitable<absl::StatusOr<DataRecord>> Get(std::string key, Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    const auto it = items_.find(key);
    if (it == items_.end()) co_return absl::NotFoundError("no key");
    co_return it->second;
  }
  boost::asio::awaitable<absl::StatusOr<DataPage>> List(std::string prefix, std::string after,
                                                        std::int32_t limit, Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    last_prefix = prefix;
    last_after = after;
    last_limit = limit;
    DataPage page;
    for (auto it = items_.upper_bound(after); it != items_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) continue;
      if (page.items.size() == static_cast<std::size_t>(limit)) {
        page.more = true;
        break;
      }
      page.items.push_back(it->second);
    }
    co_return page;
  }
  boost::asio::awaitable<absl::StatusOr<WriteResult>> Delete(std::string key,
                                                             std::optional<std::int64_t> expected,
                                                             Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    WriteResult result;
    const auto it = items_.find(key);
    if (it == items_.end()) {
      result.outcome = WriteResult::Outcome::kNotFound;
      co_return result;
    }
    result.current_version = it->second.version;
    if (expected && *expected != it->second.version) {
      result.outcome = WriteResult::Outcome::kVersionMismatch;
      co_return result;
    }
    items_.erase(it);
    co_return result;
  }
  boost::asio::awaitable<absl::StatusOr<DataRecord>> Copy(std::string, std::string,
                                                          Deadline) override {
    co_return absl::UnimplementedError("not used here");
  }
  boost::asio::awaitable<absl::StatusOr<std::int64_t>> Now(Deadline) override {
    ++calls;
    if (fail_with) co_return *fail_with;
    co_return now_us;
  }

  std::optional<absl::Status> fail_with;
  std::int64_t now_us = 1'700'000'000'123'456;
  int calls = 0;
  std::string last_prefix;
  std::string last_after;
  std::int32_t last_limit = -1;

 private:
  std::map<std::string, DataRecord> items_;
};

class DataServiceImplTest : public ::testing::Test {
 protected:
  template <class Request, class Response>
  absl::Status Call(boost::asio::awaitable<absl::Status> (DataServiceImpl::*method)(CallContext,
                                                                                    const Request&,
                                                                                    Response&),
                    const Request& request, Response& response) {
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(
        io, (impl_.*method)(CallContext{"rid", Deadline::max()}, request, response),
        boost::asio::use_future);
    io.run();
    return future.get();
  }

  absl::Status Put(const std::string& key, const std::string& value,
                   std::optional<std::int64_t> expected = std::nullopt,
                   v1::DataItem* out = nullptr) {
    v1::PutDataRequest request;
    request.set_key(key);
    request.set_value(value);
    if (expected) request.set_expected_version(*expected);
    v1::PutDataResponse response;
    const absl::Status status = Call(&DataServiceImpl::PutData, request, response);
    if (out) *out = response.item();
    return status;
  }

  absl::Status Delete(const std::string& key, std::optional<std::int64_t> expected = std::nullopt) {
    v1::DeleteDataRequest request;
    request.set_key(key);
    if (expected) request.set_expected_version(*expected);
    v1::DeleteDataResponse response;
    return Call(&DataServiceImpl::DeleteData, request, response);
  }

  FakeDataStore store_;
  DataServiceImpl impl_{store_};
};

TEST_F(DataServiceImplTest, PutReturnsTheItemWithVersionAndTimestamp) {
  v1::DataItem item;
  ASSERT_TRUE(Put("reports/users", "{}", std::nullopt, &item).ok());
  EXPECT_EQ(item.key(), "reports/users");
  EXPECT_EQ(item.value(), "{}");
  EXPECT_EQ(item.version(), 1);
  EXPECT_EQ(item.updated_at().seconds(), 1'700'000'000);
  EXPECT_EQ(item.updated_at().nanos(), 123'456'000);
  ASSERT_TRUE(Put("reports/users", "{\"a\":1}", std::nullopt, &item).ok());
  EXPECT_EQ(item.version(), 2);
}

TEST_F(DataServiceImplTest, VersionMismatchIsFailedPreconditionNamingTheVersions) {
  ASSERT_TRUE(Put("k", "v1").ok());
  struct Case {
    std::string key;
    std::int64_t expected;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"k", 0, "already exists (version 1)"},
      {"k", 5, "is at version 1, not 5"},
      {"missing", 3, "does not exist"},
  };
  for (const auto& c : cases) {
    const absl::Status status = Put(c.key, "new", c.expected);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << c.key << " " << c.expected;
    EXPECT_EQ(status.message().substr(0, 18), "expected_version: ") << status;
    EXPECT_NE(status.message().find(c.message_part), std::string_view::npos) << status;
  }
  v1::DataItem item;
  ASSERT_TRUE(Put("k", "v2", 1, &item).ok());
  EXPECT_EQ(item.version(), 2);
  ASSERT_TRUE(Put("fresh", "v", 0, &item).ok());
  EXPECT_EQ(item.version(), 1);
}

TEST_F(DataServiceImplTest, InvalidFieldsNeverReachTheStore) {
  struct Case {
    std::string key;
    std::string value;
    std::optional<std::int64_t> expected;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", "v", std::nullopt, "key: "},
      {"bad key", "v", std::nullopt, "key: "},
      {"k", std::string(65537, 'x'), std::nullopt, "value: "},
      {"k", "\xFF", std::nullopt, "value: "},
      {"k", "v", -1, "expected_version: "},
  };
  for (const auto& c : cases) {
    const absl::Status status = Put(c.key, c.value, c.expected);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(status.message().substr(0, c.field.size()), c.field) << status;
  }
  EXPECT_EQ(store_.calls, 0);
}

TEST_F(DataServiceImplTest, GetOfAMissingKeyIsNotFound) {
  v1::GetDataRequest request;
  request.set_key("nope");
  v1::GetDataResponse response;
  EXPECT_EQ(Call(&DataServiceImpl::GetData, request, response).code(), absl::StatusCode::kNotFound);
  request.set_key("");
  EXPECT_EQ(Call(&DataServiceImpl::GetData, request, response).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DataServiceImplTest, DeleteMapsNotFoundAndVersionMismatch) {
  EXPECT_EQ(Delete("missing").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Put("k", "v").ok());
  EXPECT_EQ(Delete("k", 0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Delete("k", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Delete("k", 1).ok());
  EXPECT_EQ(Delete("k").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Delete("bad key").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DataServiceImplTest, ListPassesPrefixCursorAndSizeAndTokensOnlyWhenMoreFollow) {
  for (const std::string& key : std::vector<std::string>{"a/1", "a/2", "a/3", "b/1"})
    ASSERT_TRUE(Put(key, "v").ok());
  v1::ListDataRequest request;
  request.set_prefix("a/");
  request.set_page_size(2);
  v1::ListDataResponse first;
  ASSERT_TRUE(Call(&DataServiceImpl::ListData, request, first).ok());
  EXPECT_EQ(store_.last_prefix, "a/");
  EXPECT_EQ(store_.last_after, "");
  EXPECT_EQ(store_.last_limit, 2);
  ASSERT_EQ(first.items_size(), 2);
  EXPECT_EQ(first.items(1).key(), "a/2");
  ASSERT_FALSE(first.next_page_token().empty());

  request.set_page_token(first.next_page_token());
  v1::ListDataResponse second;
  ASSERT_TRUE(Call(&DataServiceImpl::ListData, request, second).ok());
  EXPECT_EQ(store_.last_after, "a/2");
  ASSERT_EQ(second.items_size(), 1);
  EXPECT_EQ(second.items(0).key(), "a/3");
  EXPECT_TRUE(second.next_page_token().empty());

  // The default size, and a token used with another prefix.
  v1::ListDataRequest defaults;
  v1::ListDataResponse all;
  ASSERT_TRUE(Call(&DataServiceImpl::ListData, defaults, all).ok());
  EXPECT_EQ(store_.last_limit, kDefaultPageSize);
  defaults.set_prefix("b/");
  defaults.set_page_token(first.next_page_token());
  const absl::Status foreign = Call(&DataServiceImpl::ListData, defaults, all);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(foreign.message().substr(0, 12), "page_token: ");
}

TEST_F(DataServiceImplTest, GetTimeConvertsTheStoreClock) {
  store_.now_us = 1'234'567'890'000'001;
  v1::GetTimeResponse response;
  ASSERT_TRUE(Call(&DataServiceImpl::GetTime, v1::GetTimeRequest(), response).ok());
  EXPECT_EQ(response.time().seconds(), 1'234'567'890);
  EXPECT_EQ(response.time().nanos(), 1'000);
}

TEST_F(DataServiceImplTest, StoreErrorsPassThroughWithTheirCode) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(Put("k", "v").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Delete("k").code(), absl::StatusCode::kUnavailable);
  v1::GetTimeResponse response;
  EXPECT_EQ(Call(&DataServiceImpl::GetTime, v1::GetTimeRequest(), response).code(),
            absl::StatusCode::kUnavailable);
}

TEST(ToProtoTest, UpdatedAtBeforeTheEpochHasNonNegativeNanos) {
  DataRecord record;
  record.key = "k";
  record.updated_at_us = -1;
  v1::DataItem item;
  ToProto(record, item);
  EXPECT_EQ(item.updated_at().seconds(), -1);
  EXPECT_EQ(item.updated_at().nanos(), 999'999'000);
}

}  // namespace
}  // namespace switchyard::data
