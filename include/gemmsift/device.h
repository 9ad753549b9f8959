// gemmsift: what a GPU can do, as far as GEMM tuning cares.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gemmsift/problem.h"

namespace gemmsift {

struct Device {
  std::string name;                 // canonical gemmsift name, e.g. "H100-SXM"
  std::vector<std::string> match;   // substrings of driver names that mean this device (lowercase)
  int sm_count = 0;
  std::int64_t smem_per_block_optin = 0;  // bytes a block may opt in to
  std::int64_t smem_per_sm = 0;           // bytes per multiprocessor
  std::int64_t regs_per_sm = 65536;       // 32-bit registers per multiprocessor
  int max_threads_per_sm = 2048;
  int max_blocks_per_sm = 32;
  std::int64_t l2_bytes = 0;
  double clock_ghz = 0;             // boost clock
  double mem_bandwidth = 0;         // bytes/s, datasheet
  double l2_bandwidth = 0;          // bytes/s, estimate (no datasheet figure)
  double peak_flops_bf16 = 0;       // dense tensor-core FLOP/s
  double peak_flops_fp16 = 0;
  double peak_flops_tf32 = 0;
  double peak_flops_fp32 = 0;       // CUDA cores (FFMA), no tensor cores
  int compute_capability = 0;       // 90 for sm_90

  // Tensor-core peak for 16-bit dtypes; for fp32 the FFMA peak, or the TF32 peak when
  // allow_tf32 (torch.backends.cuda.matmul.allow_tf32, off by default).
  double peak_flops(DType dtype, bool allow_tf32 = false) const noexcept;

  void validate() const;  // throws Error(invalid_argument) naming the first bad field
};

// Built-in table from the vendor datasheets: H100-SXM, H100-PCIe, H200, A100.
std::span<const Device> builtin_devices();

// Finds a built-in device by canonical name ("H100-SXM") or by the driver's name
// ("NVIDIA H100 80GB HBM3"), case-insensitively. Empty when nothing matches.
std::optional<Device> find_device(std::string_view name);

// As find_device, but throws Error(not_found) listing the known devices.
Device get_device(std::string_view name);

// Describe any other device in JSON: the fields above by name; "base" names a built-in device
// whose values fill the fields left out. Errors name the JSON pointer of the bad field.
Device device_from_json(const nlohmann::json& j);
nlohmann::json device_to_json(const Device& d);

}  // namespace gemmsift
