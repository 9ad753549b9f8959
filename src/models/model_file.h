// How model metadata is stored in a safetensors file (internal).
//
// __metadata__ holds a few flat, human-readable strings (format, format_version, kind, device,
// dtype) and the whole metadata as JSON under "gemmsift", which is what gemmsift reads back.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace gemmsift {

constexpr const char* kModelFormat = "gemmsift-model";
constexpr int kModelFormatVersion = 1;

std::map<std::string, std::string> model_file_metadata(const nlohmann::json& metadata);

// Parses the metadata back; Error(parse)/Error(mismatch) naming `path` when it is not a
// gemmsift model file of a supported format version.
nlohmann::json parse_model_file_metadata(const std::map<std::string, std::string>& raw,
                                         const std::string& path);

}  // namespace gemmsift
