// gemmsift: the one error type.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gemmsift {

// Error codes. The numeric values are part of the C API (GS_ERR_*); never renumber.
enum class ErrorCode : int {
  ok = 0,
  invalid_argument = 1,  // a value out of range or of the wrong kind
  parse = 2,             // malformed input text (JSON, CSV, spec strings)
  io = 3,                // a file could not be read or written
  not_found = 4,         // a named thing (model kind, device, file) does not exist
  unsupported = 5,       // valid, but not supported by this build or this model
  mismatch = 6,          // a model, table or library of another version, device or schema
  internal = 7,          // a bug in gemmsift
};

std::string_view to_string(ErrorCode code) noexcept;

// Every failure in gemmsift is reported with this type. Messages are short and lowercase, and
// name the file and the place (line:column or JSON pointer) and what was expected.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Warnings (a stale model, a skipped table entry) go to one handler; the default prints
// "gemmsift: warning: <message>" to stderr. Integrations route them to their own logging.
using WarningHandler = std::function<void(std::string_view message)>;
void set_warning_handler(WarningHandler handler);  // empty: restore the default
void warn(std::string_view message);
// warn(), but only the first time for `key` in this process (thread-safe).
void warn_once(std::string_view key, std::string_view message);

}  // namespace gemmsift
