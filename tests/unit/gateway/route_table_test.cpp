#include "gateway/routing/route_table.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "switchyard/test/v1/echo_service.pb.h"
#include "switchyard/user/v1/user_service.pb.h"

namespace switchyard::gateway {
namespace {

using ::switchyard::test::v1::EchoRequest;
using ::switchyard::test::v1::EchoResponse;
using ::switchyard::user::v1::CreateUserResponse;
using ::testing::HasSubstr;

// --- LocationTemplate ----------------------------------------------------------------------------

TEST(LocationTemplateTest, ExpandsResolvedFieldsOfTheResponse) {
  const auto location =
      LocationTemplate::Parse("/api/users/{user.id}", *CreateUserResponse::descriptor());
  ASSERT_TRUE(location.ok()) << location.status();
  CreateUserResponse response;
  response.mutable_user()->set_id("u-1");
  EXPECT_EQ(location->Expand(response), "/api/users/u-1");
  EXPECT_EQ(location->Expand(CreateUserResponse()), "/api/users/");  // unset: empty

  const auto several = LocationTemplate::Parse("/v1/{request.nested.id}/n/{payload.count}:x",
                                               *EchoResponse::descriptor());
  ASSERT_TRUE(several.ok()) << several.status();
  EchoResponse echo;
  echo.mutable_request()->mutable_nested()->set_id("a");
  echo.mutable_payload()->set_count(-3);
  EXPECT_EQ(several->Expand(echo), "/v1/a/n/-3:x");
  EXPECT_TRUE(LocationTemplate().empty());
}

TEST(LocationTemplateTest, RejectsFieldsItCannotFillAtStartUp) {
  const auto& type = *EchoResponse::descriptor();
  EXPECT_EQ(LocationTemplate::Parse("/x/{request.nope}", type).status().message(),
            "unknown field \"request.nope\"");
  EXPECT_THAT(LocationTemplate::Parse("/x/{request.single_double}", type).status().message(),
              HasSubstr("must be a singular string or signed integer"));
  EXPECT_THAT(LocationTemplate::Parse("/x/{request.repeated_string}", type).status().message(),
              HasSubstr("must be a singular string or signed integer"));
  EXPECT_THAT(LocationTemplate::Parse("/x/{request.nested}", type).status().message(),
              HasSubstr("must be a singular string or signed integer"));
  EXPECT_EQ(LocationTemplate::Parse("/x/{request.nested.id", type).status().message(),
            "unclosed '{'");
}

// --- RouteTable: what a route resolves at start-up --------------------------------------------

const RouteTable& Routes() {
  static const std::unique_ptr<RouteTable> table = [] {
    (void)EchoRequest::descriptor();  // keeps the test contract's descriptors linked in
    (void)CreateUserResponse::descriptor();
    auto built = RouteTable::Build(
        {{"switchyard.user.v1.UserService", 0}, {"switchyard.test.v1.EchoService", 1}});
    EXPECT_TRUE(built.ok()) << built.status();
    return built.ok() ? *std::move(built) : nullptr;
  }();
  return *table;
}

const RouteTarget& Route(std::string_view method, std::string_view path_template) {
  for (const RouteTarget& route : Routes().routes()) {
    if (route.http_method == method && route.path_template == path_template) return route;
  }
  ADD_FAILURE() << "no route " << method << " " << path_template;
  return Routes().routes().front();
}

TEST(RouteTableTest, RoutesHoldTheirFieldPathsResolved) {
  const RouteTarget& create = Route("POST", "/api/users");
  EXPECT_TRUE(create.path_fields.empty());
  EXPECT_TRUE(create.body_field.empty());  // body "*": the whole request
  EXPECT_EQ(create.response_field.canonical(), "user");
  EXPECT_FALSE(create.location_template.empty());

  const RouteTarget& purge = Route("DELETE", "/v1/echo/{nested.inner.id}/all");
  ASSERT_EQ(purge.path_fields.size(), 1u);
  EXPECT_EQ(purge.path_fields[0].leaf().full_name(), "switchyard.test.v1.Inner.id");

  const RouteTarget& payload = Route("PUT", "/v1/echo/{nested.id}/payload");
  EXPECT_EQ(payload.body_field.leaf().full_name(), "switchyard.test.v1.EchoRequest.payload");
  EchoRequest request;
  // The query binder knows the path and body fields: neither may be set twice.
  EXPECT_THAT(payload.query.Bind(request, "payload.text=x").message(),
              HasSubstr("conflicts with field \"payload\""));
  EXPECT_THAT(payload.query.Bind(request, "nestedId=1").message(), HasSubstr("unknown"));
  EXPECT_THAT(payload.query.Bind(request, "nested.id=1").message(),
              HasSubstr("conflicts with field \"nested.id\""));
  ASSERT_TRUE(payload.query.Bind(request, "single_int32=4").ok());
  EXPECT_EQ(request.single_int32(), 4);

  const RouteTarget& echo = Route("POST", "/v1/echo/{nested.id}");
  EXPECT_EQ(echo.query.Bind(request, "color=1").message(),
            "query parameter \"color\" is not allowed: the request body sets every field");
}

}  // namespace
}  // namespace switchyard::gateway
