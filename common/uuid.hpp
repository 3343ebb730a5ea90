#pragma once

#include <string>
#include <string_view>

namespace switchyard {

// A random (version 4) UUID in canonical lower-case form, from a per-thread generator seeded by
// the operating system.
std::string NewUuidV4();

// True for the canonical 8-4-4-4-12 hexadecimal form (either case).
bool IsUuid(std::string_view text);

}  // namespace switchyard
