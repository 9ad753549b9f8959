#include "models/analytical.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/strings.h"
#include "gemmsift/error.h"
#include "core/file_util.h"
#include "gemmsift/json.h"
#include "gemmsift/safetensors.h"
#include "models/model_file.h"

namespace gemmsift {

namespace {

struct ParamRef {
  const char* name;
  double AnalyticalParams::*field;
};

constexpr ParamRef kParams[] = {
    {"launch_us", &AnalyticalParams::launch_us},
    {"wgmma_efficiency", &AnalyticalParams::wgmma_efficiency},
    {"mma_sync_efficiency", &AnalyticalParams::mma_sync_efficiency},
    {"fma_efficiency", &AnalyticalParams::fma_efficiency},
    {"smem_bytes_per_clock", &AnalyticalParams::smem_bytes_per_clock},
    {"load_latency_us", &AnalyticalParams::load_latency_us},
    {"iteration_overhead_us", &AnalyticalParams::iteration_overhead_us},
    {"dram_efficiency", &AnalyticalParams::dram_efficiency},
    {"l2_fit_fraction", &AnalyticalParams::l2_fit_fraction},
    {"unaligned_penalty", &AnalyticalParams::unaligned_penalty},
    {"spill_penalty", &AnalyticalParams::spill_penalty},
    {"allow_tf32", &AnalyticalParams::allow_tf32},
};

constexpr const char* kDefaultDevice = "H100-SXM";

// Everything about a problem that does not depend on the config.
struct ProblemTerms {
  double m, n, k, batch;
  double in_bytes, out_bytes;
  bool a_unaligned, b_unaligned;
  double peak;  // FLOP/s of the path's unit for this dtype
  bool tensor_cores;
};

}  // namespace

void AnalyticalParams::set(const std::string& name, double value) {
  for (const auto& p : kParams) {
    if (name == p.name) {
      if (!std::isfinite(value) || value < 0) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("analytical parameter {} must be a finite non-negative number, got {}",
                                name, value));
      }
      this->*(p.field) = value;
      return;
    }
  }
  std::vector<std::string> names;
  for (const auto& p : kParams) names.emplace_back(p.name);
  throw Error(ErrorCode::not_found,
              fmt::format("unknown analytical parameter '{}': known parameters are {}", name,
                          detail::join(names, ", ")));
}

std::vector<std::pair<std::string, double>> AnalyticalParams::items() const {
  std::vector<std::pair<std::string, double>> v;
  for (const auto& p : kParams) v.emplace_back(p.name, this->*(p.field));
  return v;
}

AnalyticalModel::AnalyticalModel(Device device, AnalyticalParams params, std::string source)
    : device_(std::move(device)), params_(params), source_(std::move(source)) {
  device_.validate();
}

const Device& AnalyticalModel::device_for(const Problem& problem, Device& scratch) const {
  // The model is physical, so it follows the problem's device when it knows it.
  if (!problem.device.empty() && problem.device != device_.name) {
    if (auto d = find_device(problem.device)) {
      scratch = std::move(*d);
      return scratch;
    }
  }
  return device_;
}

AnalyticalModel::Breakdown AnalyticalModel::explain(const Problem& problem,
                                                    const Config& c) const {
  Device scratch;
  const Device& dev = device_for(problem, scratch);
  const AnalyticalParams& P = params_;
  Breakdown out;

  const double m = static_cast<double>(problem.m), n = static_cast<double>(problem.n),
               k = static_cast<double>(problem.k), batch = static_cast<double>(problem.batch);
  const double b = dtype_bytes(problem.dtype);
  const double ob = b;  // output has the input dtype
  const double BM = c.block_m, BN = c.block_n, BK = c.block_k, S = c.num_stages, W = c.num_warps;
  const double sms = dev.sm_count;

  // Resources of one program. Triton software-pipelines the operand loads through shared memory
  // only when the operands' rows are 16-byte aligned (cp.async); it then keeps num_stages
  // buffers on the wgmma path and num_stages - 1 on the mma.sync path. Measured on an H100
  // (torch 2.11, triton 3.6, tools/gpu/smoke_shapes.txt): this predicts all 176 launch failures
  // and nothing else, and the required bytes exactly.
  const bool fp32_fma = problem.dtype == DType::fp32 && P.allow_tf32 == 0;
  const bool wgmma = !fp32_fma && dev.compute_capability >= 90 && c.num_warps % 4 == 0 && c.block_m >= 64;
  const bool a_t = a_transposed(problem.layout), b_t = b_transposed(problem.layout);
  auto aligned = [&](double contiguous_dim) { return std::fmod(contiguous_dim * b, 16.0) == 0; };
  const bool a_aligned = aligned(a_t ? m : k), b_aligned = aligned(b_t ? k : n);
  const bool pipelined = a_aligned && b_aligned;
  const double buffers = pipelined ? (wgmma ? std::max(1.0, S) : std::max(1.0, S - 1)) : 1.0;
  out.smem_bytes = buffers * (BM + BN) * BK * b;
  if (out.smem_bytes > static_cast<double>(dev.smem_per_block_optin)) {
    out.launchable = false;
    out.total_us = std::numeric_limits<double>::infinity();
    return out;
  }
  out.path = fp32_fma ? "fma" : (wgmma ? "wgmma" : "mma.sync");
  const double acc = BM * BN / (W * 32);
  double regs = wgmma ? acc + 40 : 1.15 * acc + 40;
  const bool spills = regs > 255;
  regs = std::min(regs, 255.0);
  out.regs_per_thread = regs;
  const double regs_alloc = std::ceil(regs / 8) * 8;
  const int occ_threads = static_cast<int>(dev.max_threads_per_sm / (W * 32));
  const int occ_regs = static_cast<int>(static_cast<double>(dev.regs_per_sm) / (regs_alloc * W * 32));
  const int occ_smem = static_cast<int>(static_cast<double>(dev.smem_per_sm) / (out.smem_bytes + 1024));
  const int occ = std::max(1, std::min({occ_threads, occ_regs, occ_smem, dev.max_blocks_per_sm}));
  out.occupancy = occ;

  // Work of one main-loop iteration of one program.
  const double flops_iter = 2 * BM * BN * BK;
  double peak = fp32_fma ? dev.peak_flops_fp32 : dev.peak_flops(problem.dtype, P.allow_tf32 != 0);
  double eff;
  double smem_reads;
  if (fp32_fma || !wgmma) {
    // Warps tile M first (at least 16 rows each), then N.
    const double wm = std::min(W, std::max(1.0, BM / 16));
    const double wn = W / wm;
    smem_reads = (BM * BK * wn + BN * BK * wm) * b;
    const double warp_tile = BM * BN / W;
    eff = (fp32_fma ? P.fma_efficiency : P.mma_sync_efficiency) *
          (warp_tile / (warp_tile + 512)) / (4096.0 / (4096.0 + 512));
  } else {
    const double wgroups = W / 4;
    const double n_wg = BN;  // warpgroups split M; each issues m64nBNk16
    smem_reads = (BM * BK + BN * BK * wgroups) * b;
    eff = P.wgmma_efficiency * (n_wg / (n_wg + 24)) / (256.0 / (256.0 + 24));
  }
  const double smem_writes = (BM + BN) * BK * b;
  const double peak_sm = peak / sms * std::min(eff, 1.0);
  // A warp runs on one of the SM's four sub-partitions: fewer than four warps leave units idle
  // (wgmma uses a whole warpgroup of four).
  auto mma_rate = [&](double programs) {
    return wgmma ? peak_sm : peak_sm * std::min(1.0, W * programs / 4);
  };
  const double smem_rate = P.smem_bytes_per_clock * dev.clock_ghz * 1e9;
  // Operands whose contiguous rows are not 16-byte aligned load without vector instructions.
  const double a_pen = a_aligned ? 1.0 : P.unaligned_penalty;
  const double b_pen = b_aligned ? 1.0 : P.unaligned_penalty;
  const double load_bytes = (BM * BK * a_pen + BN * BK * b_pen) * b;
  const double l2_rate_sm = dev.l2_bandwidth / sms;
  const double spill = spills ? P.spill_penalty : 1.0;
  const double L = P.load_latency_us * 1e-6;

  auto t_resource = [&](double programs) {
    return spill * std::max({flops_iter / mma_rate(programs), (smem_reads + smem_writes) / smem_rate,
                             load_bytes / l2_rate_sm}) +
           P.iteration_overhead_us * 1e-6;
  };
  const double t_one = t_resource(1);
  const double t_chain = S <= 1 ? L + t_one : std::max(t_one, L / (S - 1));
  const double k_iters = std::ceil(k / BK);
  const double t_epilogue = L + BM * BN * ob / l2_rate_sm;
  // Time for an SM to run `programs` programs side by side.
  auto wave_time = [&](double programs) {
    return k_iters * std::max(programs * t_resource(programs), t_chain) + L + programs * t_epilogue;
  };

  const double tiles_m = std::ceil(m / BM), tiles_n = std::ceil(n / BN);
  const double tiles = tiles_m * tiles_n * batch;
  const double slots = sms * occ;
  const double full_waves = std::floor(tiles / slots);
  const double rest = tiles - full_waves * slots;
  double compute = full_waves * wave_time(occ);
  if (rest > 0) compute += wave_time(std::ceil(rest / sms));
  out.tiles = tiles;
  out.waves = tiles / slots;

  // DRAM traffic: A once; B once per band of GROUP_M tile rows in flight unless B stays in L2.
  const double a_bytes = m * k * b * batch, b_bytes = k * n * b * batch, c_bytes = m * n * ob * batch;
  const double l2_fit = P.l2_fit_fraction * static_cast<double>(dev.l2_bytes);
  double b_reads = 1;
  if (b_bytes / batch > l2_fit) {
    const double active = std::min(tiles, slots);
    const double rows_in_flight = std::max(std::min<double>(c.group_m, tiles_m), std::ceil(active / tiles_n));
    b_reads = std::max(1.0, std::ceil(tiles_m / rows_in_flight));
  }
  const double dram_bytes = a_bytes * a_pen + b_bytes * b_reads * b_pen + c_bytes;
  const double t_dram = dram_bytes / (dev.mem_bandwidth * P.dram_efficiency);

  out.compute_us = compute * 1e6;
  out.dram_us = t_dram * 1e6;
  out.total_us = P.launch_us + std::max(compute, t_dram) * 1e6;
  return out;
}

std::vector<double> AnalyticalModel::estimate(const Problem& problem,
                                              std::span<const Config> configs) const {
  problem.validate();
  std::vector<double> out(configs.size());
  for (std::size_t i = 0; i < configs.size(); ++i) out[i] = explain(problem, configs[i]).total_us;
  return out;
}

std::string AnalyticalModel::name() const {
  if (!source_.empty()) return source_;
  std::string s = "analytical";
  std::vector<std::string> parts;
  if (device_.name != kDefaultDevice) parts.push_back(fmt::format("device={}", device_.name));
  AnalyticalParams defaults;
  auto mine = params_.items();
  auto base = defaults.items();
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (mine[i].second != base[i].second) parts.push_back(fmt::format("{}={}", mine[i].first, mine[i].second));
  }
  if (!parts.empty()) {
    s += ':';
    s += detail::join(parts, ",");
  }
  return s;
}

nlohmann::json AnalyticalModel::metadata() const {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : params_.items()) params[k] = v;
  return {{"kind", "analytical"},
          {"format", "gemmsift-model"},
          {"format_version", 1},
          {"device", device_.name},
          {"sm_count", device_.sm_count},
          {"params", std::move(params)},
          {"trained", false}};
}

void AnalyticalModel::save(const std::string& path) const {
  SafetensorsFile f;
  f.metadata = model_file_metadata(metadata());
  write_safetensors(path, f);
}

std::unique_ptr<AnalyticalModel> analytical_model_for(std::string_view device) {
  auto d = find_device(device);
  return std::make_unique<AnalyticalModel>(d ? *d : get_device(kDefaultDevice));
}

ModelKindInfo analytical_model_kind() {
  ModelKindInfo info;
  info.kind = "analytical";
  info.description =
      "roofline estimate of a tiled Triton GEMM: waves over the SMs, tensor-core, shared-memory and "
      "L2 time per main-loop iteration, pipeline latency, DRAM traffic (no data needed)";
  info.factory = [](const std::vector<std::pair<std::string, std::string>>& params,
                    const ModelOptions&) -> std::unique_ptr<PerformanceModel> {
    Device device = get_device(kDefaultDevice);
    AnalyticalParams p;
    for (const auto& [key, value] : params) {
      if (key == "device") {
        device = get_device(value);
        continue;
      }
      if (key == "device_file") {  // any other device, described in JSON (gemmsift device show)
        const nlohmann::json j = parse_json_text(detail::read_file(value), value);
        try {
          device = device_from_json(j);
        } catch (const Error& e) {
          throw Error(e.code(), fmt::format("{}: {}", value, e.what()));
        }
        continue;
      }
      auto v = detail::parse_double(value);
      if (!v) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("analytical parameter {}: expected a number, got '{}'", key, value));
      }
      p.set(key, *v);
    }
    return std::make_unique<AnalyticalModel>(std::move(device), p);
  };
  info.loader = [](const std::string& path, const nlohmann::json& meta,
                   const ModelOptions&) -> std::unique_ptr<PerformanceModel> {
    Device device = get_device(meta.value("device", std::string(kDefaultDevice)));
    AnalyticalParams p;
    if (meta.contains("params")) {
      const auto& params = meta["params"];
      if (!params.is_object()) {
        throw Error(ErrorCode::parse, fmt::format("{}: __metadata__.params must be a JSON object", path));
      }
      for (auto it = params.begin(); it != params.end(); ++it) {
        if (!it->is_number()) {
          throw Error(ErrorCode::parse, fmt::format("{}: __metadata__.params.{} must be a number", path, it.key()));
        }
        p.set(it.key(), it->get<double>());
      }
    }
    return std::make_unique<AnalyticalModel>(std::move(device), p, path);
  };
  return info;
}

}  // namespace gemmsift
