// gemmsift: the search spaces, identical to PyTorch Inductor's (torch 2.11, CUDA, mm/addmm/bmm).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"

namespace gemmsift {

// DEFAULT: Inductor's 20-entry mm list. EXHAUSTIVE: blocks 16..256 cubed x stages 1..5 x warps
// {2,4,8} x group_m 8.
enum class SpaceKind : std::uint8_t { DEFAULT, EXHAUSTIVE };

std::string_view to_string(SpaceKind) noexcept;
SpaceKind parse_space_kind(std::string_view);

struct SpaceOptions {
  // Inductor's optional shared-memory prune (torch._inductor.config.
  // max_autotune_prune_choices_based_on_shared_mem, off by default in torch 2.11): drop configs
  // whose stages*(BM*BK+BN*BK)*dtype_bytes + 128 exceeds this many bytes. Empty: no prune.
  std::optional<std::int64_t> shared_memory_limit;
};

// The configs Inductor's CUDAMMTemplateConfigHeuristic yields for this problem, in its order:
// each base config scaled to the problem (blocks capped at max(next_pow2(dim), 16)), the
// register-spill prune in EXHAUSTIVE (ceil(BM*BN/(warps*32)) > 255 is dropped, on the
// uncapped warps), num_warps capped at BM*BN/256, duplicates dropped (first one kept).
std::vector<Config> search_space(const Problem& problem, SpaceKind kind,
                                 const SpaceOptions& options = {});

// The unscaled base lists, as in torch/_inductor/template_heuristics/triton.py.
std::span<const Config> base_configs(SpaceKind kind);

}  // namespace gemmsift
