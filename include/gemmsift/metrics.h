// gemmsift: selector quality as EVALUATION.md defines it.
//
// For each problem with a full measurement: t* = the best measured time; a method proposes k
// configs; t_k = the best measured time among them (configs that failed count as never finishing);
// quality@k = geometric mean over problems of t*/t_k, worst@k = the minimum, hit@k = the share of
// problems whose proposals hold a config within 2% of t*.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gemmsift/dataset.h"
#include "gemmsift/model.h"

namespace gemmsift {

struct QualityAtK {
  int k = 0;
  double quality = 0;  // geometric mean of t*/t_k
  double worst = 0;
  double hit = 0;      // share within 2% of t*
  std::size_t problems = 0;
  double mean_configs = 0;  // configs benchmarked per problem, on average (the DEFAULT list's k)
  // Share of problems where the best of these k is at least as fast as the best of Inductor's
  // whole DEFAULT list (evaluate() only; NaN otherwise).
  double at_least_default = std::numeric_limits<double>::quiet_NaN();
};

struct MethodQuality {
  std::string method;
  std::vector<QualityAtK> at;  // one per k asked
};

// Proposes configs for a problem, best first (at least max k of them when it can).
using Proposer = std::function<std::vector<Config>(const ProblemData& problem)>;

// Only problems whose every config of the pruned EXHAUSTIVE space has a row count: the oracle
// needs the whole space.
std::vector<const ProblemData*> complete_problems(const Dataset& data);

MethodQuality evaluate(const std::string& method, const std::vector<const ProblemData*>& problems,
                       const Proposer& propose, const std::vector<int>& ks);

// Ranking by a performance model (its top k).
Proposer model_proposer(const PerformanceModel& model);

// The k configs to benchmark for a problem, asked for each k separately: the picks for k need
// not be the first k of the picks for a larger k (DEFAULT anchors).
using PicksAtK = std::function<std::vector<Config>(const ProblemData& problem, int k)>;

MethodQuality evaluate_at_each_k(const std::string& method, const std::vector<const ProblemData*>& problems,
                                 const PicksAtK& picks, const std::vector<int>& ks);

// The selector's picks with a performance model and `anchors` DEFAULT anchors (model_picks in
// selector.h): the model's top k - a and the a DEFAULT-list configs it ranks highest.
PicksAtK model_picks_at_k(const PerformanceModel& model, int anchors);

// Inductor's DEFAULT list, all of it, evaluated at k = its size (per problem), reported as one
// entry with k = 0 and mean_configs = the list's mean size.
MethodQuality evaluate_default_list(const std::vector<const ProblemData*>& problems);

// Random k configs of the space: the mean over `draws` seeded draws of each statistic.
MethodQuality evaluate_random(const std::vector<const ProblemData*>& problems, const std::vector<int>& ks,
                              int draws = 20, unsigned seed = 0);

nlohmann::json to_json(const MethodQuality& q);

// The tradeoff graph as an SVG document: quality@k against k (log scale); a method evaluated at
// one list (k = 0, like the DEFAULT list) is a triangle at its mean size.
std::string tradeoff_svg(const std::vector<MethodQuality>& methods, const std::string& title);

}  // namespace gemmsift
