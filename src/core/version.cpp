#include "gemmsift/version.h"

namespace gemmsift {

std::string_view version() noexcept { return GEMMSIFT_VERSION_STRING; }

}  // namespace gemmsift
