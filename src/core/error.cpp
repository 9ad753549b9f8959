#include "gemmsift/error.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <string>

namespace gemmsift {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::parse: return "parse error";
    case ErrorCode::io: return "i/o error";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::mismatch: return "mismatch";
    case ErrorCode::internal: return "internal error";
  }
  return "unknown error";
}

namespace {
std::mutex& handler_mutex() {
  static std::mutex m;
  return m;
}
WarningHandler& handler() {
  static WarningHandler h;
  return h;
}
}  // namespace

void set_warning_handler(WarningHandler h) {
  std::lock_guard<std::mutex> lock(handler_mutex());
  handler() = std::move(h);
}

void warn(std::string_view message) {
  WarningHandler h;
  {
    std::lock_guard<std::mutex> lock(handler_mutex());
    h = handler();
  }
  if (h) {
    h(message);
  } else {
    std::string line = "gemmsift: warning: " + std::string(message) + "\n";
    std::fputs(line.c_str(), stderr);
  }
}

void warn_once(std::string_view key, std::string_view message) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!seen.emplace(key).second) return;
  }
  warn(message);
}

}  // namespace gemmsift
