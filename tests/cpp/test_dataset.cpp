// Datasets and the evaluation metrics, on small hand-made data with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "gemmsift/dataset.h"
#include "gemmsift/error.h"
#include "gemmsift/metrics.h"
#include "stages_model.h"

using namespace gemmsift;

namespace {

const std::string kData = std::string(GEMMSIFT_SOURCE_DIR) + "/tests/data";

using test_util::StagesModel;

}  // namespace

TEST(Dataset, LoadsRowsProblemsAndSidecar) {
  auto d = load_dataset(kData + "/tiny.csv");
  EXPECT_EQ(d.rows(), 12u);
  ASSERT_EQ(d.problems.size(), 3u);
  EXPECT_EQ(d.meta["sm_count"], 132);
  const auto& p2 = d.problems[1];
  EXPECT_EQ(p2.problem.m, 2);
  EXPECT_EQ(p2.problem.layout, Layout::NT);
  EXPECT_EQ(p2.problem.device, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(p2.rows[2].status, RowStatus::launch_error);
  EXPECT_FALSE(p2.rows[2].timed());
  EXPECT_EQ(p2.rows[2].note, "OutOfResources: out of resource: shared memory, Required: 1, Hardware limit: 0");
  EXPECT_DOUBLE_EQ(*p2.best_us(), 10.0);
  EXPECT_EQ(d.problems[2].rows[1].status, RowStatus::abandoned);
  EXPECT_DOUBLE_EQ(*d.problems[2].rows[1].time_us_min, 900.5);
}

TEST(Dataset, CheckPassesGoodData) {
  auto c = check_dataset(kData + "/tiny.csv");
  EXPECT_TRUE(c.ok()) << (c.errors.empty() ? "" : c.errors[0]);
  EXPECT_EQ(c.rows, 12u);
  EXPECT_EQ(c.problems, 3u);
}

TEST(Dataset, CheckRefusesAnUnknownKernelSizes) {
  const auto dir = std::filesystem::temp_directory_path() / ("gemmsift_kernel_sizes_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kData + "/tiny.csv", dir / "tiny.csv", std::filesystem::copy_options::overwrite_existing);
  auto meta = load_dataset(kData + "/tiny.csv").meta;
  for (const auto& [value, ok] : std::vector<std::pair<nlohmann::json, bool>>{
           {"literal", true}, {"arguments", true}, {"literally", false}, {1, false}}) {
    meta["kernel_sizes"] = value;
    std::ofstream(dir / "tiny.meta.json") << meta.dump();
    auto c = check_dataset((dir / "tiny.csv").string());
    if (ok) {
      EXPECT_TRUE(c.ok()) << value << ": " << (c.errors.empty() ? "" : c.errors[0]);
    } else {
      ASSERT_EQ(c.errors.size(), 1u) << value;
      EXPECT_EQ(c.errors[0], (dir / "tiny.meta.json").string() + ": kernel_sizes is " + value.dump() +
                                 ", not \"arguments\" or \"literal\"");
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Dataset, CheckFindsEveryProblem) {
  auto c = check_dataset(kData + "/bad_floor.csv");
  ASSERT_EQ(c.errors.size(), 4u);
  const std::string f = kData + "/bad_floor.csv";
  EXPECT_EQ(c.errors[0], f + ": mm bf16 NT 4096x4096x4096 on NVIDIA H100 80GB HBM3 config 128x128x64 g8 s3 w4: 1 us is below the physical floor of 138.911 us on H100-SXM");
  EXPECT_EQ(c.errors[1], f + ": mm bf16 NT 4096x4096x4096 on NVIDIA H100 80GB HBM3 config 128x128x64 g8 s3 w4 appears twice");
  EXPECT_EQ(c.errors[2], f + ": mm bf16 NT 64x64x64 on NVIDIA H200 was measured on 'NVIDIA H200', the sidecar says 'NVIDIA H100 80GB HBM3'");
  EXPECT_EQ(c.errors[3], f + ": mm bf16 NT 64x64x64 on NVIDIA H200 config 64x64x32 g8 s2 w4: median 4 us below the minimum 5 us");
  auto s = check_dataset(kData + "/bad_status.csv");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], kData + "/bad_status.csv:2: field 'time_us_min': a launch_error row has no time, got '5.000'");
  auto h = check_dataset(kData + "/bad_header.csv");
  ASSERT_EQ(h.errors.size(), 1u);
  EXPECT_EQ(h.errors[0].rfind(kData + "/bad_header.csv:1: header is not gemmsift's dataset header", 0), 0u);
  try {
    load_dataset(kData + "/none.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
  }
}

TEST(Dataset, FastestOfGivenConfigsCountsOnlyTheirTimedRows) {
  ProblemData pd;
  Config a, b, c, d;
  a.block_m = 16, b.block_m = 32, c.block_m = 64, d.block_m = 128;
  pd.rows = {Measurement{a, RowStatus::ok, 5.0, 5.0, 10, ""}, Measurement{b, RowStatus::abandoned, 40.0, 40.0, 2, ""},
             Measurement{c, RowStatus::launch_error, std::nullopt, std::nullopt, 0, ""},
             Measurement{b, RowStatus::ok, 30.0, 30.0, 10, ""}};
  EXPECT_EQ(pd.fastest_of(std::vector<Config>{b, c}), 30.0);  // a (5 us) is not among them
  EXPECT_EQ(pd.fastest_of(std::vector<Config>{a, b}), 5.0);
  EXPECT_FALSE(pd.fastest_of(std::vector<Config>{c, d}).has_value());  // failed or never measured
  EXPECT_FALSE(pd.fastest_of({}).has_value());
}

TEST(Metrics, CompleteProblemsNeedTheWholeSpace) {
  auto d = load_dataset(kData + "/tiny.csv");
  auto complete = complete_problems(d);
  ASSERT_EQ(complete.size(), 2u);  // 4096^3 has 2 of its 1400 configs
  EXPECT_EQ(complete[0]->problem.m, 1);
  EXPECT_EQ(complete[1]->problem.m, 2);
}

TEST(Metrics, KnownAnswers) {
  auto d = load_dataset(kData + "/tiny.csv");
  auto problems = complete_problems(d);
  StagesModel model;
  auto q = evaluate("stages", problems, model_proposer(model), {1, 2, 3, 5});
  // Problem 1x1x1: stage 1 is the fastest (10 us): ratio 1 at every k.
  // Problem 2x2x2: times 50, 40, (fails), 20, 10 for stages 1..5: the best (10) is stage 5.
  //   k=1: 10/50 = 0.2; k=2: 10/40 = 0.25; k=3: stage 3 failed, still 0.25; k=5: 1.
  ASSERT_EQ(q.at.size(), 4u);
  EXPECT_NEAR(q.at[0].quality, std::sqrt(1.0 * 0.2), 1e-12);
  EXPECT_NEAR(q.at[0].worst, 0.2, 1e-12);
  EXPECT_NEAR(q.at[0].hit, 0.5, 1e-12);
  EXPECT_NEAR(q.at[1].quality, std::sqrt(0.25), 1e-12);
  EXPECT_NEAR(q.at[2].quality, std::sqrt(0.25), 1e-12);
  EXPECT_NEAR(q.at[3].quality, 1.0, 1e-12);
  EXPECT_NEAR(q.at[3].hit, 1.0, 1e-12);
  EXPECT_EQ(q.at[3].problems, 2u);
  // DEFAULT for these problems is the same 5 configs: finds the best everywhere.
  auto def = evaluate_default_list(problems);
  ASSERT_EQ(def.at.size(), 1u);
  EXPECT_NEAR(def.at[0].quality, 1.0, 1e-12);
  EXPECT_NEAR(def.at[0].mean_configs, 5.0, 1e-12);
  // Random k=5 takes the whole space: always the best.
  auto rnd = evaluate_random(problems, {5}, 4, 1);
  EXPECT_NEAR(rnd.at[0].quality, 1.0, 1e-12);
}

TEST(Metrics, NothingRanCountsAsOnePercentInTheMean) {
  auto d = load_dataset(kData + "/tiny.csv");
  auto problems = complete_problems(d);
  // Propose only the failed config for 2x2x2 (and the best for 1x1x1).
  auto q = evaluate("failing", problems,
                    [](const ProblemData& pd) {
                      return std::vector<Config>{Config{Template::triton_mm, 16, 16, 16, 8, pd.problem.m == 1 ? 1 : 3, 1}};
                    },
                    {1});
  EXPECT_NEAR(q.at[0].quality, std::sqrt(1.0 * 0.01), 1e-12);
  EXPECT_EQ(q.at[0].worst, 0.0);
}

TEST(Metrics, PicksAskedForEachKNeedNotBePrefixes) {
  auto d = load_dataset(kData + "/tiny.csv");
  auto problems = complete_problems(d);
  // k = 1: stage 5 (2x2x2's best, 10 us; 50 us on 1x1x1, whose best is 10); k = 2: stages 1 and 2.
  auto q = evaluate_at_each_k("per k", problems,
                              [](const ProblemData&, int k) {
                                auto c = [](int s) { return Config{Template::triton_mm, 16, 16, 16, 8, s, 1}; };
                                return k == 1 ? std::vector<Config>{c(5)} : std::vector<Config>{c(1), c(2)};
                              },
                              {1, 2});
  // 1x1x1: stage s runs 10*s us. k=1: 10/50 = 0.2; k=2: 1. 2x2x2: k=1: 1; k=2: 10/40 = 0.25.
  EXPECT_NEAR(q.at[0].quality, std::sqrt(0.2 * 1.0), 1e-12);
  EXPECT_NEAR(q.at[1].quality, std::sqrt(1.0 * 0.25), 1e-12);
  EXPECT_NEAR(q.at[0].worst, 0.2, 1e-12);
  // With no anchors the selector's picks are the model's top k: the same figures as its ranking.
  StagesModel model;
  auto plain = evaluate("stages", problems, model_proposer(model), {1, 2, 3, 5});
  auto picked = evaluate_at_each_k("stages", problems, model_picks_at_k(model, 0), {1, 2, 3, 5});
  for (std::size_t i = 0; i < plain.at.size(); ++i) {
    EXPECT_EQ(plain.at[i].quality, picked.at[i].quality);
    EXPECT_EQ(plain.at[i].at_least_default, picked.at[i].at_least_default);
  }
}
