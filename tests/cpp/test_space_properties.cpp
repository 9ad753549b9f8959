// RapidCheck properties of the search spaces over random problems.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <unordered_set>

#include "core/strings.h"
#include "gemmsift/space.h"

using namespace gemmsift;

namespace {

rc::Gen<std::int64_t> dim() {
  // Log-uniform-ish: a power of two up to 2^20 plus a small offset, so odd sizes come up often.
  return rc::gen::map(rc::gen::pair(rc::gen::inRange(0, 21), rc::gen::inRange(-3, 4)),
                      [](std::pair<int, int> p) {
                        return std::max<std::int64_t>(1, (std::int64_t{1} << p.first) + p.second);
                      });
}

rc::Gen<Problem> problem() {
  return rc::gen::map(rc::gen::tuple(dim(), dim(), dim(), rc::gen::element(DType::bf16, DType::fp16, DType::fp32)),
                      [](std::tuple<std::int64_t, std::int64_t, std::int64_t, DType> t) {
                        Problem p;
                        std::tie(p.m, p.n, p.k, p.dtype) = t;
                        return p;
                      });
}

}  // namespace

RC_GTEST_PROP(SpaceProperties, ExhaustiveRespectsThePrunes, ()) {
  const Problem p = *problem();
  for (const auto& c : search_space(p, SpaceKind::EXHAUSTIVE)) {
    RC_ASSERT(detail::ceil_div(static_cast<std::int64_t>(c.block_m) * c.block_n, c.num_warps * 32) <= 255);
    RC_ASSERT(c.num_warps >= 1);
    RC_ASSERT(c.num_warps <= std::max(1, c.block_m * c.block_n / 256));
    RC_ASSERT(c.group_m == 8);
    RC_ASSERT(c.num_stages >= 1 && c.num_stages <= 5);
  }
}

RC_GTEST_PROP(SpaceProperties, NoDuplicates, ()) {
  const Problem p = *problem();
  for (SpaceKind kind : {SpaceKind::DEFAULT, SpaceKind::EXHAUSTIVE}) {
    auto s = search_space(p, kind);
    std::unordered_set<Config, ConfigHash> seen(s.begin(), s.end());
    RC_ASSERT(seen.size() == s.size());
  }
}

RC_GTEST_PROP(SpaceProperties, ScalingNeverExceedsNextPow2, ()) {
  const Problem p = *problem();
  const auto cap = [](std::int64_t d) { return std::max<std::int64_t>(detail::next_pow2(d), 16); };
  for (SpaceKind kind : {SpaceKind::DEFAULT, SpaceKind::EXHAUSTIVE}) {
    for (const auto& c : search_space(p, kind)) {
      RC_ASSERT(c.block_m <= cap(p.m));
      RC_ASSERT(c.block_n <= cap(p.n));
      RC_ASSERT(c.block_k <= cap(p.k));
      RC_ASSERT(detail::is_pow2(c.block_m) && detail::is_pow2(c.block_n) && detail::is_pow2(c.block_k));
      RC_ASSERT(c.block_m >= 16 && c.block_n >= 16 && c.block_k >= 16);
    }
  }
}

RC_GTEST_PROP(SpaceProperties, DefaultIsPartOfExhaustive, ()) {
  const Problem p = *problem();
  auto ex = search_space(p, SpaceKind::EXHAUSTIVE);
  std::unordered_set<Config, ConfigHash> all(ex.begin(), ex.end());
  for (const auto& c : search_space(p, SpaceKind::DEFAULT)) RC_ASSERT(all.count(c) == 1u);
}

RC_GTEST_PROP(SpaceProperties, DependsOnlyOnClampedPow2OfEachDim, ()) {
  Problem p = *problem();
  Problem q = p;
  auto clamp = [](std::int64_t d) { return std::min<std::int64_t>(detail::next_pow2(d), 256); };
  q.m = clamp(p.m);
  q.n = clamp(p.n);
  q.k = clamp(p.k);
  RC_ASSERT(search_space(p, SpaceKind::EXHAUSTIVE) == search_space(q, SpaceKind::EXHAUSTIVE));
  RC_ASSERT(search_space(p, SpaceKind::DEFAULT) == search_space(q, SpaceKind::DEFAULT));
}
