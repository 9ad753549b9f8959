// File helpers shared inside gemmsift (not part of the public API).
#pragma once

#include <string>
#include <string_view>

namespace gemmsift::detail {

// Whole file as bytes; Error(io) naming the path and the reason when it cannot be read.
std::string read_file(const std::string& path);

// Writes through a temporary file in the same directory and renames it over `path`, so readers
// never see a half-written file. Error(io) naming the path on failure.
void write_file_atomic(const std::string& path, std::string_view contents);

bool file_exists(const std::string& path);

}  // namespace gemmsift::detail
