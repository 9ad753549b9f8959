// Fuzzes the safetensors reader (the model-file loader's first step): any input either parses or
// is refused with gemmsift::Error, and what parses serializes back to something that parses the same.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gemmsift/error.h"
#include "gemmsift/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto f = gemmsift::parse_safetensors(bytes, "fuzz.safetensors");
    auto again = gemmsift::parse_safetensors(gemmsift::serialize_safetensors(f), "again");
    if (again.metadata != f.metadata || again.tensors.size() != f.tensors.size()) std::abort();
    for (const auto& [name, t] : f.tensors) {
      const auto& u = again.tensors.at(name);
      if (u.data != t.data || u.shape != t.shape || u.dtype != t.dtype) std::abort();
    }
  } catch (const gemmsift::Error&) {
  }
  return 0;
}
