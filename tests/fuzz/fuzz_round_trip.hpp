#pragma once

// The JSON round trip both the query and the JSON fuzz targets check on a message they built:
// PrintJson succeeds, ParseJsonBody takes the printed text back, the result is the same message
// (compared by deterministic serialization, so NaN equals NaN), and printing it again gives the
// same text. Both name styles are checked.

#include <memory>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include "gateway/json/json_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace switchyard::fuzz {

inline std::string Deterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializePartialToCodedStream(&coded);
  }
  return bytes;
}

inline void CheckJsonRoundTrip(const google::protobuf::Message& message) {
  const std::string expected_bytes = Deterministic(message);
  for (const bool camel : {false, true}) {
    std::string printed;
    const absl::Status print_status =
        gateway::PrintJson(message, gateway::JsonOutputOptions{camel}, printed);
    FUZZ_CHECK(print_status.ok(), "PrintJson failed: %s\nmessage: %s",
               std::string(print_status.message()).c_str(), message.ShortDebugString().c_str());

    std::unique_ptr<google::protobuf::Message> back(message.New());
    const absl::Status parse_status = gateway::ParseJsonBody(printed, *back);
    FUZZ_CHECK(parse_status.ok(), "printed JSON does not parse back: %s\njson: %s",
               std::string(parse_status.message()).c_str(), printed.c_str());
    const std::string back_bytes = Deterministic(*back);
    FUZZ_CHECK(back_bytes == expected_bytes,
               "round trip changed the message\nbefore: %s\nafter: %s",
               message.ShortDebugString().c_str(), back->ShortDebugString().c_str());

    std::string reprinted;
    FUZZ_CHECK(gateway::PrintJson(*back, gateway::JsonOutputOptions{camel}, reprinted).ok(),
               "second print failed");
    FUZZ_CHECK(reprinted == printed, "printing is not stable\nfirst: %s\nsecond: %s",
               printed.c_str(), reprinted.c_str());
  }
}

}  // namespace switchyard::fuzz
