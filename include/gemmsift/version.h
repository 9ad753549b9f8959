// gemmsift: version of the library.
#pragma once

#include <string_view>

namespace gemmsift {

std::string_view version() noexcept;  // "0.1.0"

}  // namespace gemmsift
