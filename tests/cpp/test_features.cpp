#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "gemmsift/error.h"
#include "gemmsift/features.h"
#include "problems.h"

using namespace gemmsift;

namespace {
Problem make(std::int64_t m, std::int64_t n, std::int64_t k, DType dt = DType::bf16) {
  return test_util::make_problem(m, n, k, dt);
}
}  // namespace

TEST(Features, Proposal12IsTheProposalsList) {
  auto s = FeatureSchema::named("proposal12");
  std::vector<std::string> names;
  for (const auto& f : s.specs()) {
    names.push_back(f.name);
    EXPECT_EQ(f.transform, Transform::log);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dtype_bits", "m", "n", "k", "total_gb", "total_gflop",
                                             "flop_per_byte", "block_k", "block_m", "block_n",
                                             "num_stages", "num_warps"}));
}

TEST(Features, RawValuesMatchTheProposalsFormulas) {
  auto s = FeatureSchema::named("proposal12");
  Problem p = make(1024, 512, 256, DType::fp16);
  Config c{Template::triton_mm, 64, 128, 32, 8, 3, 4};
  FeatureMatrix x(1, 12);
  s.compute(p, std::span<const Config>(&c, 1), x);
  const double gb = (1024.0 * 256 + 256.0 * 512 + 1024.0 * 512) * 2 / 1e9;
  const double gflop = 2.0 * 1024 * 512 * 256 / 1e9;
  const double want[] = {16, 1024, 512, 256, gb, gflop, gflop / gb, 32, 64, 128, 3, 4};
  for (int i = 0; i < 12; ++i) {
    EXPECT_NEAR(x(0, i), std::log(want[i]), 1e-5) << s.specs()[static_cast<std::size_t>(i)].name;
  }
}

TEST(Features, FitAndStandardize) {
  auto s = FeatureSchema::named("proposal12");
  std::vector<Config> cs = {{Template::triton_mm, 32, 32, 16, 8, 1, 2},
                            {Template::triton_mm, 64, 64, 32, 8, 2, 4},
                            {Template::triton_mm, 128, 128, 64, 8, 3, 8}};
  Problem p = make(4096, 4096, 4096);
  FeatureMatrix x(3, 12);
  s.compute(p, cs, x);
  s.fit(x);
  ASSERT_TRUE(s.fitted());
  // block_m column: log 32, log 64, log 128 -> mean log 64, sample std log 2.
  EXPECT_NEAR(s.mean()[8], std::log(64.0), 1e-5);
  EXPECT_NEAR(s.stddev()[8], std::log(2.0), 1e-5);
  // A constant column (dtype bits) gets std 1, not 0.
  EXPECT_FLOAT_EQ(s.stddev()[0], 1.0f);
  auto z = s.encode(p, cs);
  EXPECT_NEAR(z(0, 8), -1.0, 1e-5);
  EXPECT_NEAR(z(2, 8), 1.0, 1e-5);
}

TEST(Features, JsonRoundTripKeepsNormalisation) {
  auto s = FeatureSchema::named("gemmsift1", 114);
  std::vector<Config> cs = {{Template::triton_mm, 32, 32, 16, 8, 1, 2},
                            {Template::triton_mm, 64, 128, 32, 8, 4, 4}};
  FeatureMatrix x(2, static_cast<Eigen::Index>(s.size()));
  s.compute(make(100, 200, 300), cs, x);
  s.fit(x);
  auto back = FeatureSchema::from_json(s.to_json());
  EXPECT_TRUE(back == s);
  EXPECT_EQ(back.sm_count(), 114);
}

TEST(Features, RicherFeatures) {
  FeatureSchema s("t", {{"tiles", Transform::none}, {"waves", Transform::none},
                        {"tile_efficiency", Transform::none}, {"even_k", Transform::none},
                        {"b_transposed", Transform::none}}, 132);
  Problem p = make(1000, 1000, 100);
  p.layout = Layout::NT;
  Config c{Template::triton_mm, 128, 128, 64, 8, 3, 4};
  FeatureMatrix x(1, 5);
  s.compute(p, std::span<const Config>(&c, 1), x);
  EXPECT_FLOAT_EQ(x(0, 0), 64);  // 8 x 8 tiles
  EXPECT_FLOAT_EQ(x(0, 1), 64.0f / 132);
  EXPECT_NEAR(x(0, 2), (1000.0 * 1000 * 100) / (64.0 * 128 * 128 * 128), 1e-6);
  EXPECT_FLOAT_EQ(x(0, 3), 0);
  EXPECT_FLOAT_EQ(x(0, 4), 1);
}

TEST(Features, UnknownNamesAreListed) {
  try {
    FeatureSchema s("t", {{"warp_count", Transform::log}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_EQ(std::string(e.what()).rfind("unknown feature 'warp_count': known features are dtype_bits, m, n, k", 0), 0u);
  }
  EXPECT_THROW(FeatureSchema::named("proposal13"), Error);
}

TEST(Features, AlignmentFollowsTheLayoutsLeadingStrides) {
  FeatureSchema s("t", {{"m_div16", Transform::none}, {"n_div16", Transform::none},
                        {"k_div16", Transform::none}, {"a_lead_div16", Transform::none},
                        {"b_lead_div16", Transform::none}, {"a_hint", Transform::none},
                        {"b_hint", Transform::none}}, 132);
  Config c{Template::triton_mm, 64, 128, 32, 8, 3, 4};
  auto row = [&](std::int64_t m, std::int64_t n, std::int64_t k, Layout l) {
    Problem p = make(m, n, k);
    p.layout = l;
    FeatureMatrix x(1, 7);
    s.compute(p, std::span<const Config>(&c, 1), x);
    return std::vector<float>(x.data(), x.data() + 7);
  };
  // M aligned, N and K not. NN: A [M,K] stride K, B [K,N] stride N: both unaligned.
  EXPECT_EQ(row(1024, 1000, 1000, Layout::NN), (std::vector<float>{1, 0, 0, 0, 0, 1, 1}));
  // NT (nn.Linear): B stored [N,K], stride K.
  EXPECT_EQ(row(1024, 1008, 1000, Layout::NT), (std::vector<float>{1, 1, 0, 0, 0, 1, 1}));
  EXPECT_EQ(row(1000, 1000, 1024, Layout::NT), (std::vector<float>{0, 0, 1, 1, 1, 1, 1}));
  // TN: A stored [K,M], stride M.
  EXPECT_EQ(row(1024, 1000, 1000, Layout::TN), (std::vector<float>{1, 0, 0, 1, 0, 1, 1}));
  // Hints: M below BLOCK_M, N below BLOCK_N, or K == 1 turn them off.
  EXPECT_EQ(row(32, 64, 16, Layout::NN), (std::vector<float>{1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(row(64, 128, 1, Layout::NN), (std::vector<float>{1, 1, 0, 0, 1, 0, 0}));
}

TEST(Features, Gemmsift2ExtendsGemmsift1) {
  auto g1 = FeatureSchema::named("gemmsift1", 132), g2 = FeatureSchema::named("gemmsift2", 132);
  ASSERT_EQ(g2.size(), g1.size() + 7);
  Problem p = make(1000, 3000, 4100);
  p.layout = Layout::NN;
  std::vector<Config> cs = {{Template::triton_mm, 32, 32, 16, 8, 1, 2},
                            {Template::triton_mm, 128, 64, 64, 8, 4, 4}};
  FeatureMatrix x1(2, static_cast<Eigen::Index>(g1.size())), x2(2, static_cast<Eigen::Index>(g2.size()));
  g1.compute(p, cs, x1);
  g2.compute(p, cs, x2);
  EXPECT_TRUE(x2.leftCols(static_cast<Eigen::Index>(g1.size())) == x1);
  EXPECT_EQ(x2(1, static_cast<Eigen::Index>(g1.size()) + 2), 0.0f);  // k_div16: 4100 % 16 = 4
}
