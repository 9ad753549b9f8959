// gemmsift: the analytical performance model (no data needed). docs/analytical-model.md has the formula.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gemmsift/device.h"
#include "gemmsift/model.h"

namespace gemmsift {

// The model's constants. Defaults are physical estimates for Hopper; none was fitted to data.
struct AnalyticalParams {
  double launch_us = 3.0;             // fixed cost of one launch as CUDA events time it
  double wgmma_efficiency = 0.80;     // share of the tensor-core peak wgmma reaches at N=256
  double mma_sync_efficiency = 0.55;  // share reached by mma.sync (fewer than 4 warps, BM < 64)
  double fma_efficiency = 0.70;       // share of the FFMA peak (fp32 without TF32)
  double smem_bytes_per_clock = 128;  // shared-memory bandwidth per SM
  double load_latency_us = 0.5;       // latency of one main-loop load from L2/DRAM
  double iteration_overhead_us = 0.02;  // barrier and loop bookkeeping per main-loop iteration
  double dram_efficiency = 0.85;      // share of datasheet DRAM bandwidth reachable
  double l2_fit_fraction = 0.5;       // operands this share of L2 or smaller stay resident
  double unaligned_penalty = 2.5;     // load slow-down when rows are not 16-byte aligned
  double spill_penalty = 1.6;         // slow-down when registers spill
  double allow_tf32 = 0;              // 1: fp32 runs on tensor cores as TF32 (torch default: 0)

  // Sets a parameter by name; throws Error(not_found) listing the names.
  void set(const std::string& name, double value);
  std::vector<std::pair<std::string, double>> items() const;
};

class AnalyticalModel final : public PerformanceModel {
 public:
  explicit AnalyticalModel(Device device, AnalyticalParams params = {}, std::string source = "");

  std::vector<double> estimate(const Problem& problem,
                               std::span<const Config> configs) const override;
  std::string name() const override;
  nlohmann::json metadata() const override;
  void save(const std::string& path) const override;

  const Device& device() const noexcept { return device_; }
  const AnalyticalParams& params() const noexcept { return params_; }

  // The parts of one estimate, for docs, tests and `gemmsift model explain`.
  struct Breakdown {
    bool launchable = true;
    const char* path = "";      // "wgmma", "mma.sync" or "fma"
    int occupancy = 0;          // programs resident per SM
    double tiles = 0, waves = 0;
    double compute_us = 0, dram_us = 0, total_us = 0;
    double smem_bytes = 0, regs_per_thread = 0;
  };
  Breakdown explain(const Problem& problem, const Config& config) const;

 private:
  const Device& device_for(const Problem& problem, Device& scratch) const;
  Device device_;
  AnalyticalParams params_;
  std::string source_;  // file it was loaded from, if any
};

// The analytical model of a device named as the driver or gemmsift names it (H100-SXM when unknown).
std::unique_ptr<AnalyticalModel> analytical_model_for(std::string_view device);

ModelKindInfo analytical_model_kind();

}  // namespace gemmsift
