// The search spaces must equal what torch 2.11's Inductor yields (DESIGN.md contract 1). The
// fixture was captured from Inductor itself on the GPU machine by
// tools/gpu/capture_inductor_spaces.py.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gemmsift/error.h"
#include "gemmsift/space.h"
#include "problems.h"

using namespace gemmsift;

namespace {

nlohmann::json load_fixture() {
  std::ifstream in(std::string(GEMMSIFT_FIXTURES) + "/inductor_spaces_torch2.11.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

Problem make(std::int64_t m, std::int64_t n, std::int64_t k, DType dt = DType::bf16) {
  return test_util::make_problem(m, n, k, dt);
}

}  // namespace

TEST(Space, FixtureIsFromTorch211) {
  auto fx = load_fixture();
  EXPECT_EQ(fx["torch"].get<std::string>().rfind("2.11", 0), 0u);
  EXPECT_EQ(fx["heuristic_class"],
            "torch._inductor.template_heuristics.triton.CUDAMMTemplateConfigHeuristic");
  EXPECT_EQ(fx["max_autotune_prune_choices_based_on_shared_mem"], false);
  EXPECT_GE(fx["cases"].size(), 100u);
}

TEST(Space, EqualsInductorForEveryFixtureCase) {
  auto fx = load_fixture();
  int checked = 0;
  for (const auto& c : fx["cases"]) {
    Problem p = make(c["m"], c["n"], c["k"], c["dtype_size"] == 4 ? DType::fp32 : DType::bf16);
    SpaceKind kind = parse_space_kind(c["space"].get<std::string>());
    auto got = search_space(p, kind);
    const auto& want = c["configs"];
    ASSERT_EQ(got.size(), want.size()) << c["space"] << " " << p.to_string();
    for (std::size_t i = 0; i < got.size(); ++i) {
      const auto& w = want[i];
      Config expect{Template::triton_mm, w[0], w[1], w[2], w[3], w[4], w[5]};
      ASSERT_EQ(got[i], expect) << c["space"] << " " << p.to_string() << " index " << i
                                << ": got " << got[i].to_string() << ", want " << expect.to_string();
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(fx["cases"].size()));
}

TEST(Space, BaseListsHaveInductorsSizes) {
  EXPECT_EQ(base_configs(SpaceKind::DEFAULT).size(), 20u);
  EXPECT_EQ(base_configs(SpaceKind::EXHAUSTIVE).size(), 5u * 5 * 5 * 5 * 3);
  EXPECT_EQ(search_space(make(4096, 4096, 4096), SpaceKind::EXHAUSTIVE).size(), 1400u);
  EXPECT_EQ(search_space(make(4096, 4096, 4096), SpaceKind::DEFAULT).size(), 20u);
}

TEST(Space, TinyProblemsCollapseToFewConfigs) {
  auto s = search_space(make(1, 1, 1), SpaceKind::DEFAULT);
  ASSERT_EQ(s.size(), 5u);
  for (const auto& c : s) {
    EXPECT_EQ(c.block_m, 16);
    EXPECT_EQ(c.block_n, 16);
    EXPECT_EQ(c.block_k, 16);
    EXPECT_EQ(c.num_warps, 1);  // capped: a 16x16 tile is one warp's worth
  }
}

TEST(Space, OptionalSharedMemoryPrune) {
  Problem p = make(4096, 4096, 4096);
  SpaceOptions o;
  o.shared_memory_limit = 232448;  // H100 opt-in
  auto pruned = search_space(p, SpaceKind::EXHAUSTIVE, o);
  auto full = search_space(p, SpaceKind::EXHAUSTIVE);
  EXPECT_LT(pruned.size(), full.size());
  for (const auto& c : pruned) {
    EXPECT_LE(2LL * (c.block_m * c.block_k + c.block_n * c.block_k) * c.num_stages + 128, 232448);
  }
  // 128x256x128 with 3 stages needs 288 KiB + 128 bytes: gone. With 2 stages (192 KiB) it fits.
  Config big{Template::triton_mm, 128, 256, 128, 8, 3, 8};
  Config fits{Template::triton_mm, 128, 256, 128, 8, 2, 8};
  EXPECT_EQ(std::count(pruned.begin(), pruned.end(), big), 0);
  EXPECT_EQ(std::count(pruned.begin(), pruned.end(), fits), 1);
  EXPECT_EQ(std::count(full.begin(), full.end(), big), 1);
}

TEST(Space, InvalidProblemIsRejected) {
  EXPECT_THROW(search_space(make(0, 4, 4), SpaceKind::DEFAULT), Error);
  EXPECT_EQ(parse_space_kind("exhaustive"), SpaceKind::EXHAUSTIVE);
  try {
    parse_space_kind("ALL");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown search space 'ALL': expected DEFAULT or EXHAUSTIVE");
  }
}
