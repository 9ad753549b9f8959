#include "core/strings.h"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace gemmsift::detail {

std::optional<double> parse_double(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::string text(s);
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

}  // namespace gemmsift::detail
