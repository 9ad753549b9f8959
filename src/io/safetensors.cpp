#include "gemmsift/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/file_util.h"
#include "gemmsift/error.h"

namespace gemmsift {

static_assert(std::endian::native == std::endian::little,
              "gemmsift reads safetensors (little-endian) by memcpy");

namespace {

constexpr std::uint64_t kMaxHeader = 100u * 1024u * 1024u;

int dtype_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw Error(ErrorCode::parse, fmt::format("{}: not a valid safetensors file: {}", name, what));
}

}  // namespace

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Tensor Tensor::from_floats(const std::vector<float>& values, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = "F32";
  t.shape = std::move(shape);
  if (t.numel() != static_cast<std::int64_t>(values.size())) {
    throw Error(ErrorCode::internal, "tensor shape does not match its values");
  }
  t.data.resize(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

Tensor Tensor::from_doubles(const std::vector<double>& values, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = "F64";
  t.shape = std::move(shape);
  if (t.numel() != static_cast<std::int64_t>(values.size())) {
    throw Error(ErrorCode::internal, "tensor shape does not match its values");
  }
  t.data.resize(values.size() * sizeof(double));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

std::vector<float> Tensor::to_floats() const {
  if (dtype != "F32") {
    throw Error(ErrorCode::mismatch, fmt::format("expected an F32 tensor, got {}", dtype));
  }
  std::vector<float> v(data.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), data.data(), v.size() * sizeof(float));
  return v;
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 8) bad(name, fmt::format("truncated: {} bytes, need at least 8", bytes.size()));
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeader) bad(name, fmt::format("header length {} is over the limit of {}", header_len, kMaxHeader));
  if (header_len > bytes.size() - 8) {
    bad(name, fmt::format("truncated: header length {} but only {} bytes follow", header_len,
                          bytes.size() - 8));
  }
  std::string_view header(bytes.data() + 8, header_len);
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header.begin(), header.end());
  } catch (const nlohmann::json::parse_error& e) {
    bad(name, fmt::format("header is not valid JSON (byte {})", e.byte));
  } catch (const nlohmann::json::exception&) {
    bad(name, "header is not valid JSON (a number out of range)");
  }
  if (!h.is_object()) bad(name, "header is not a JSON object");

  SafetensorsFile file;
  const std::size_t data_begin = 8 + header_len;
  const std::size_t data_size = bytes.size() - data_begin;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) bad(name, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) bad(name, fmt::format("__metadata__/{} is not a string", m.key()));
        file.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const auto& e = *it;
    const std::string& tname = it.key();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets")) {
      bad(name, fmt::format("tensor '{}' needs dtype, shape and data_offsets", tname));
    }
    for (auto k = e.begin(); k != e.end(); ++k) {
      if (k.key() != "dtype" && k.key() != "shape" && k.key() != "data_offsets") {
        bad(name, fmt::format("tensor '{}' has an unknown field '{}'", tname, k.key()));
      }
    }
    Tensor t;
    if (!e["dtype"].is_string()) bad(name, fmt::format("tensor '{}': dtype is not a string", tname));
    t.dtype = e["dtype"].get<std::string>();
    int esize = dtype_size(t.dtype);
    if (esize == 0) bad(name, fmt::format("tensor '{}': unknown dtype '{}'", tname, t.dtype));
    if (!e["shape"].is_array()) bad(name, fmt::format("tensor '{}': shape is not an array", tname));
    std::uint64_t numel = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) bad(name, fmt::format("tensor '{}': shape holds a non-integer", tname));
      std::uint64_t dim = d.get<std::uint64_t>();
      if (dim != 0 && numel > (std::uint64_t{1} << 40) / dim) {
        bad(name, fmt::format("tensor '{}': shape is too large", tname));
      }
      numel *= dim;
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      bad(name, fmt::format("tensor '{}': data_offsets must be two non-negative integers", tname));
    }
    std::uint64_t b = off[0].get<std::uint64_t>(), en = off[1].get<std::uint64_t>();
    if (b > en || en > data_size) {
      bad(name, fmt::format("tensor '{}': data_offsets [{}, {}] outside the {} data bytes (truncated?)",
                            tname, b, en, data_size));
    }
    if (en - b != numel * static_cast<std::uint64_t>(esize)) {
      bad(name, fmt::format("tensor '{}': {} bytes for {} elements of {}", tname, en - b, numel, t.dtype));
    }
    t.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_begin + b),
                  bytes.begin() + static_cast<std::ptrdiff_t>(data_begin + en));
    ranges.emplace_back(b, en);
    file.tensors.emplace(tname, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t expect = 0;
  for (auto [b, en] : ranges) {
    if (b != expect) bad(name, b < expect ? "tensors overlap" : "data has a hole between tensors");
    expect = en;
  }
  if (expect != data_size) {
    bad(name, fmt::format("{} trailing bytes after the last tensor", data_size - expect));
  }
  return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
  return parse_safetensors(detail::read_file(path), path);
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  return read_safetensors(path).metadata;
}

std::string serialize_safetensors(const SafetensorsFile& file) {
  nlohmann::json h = nlohmann::json::object();
  if (!file.metadata.empty()) h["__metadata__"] = file.metadata;
  std::uint64_t offset = 0;
  for (const auto& [tname, t] : file.tensors) {
    int esize = dtype_size(t.dtype);
    if (esize == 0 || static_cast<std::uint64_t>(t.numel()) * esize != t.data.size()) {
      throw Error(ErrorCode::internal, fmt::format("tensor '{}' is inconsistent", tname));
    }
    h[tname] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string header = h.dump();
  while (header.size() % 8 != 0) header.push_back(' ');  // align the data as safetensors does
  std::string out(8, '\0');
  std::uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  out += header;
  for (const auto& [tname, t] : file.tensors) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  }
  return out;
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  detail::write_file_atomic(path, serialize_safetensors(file));
}

}  // namespace gemmsift
