// Fuzz target: PathTemplate::Parse on the first line, then Match of the rest as a raw request
// path, plus the percent-decoder on the path.
//
// Invariants: nothing crashes; a template that parses re-parses from its own text to an
// equivalent template; a match binds exactly one value per variable, in template order; a failed
// match leaves the bindings alone; a path with malformed percent-encoding never matches; the
// decoder fails exactly on malformed encodings.

#include <string>

#include "gateway/routing/path_template.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using switchyard::gateway::Bindings;
using switchyard::gateway::IsValidPercentEncoding;
using switchyard::gateway::PathTemplate;
using switchyard::gateway::PercentDecode;
using switchyard::gateway::PercentDecodeMode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = switchyard::fuzz::AsText(data, size);
  const std::string_view template_text = switchyard::fuzz::TakeLine(input);
  const std::string_view path = input;

  const bool valid_encoding = IsValidPercentEncoding(path);
  for (const auto mode :
       {PercentDecodeMode::kAll, PercentDecodeMode::kKeepEncodedSlash, PercentDecodeMode::kForm}) {
    const auto decoded = PercentDecode(path, mode);
    FUZZ_CHECK(decoded.has_value() == valid_encoding, "path: %.*s", static_cast<int>(path.size()),
               path.data());
    if (decoded) FUZZ_CHECK(decoded->size() <= path.size(), "decoding grew the text");
  }

  const auto parsed = PathTemplate::Parse(template_text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument, "code %d",
               static_cast<int>(parsed.status().code()));
    return 0;
  }
  const PathTemplate& path_template = *parsed;
  FUZZ_CHECK(path_template.text() == template_text, "text() differs from the input");

  // What was parsed once parses again, to the same template.
  const auto again = PathTemplate::Parse(path_template.text());
  FUZZ_CHECK(again.ok() && again->IsEquivalentTo(path_template) &&
                 path_template.IsEquivalentTo(*again) &&
                 again->CompareSpecificity(path_template) == std::strong_ordering::equal,
             "re-parse of %s differs", path_template.text().c_str());
  FUZZ_CHECK(path_template.IsEquivalentTo(path_template), "not equivalent to itself");

  Bindings bindings = {{"sentinel", "kept"}};
  const bool matched = path_template.Match(path, bindings);
  if (!matched) {
    FUZZ_CHECK(bindings.size() == 1 && bindings[0].first == "sentinel",
               "a failed match changed the bindings");
    return 0;
  }
  FUZZ_CHECK(valid_encoding, "matched a path with malformed percent-encoding");
  const std::vector<std::string> variables = path_template.variables();
  FUZZ_CHECK(bindings.size() == variables.size() + 1, "%zu bindings for %zu variables",
             bindings.size() - 1, variables.size());
  for (std::size_t i = 0; i < variables.size(); ++i) {
    FUZZ_CHECK(bindings[i + 1].first == variables[i], "binding %zu is %s, not %s", i,
               bindings[i + 1].first.c_str(), variables[i].c_str());
  }
  return 0;
}
