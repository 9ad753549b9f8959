// gemmsift: reading and writing safetensors files (the format of model files).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header, then raw little-endian
// tensor data. The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the end of the header) and may hold "__metadata__": {string: string}.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gemmsift {

struct Tensor {
  std::string dtype;  // "F32", "F64", "I32", "I64"
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // little-endian bytes

  static Tensor from_floats(const std::vector<float>& values, std::vector<std::int64_t> shape);
  static Tensor from_doubles(const std::vector<double>& values, std::vector<std::int64_t> shape);
  std::int64_t numel() const;
  std::vector<float> to_floats() const;  // F32 only; throws otherwise
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
};

// Throw Error(io) when the file cannot be read or written, and Error(parse) naming the file and
// what is wrong (truncated, header length out of range, overlapping tensors, bad dtype, ...).
SafetensorsFile read_safetensors(const std::string& path);
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name);
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);
void write_safetensors(const std::string& path, const SafetensorsFile& file);
std::string serialize_safetensors(const SafetensorsFile& file);

}  // namespace gemmsift
