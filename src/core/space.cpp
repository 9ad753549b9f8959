#include "gemmsift/space.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

namespace {

Config gemm(int bm, int bn, int bk, int stages, int warps, int group_m = 8) {
  Config c;
  c.block_m = bm;
  c.block_n = bn;
  c.block_k = bk;
  c.num_stages = stages;
  c.num_warps = warps;
  c.group_m = group_m;
  return c;
}

// BaseConfigHeuristic.mm_configs, torch 2.11 (torch/_inductor/template_heuristics/triton.py).
const std::vector<Config>& default_list() {
  static const std::vector<Config> v = {
      gemm(32, 32, 16, 1, 2),    gemm(32, 32, 128, 2, 4),  gemm(32, 64, 32, 5, 8),
      gemm(64, 32, 32, 5, 8),    gemm(64, 32, 128, 5, 4),  gemm(64, 64, 16, 2, 4),
      gemm(64, 64, 32, 2, 4),    gemm(64, 64, 64, 3, 8),   gemm(64, 64, 128, 5, 4),
      gemm(64, 128, 32, 3, 4),   gemm(64, 128, 32, 4, 8),  gemm(64, 128, 64, 3, 4),
      gemm(64, 128, 128, 4, 4),  gemm(128, 64, 32, 3, 4),  gemm(128, 64, 32, 4, 8),
      gemm(128, 128, 32, 2, 8),  gemm(128, 128, 32, 3, 4), gemm(128, 128, 64, 3, 4),
      gemm(128, 128, 64, 5, 8),  gemm(128, 128, 128, 4, 8),
  };
  return v;
}

// BaseConfigHeuristic.exhaustive_configs: product(blocks, repeat=3) x stages x warps x group_m,
// in itertools order (BLOCK_M outermost, then BLOCK_N, BLOCK_K, stages, warps).
const std::vector<Config>& exhaustive_list() {
  static const std::vector<Config> v = [] {
    std::vector<Config> out;
    const int blocks[] = {16, 32, 64, 128, 256};
    for (int bm : blocks)
      for (int bn : blocks)
        for (int bk : blocks)
          for (int stages = 1; stages <= 5; ++stages)
            for (int warps : {2, 4, 8}) out.push_back(gemm(bm, bn, bk, stages, warps, 8));
    return out;
  }();
  return v;
}

}  // namespace

std::string_view to_string(SpaceKind k) noexcept {
  return k == SpaceKind::DEFAULT ? "DEFAULT" : "EXHAUSTIVE";
}

SpaceKind parse_space_kind(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "default") return SpaceKind::DEFAULT;
  if (v == "exhaustive") return SpaceKind::EXHAUSTIVE;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown search space '{}': expected DEFAULT or EXHAUSTIVE", s));
}

std::span<const Config> base_configs(SpaceKind kind) {
  return kind == SpaceKind::DEFAULT ? std::span<const Config>(default_list())
                                    : std::span<const Config>(exhaustive_list());
}

std::vector<Config> search_space(const Problem& problem, SpaceKind kind,
                                 const SpaceOptions& options) {
  problem.validate();
  // _scale_mm_configs: the minimum block is 16 for every dim (32 for K only with int8, which
  // gemmsift does not support); scale is 1.0 on CUDA.
  constexpr std::int64_t min_block = 16;
  const std::int64_t m_hint = std::max(detail::next_pow2(problem.m), min_block);
  const std::int64_t n_hint = std::max(detail::next_pow2(problem.n), min_block);
  const std::int64_t k_hint = std::max(detail::next_pow2(problem.k), min_block);
  const int bytes = dtype_bytes(problem.dtype);

  std::vector<Config> out;
  std::unordered_set<Config, ConfigHash> used;
  for (const Config& base : base_configs(kind)) {
    Config c = base;
    c.block_m = static_cast<int>(std::max(std::min<std::int64_t>(c.block_m, m_hint), min_block));
    c.block_n = static_cast<int>(std::max(std::min<std::int64_t>(c.block_n, n_hint), min_block));
    c.block_k = static_cast<int>(std::max(std::min<std::int64_t>(c.block_k, k_hint), min_block));

    // _prune_exceeding_max_shared_mem_configs (only when enabled), on the scaled config.
    if (options.shared_memory_limit) {
      std::int64_t loads = static_cast<std::int64_t>(bytes) *
                           (static_cast<std::int64_t>(c.block_m) * c.block_k +
                            static_cast<std::int64_t>(c.block_n) * c.block_k);
      if (loads * c.num_stages + 128 > *options.shared_memory_limit) continue;
    }
    // _prune_reg_spill_configs (EXHAUSTIVE only), on the scaled blocks and the original warps.
    if (kind == SpaceKind::EXHAUSTIVE) {
      std::int64_t acc_regs = detail::ceil_div(static_cast<std::int64_t>(c.block_m) * c.block_n,
                                               static_cast<std::int64_t>(c.num_warps) * 32);
      if (acc_regs > 255) continue;
    }
    // _finalize_mm_configs: each warp computes at least a 16x16 tile.
    c.num_warps = std::min(c.num_warps, c.block_m * c.block_n / 256);
    if (used.insert(c).second) out.push_back(c);
  }
  return out;
}

}  // namespace gemmsift
