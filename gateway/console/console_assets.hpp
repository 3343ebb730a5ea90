#pragma once

// The web console's files (gateway/console/), compiled into the gateway so it serves them from
// memory with no files to deploy.

#include <string_view>

namespace switchyard::gateway::console {

struct EmbeddedFile {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view bytes;
};

// The file at `path` (relative to gateway/console, with a leading '/'), or nullptr.
const EmbeddedFile* FindEmbeddedFile(std::string_view path);

}  // namespace switchyard::gateway::console
