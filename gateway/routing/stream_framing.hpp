#pragma once

// How a streaming route frames its messages: Server-Sent Events for clients that accept
// text/event-stream, else newline-delimited JSON. Pure functions; the relay is StreamRelay.
//
//   SSE      id: <position>           the message's resume position (when the route has one)
//            event: <kind>            the message's kind ("message" when the route names none)
//            data: <message as JSON>  one line: the JSON printer never emits a raw newline
//            <blank line>
//            ": keepalive" comments while idle; an error as `event: error` with google.rpc.Status.
//   NDJSON   one JSON message per line; an error as {"error": <google.rpc.Status>}.

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "gateway/routing/field_binding.hpp"

namespace switchyard::gateway {

enum class StreamFormat { kSse, kNdjson };

// SSE when `accept` lists text/event-stream (with any parameters), else NDJSON.
StreamFormat NegotiateStreamFormat(std::string_view accept);

std::string_view StreamContentType(StreamFormat format);

// The value of `path` (a singular string field) in `message`; empty for an empty path.
std::string StringAt(const google::protobuf::Message& message, const FieldPath& path);

// The event name of `message`: the enum value at `path` without its enum's prefix, in lower case
// (DATA_CHANGE_KIND_PUT of DataChangeKind: "put"), or the string at `path`; "message" when the
// path is empty or the value is.
std::string EventName(const google::protobuf::Message& message, const FieldPath& path);

// One SSE event. `id` is left out when empty; `data` must hold no line break.
std::string SseEvent(std::string_view id, std::string_view event, std::string_view data);
inline constexpr std::string_view kSseKeepalive = ": keepalive\n\n";

// A message line, or an error line around a google.rpc.Status JSON body, in `format`.
std::string MessageFrame(StreamFormat format, std::string_view id, std::string_view event,
                         std::string_view json);
std::string ErrorFrame(StreamFormat format, std::string_view status_json);

}  // namespace switchyard::gateway
