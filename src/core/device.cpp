#include "gemmsift/device.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

namespace {

constexpr std::int64_t MiB = 1024 * 1024;

// Datasheet figures (dense tensor-core rates, boost clocks). L2 bandwidth has no datasheet
// figure: it is an estimate used only by the analytical model (a Triton GEMM that reaches
// ~650 TFLOP/s with 128x256 tiles on an H100 streams operands from L2 at ~7.6 TB/s, so the
// L2 must deliver at least that; A100 by the same reasoning at ~3.9 TB/s). The order matters for matching:
// the first device whose match strings occur in the driver's name wins.
std::vector<Device> make_builtin() {
  std::vector<Device> v;
  {
    Device d;
    d.name = "H200";
    d.match = {"h200"};
    d.sm_count = 132;
    d.smem_per_block_optin = 232448;  // 227 KiB
    d.smem_per_sm = 233472;           // 228 KiB
    d.l2_bytes = 60 * MiB;            // as torch.cuda reported it on an H200 (2026-10-28)
    d.clock_ghz = 1.98;
    d.mem_bandwidth = 4.8e12;
    d.l2_bandwidth = 9.0e12;
    d.peak_flops_bf16 = 989.4e12;
    d.peak_flops_fp16 = 989.4e12;
    d.peak_flops_tf32 = 494.7e12;
    d.peak_flops_fp32 = 66.9e12;
    d.compute_capability = 90;
    v.push_back(d);
  }
  {
    Device d;
    d.name = "H100-PCIe";
    d.match = {"h100 pcie", "h100-pcie", "h100pcie"};
    d.sm_count = 114;
    d.smem_per_block_optin = 232448;
    d.smem_per_sm = 233472;
    d.l2_bytes = 50 * MiB;
    d.clock_ghz = 1.755;
    d.mem_bandwidth = 2.0e12;
    d.l2_bandwidth = 6.9e12;
    d.peak_flops_bf16 = 756.0e12;
    d.peak_flops_fp16 = 756.0e12;
    d.peak_flops_tf32 = 378.0e12;
    d.peak_flops_fp32 = 51.2e12;
    d.compute_capability = 90;
    v.push_back(d);
  }
  {
    Device d;
    d.name = "H100-SXM";
    d.match = {"h100"};
    d.sm_count = 132;
    d.smem_per_block_optin = 232448;
    d.smem_per_sm = 233472;
    d.l2_bytes = 50 * MiB;
    d.clock_ghz = 1.98;
    d.mem_bandwidth = 3.35e12;
    d.l2_bandwidth = 9.0e12;
    d.peak_flops_bf16 = 989.4e12;
    d.peak_flops_fp16 = 989.4e12;
    d.peak_flops_tf32 = 494.7e12;
    d.peak_flops_fp32 = 66.9e12;
    d.compute_capability = 90;
    v.push_back(d);
  }
  {
    Device d;
    d.name = "A100";  // A100 SXM4 80GB
    d.match = {"a100"};
    d.sm_count = 108;
    d.smem_per_block_optin = 166912;  // 163 KiB
    d.smem_per_sm = 167936;           // 164 KiB
    d.l2_bytes = 40 * MiB;
    d.clock_ghz = 1.41;
    d.mem_bandwidth = 2.039e12;
    d.l2_bandwidth = 5.0e12;
    d.peak_flops_bf16 = 312.0e12;
    d.peak_flops_fp16 = 312.0e12;
    d.peak_flops_tf32 = 156.0e12;
    d.peak_flops_fp32 = 19.5e12;
    d.compute_capability = 80;
    v.push_back(d);
  }
  return v;
}

const std::vector<Device>& table() {
  static const std::vector<Device> t = make_builtin();
  return t;
}

std::string known_names() {
  std::vector<std::string> names;
  for (const auto& d : table()) names.push_back(d.name);
  return detail::join(names, ", ");
}

}  // namespace

double Device::peak_flops(DType dtype, bool allow_tf32) const noexcept {
  switch (dtype) {
    case DType::bf16: return peak_flops_bf16;
    case DType::fp16: return peak_flops_fp16;
    case DType::fp32: return allow_tf32 ? peak_flops_tf32 : peak_flops_fp32;
  }
  return 0;
}

void Device::validate() const {
  auto positive = [](const char* field, double v) {
    if (!(v > 0)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("device field {} must be positive, got {}", field, v));
    }
  };
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "device name must not be empty");
  positive("sm_count", sm_count);
  positive("smem_per_block_optin", static_cast<double>(smem_per_block_optin));
  positive("smem_per_sm", static_cast<double>(smem_per_sm));
  positive("regs_per_sm", static_cast<double>(regs_per_sm));
  positive("max_threads_per_sm", max_threads_per_sm);
  positive("max_blocks_per_sm", max_blocks_per_sm);
  positive("l2_bytes", static_cast<double>(l2_bytes));
  positive("clock_ghz", clock_ghz);
  positive("mem_bandwidth", mem_bandwidth);
  positive("l2_bandwidth", l2_bandwidth);
  positive("peak_flops_bf16", peak_flops_bf16);
  positive("peak_flops_fp16", peak_flops_fp16);
  positive("peak_flops_tf32", peak_flops_tf32);
  positive("peak_flops_fp32", peak_flops_fp32);
}

std::span<const Device> builtin_devices() { return table(); }

std::optional<Device> find_device(std::string_view name) {
  std::string n = detail::lower(detail::trim(name));
  if (n.empty()) return std::nullopt;
  for (const auto& d : table()) {
    if (detail::lower(d.name) == n) return d;
  }
  for (const auto& d : table()) {
    for (const auto& m : d.match) {
      if (n.find(m) != std::string::npos) return d;
    }
  }
  return std::nullopt;
}

Device get_device(std::string_view name) {
  if (auto d = find_device(name)) return *d;
  throw Error(ErrorCode::not_found,
              fmt::format("unknown device '{}': known devices are {} (or describe it in JSON)",
                          name, known_names()));
}

Device device_from_json(const nlohmann::json& j) {
  if (!j.is_object()) {
    throw Error(ErrorCode::parse, fmt::format("device: expected a JSON object, got {}", j.type_name()));
  }
  Device d;
  if (auto it = j.find("base"); it != j.end()) {
    if (!it->is_string()) throw Error(ErrorCode::parse, "/base: expected a device name string");
    d = get_device(it->get<std::string>());
  }
  auto num = [&](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (!it->is_number()) {
      throw Error(ErrorCode::parse, fmt::format("/{}: expected a number, got {}", key, it->type_name()));
    }
    using T = std::remove_reference_t<decltype(field)>;
    field = static_cast<T>(it->get<double>());
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"base", "name", "match", "sm_count", "smem_per_block_optin",
                                  "smem_per_sm", "regs_per_sm", "max_threads_per_sm",
                                  "max_blocks_per_sm", "l2_bytes", "clock_ghz", "mem_bandwidth",
                                  "l2_bandwidth", "peak_flops_bf16", "peak_flops_fp16",
                                  "peak_flops_tf32", "peak_flops_fp32", "compute_capability"};
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) throw Error(ErrorCode::parse, fmt::format("/{}: unknown device field", it.key()));
  }
  if (auto it = j.find("name"); it != j.end()) {
    if (!it->is_string()) throw Error(ErrorCode::parse, "/name: expected a string");
    d.name = it->get<std::string>();
  }
  if (auto it = j.find("match"); it != j.end()) {
    if (!it->is_array()) throw Error(ErrorCode::parse, "/match: expected an array of strings");
    d.match.clear();
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        throw Error(ErrorCode::parse, fmt::format("/match/{}: expected a string", i));
      }
      d.match.push_back(detail::lower((*it)[i].get<std::string>()));
    }
  }
  num("sm_count", d.sm_count);
  num("smem_per_block_optin", d.smem_per_block_optin);
  num("smem_per_sm", d.smem_per_sm);
  num("regs_per_sm", d.regs_per_sm);
  num("max_threads_per_sm", d.max_threads_per_sm);
  num("max_blocks_per_sm", d.max_blocks_per_sm);
  num("l2_bytes", d.l2_bytes);
  num("clock_ghz", d.clock_ghz);
  num("mem_bandwidth", d.mem_bandwidth);
  num("l2_bandwidth", d.l2_bandwidth);
  num("peak_flops_bf16", d.peak_flops_bf16);
  num("peak_flops_fp16", d.peak_flops_fp16);
  num("peak_flops_tf32", d.peak_flops_tf32);
  num("peak_flops_fp32", d.peak_flops_fp32);
  num("compute_capability", d.compute_capability);
  d.validate();
  return d;
}

nlohmann::json device_to_json(const Device& d) {
  return {{"name", d.name},
          {"match", d.match},
          {"sm_count", d.sm_count},
          {"smem_per_block_optin", d.smem_per_block_optin},
          {"smem_per_sm", d.smem_per_sm},
          {"regs_per_sm", d.regs_per_sm},
          {"max_threads_per_sm", d.max_threads_per_sm},
          {"max_blocks_per_sm", d.max_blocks_per_sm},
          {"l2_bytes", d.l2_bytes},
          {"clock_ghz", d.clock_ghz},
          {"mem_bandwidth", d.mem_bandwidth},
          {"l2_bandwidth", d.l2_bandwidth},
          {"peak_flops_bf16", d.peak_flops_bf16},
          {"peak_flops_fp16", d.peak_flops_fp16},
          {"peak_flops_tf32", d.peak_flops_tf32},
          {"peak_flops_fp32", d.peak_flops_fp32},
          {"compute_capability", d.compute_capability}};
}

}  // namespace gemmsift
