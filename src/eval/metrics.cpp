#include "gemmsift/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "gemmsift/selector.h"
#include "gemmsift/space.h"

namespace gemmsift {

namespace {

constexpr double kFailedRatio = 0.01;  // geometric mean stand-in for "nothing proposed ran"
constexpr double kNotRun = std::numeric_limits<double>::infinity();  // the time of a list none of which ran

using TimeMap = std::unordered_map<Config, double, ConfigHash>;

TimeMap times_of(const ProblemData& p) {
  TimeMap t;
  for (const auto& r : p.rows) {
    t[r.config] = r.time_us_min ? *r.time_us_min : std::numeric_limits<double>::infinity();
  }
  return t;
}

struct Accumulator {
  double log_sum = 0;
  double worst = std::numeric_limits<double>::infinity();
  std::size_t hits = 0, n = 0;
  void add(double best, double got) {
    double ratio = std::isfinite(got) ? best / got : 0.0;
    log_sum += std::log(std::max(ratio, kFailedRatio));
    worst = std::min(worst, ratio);
    hits += got <= best * 1.02;
    ++n;
  }
  QualityAtK result(int k) const {
    QualityAtK q;
    q.k = k;
    q.problems = n;
    if (n) {
      q.quality = std::exp(log_sum / static_cast<double>(n));
      q.worst = worst;
      q.hit = static_cast<double>(hits) / static_cast<double>(n);
    }
    return q;
  }
};

double best_of_first(const TimeMap& times, const std::vector<Config>& proposals, std::size_t k) {
  double t = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < proposals.size() && i < k; ++i) {
    auto it = times.find(proposals[i]);
    if (it != times.end()) t = std::min(t, it->second);
  }
  return t;
}

}  // namespace

std::vector<const ProblemData*> complete_problems(const Dataset& data) {
  std::vector<const ProblemData*> out;
  for (const auto& pd : data.problems) {
    if (!pd.best_us()) continue;
    auto space = search_space(pd.problem, SpaceKind::EXHAUSTIVE);
    TimeMap t = times_of(pd);
    bool all = std::all_of(space.begin(), space.end(), [&](const Config& c) { return t.count(c) > 0; });
    if (all) out.push_back(&pd);
  }
  return out;
}

namespace {

// The statistics of a method whose best time at each k, for a problem, `times_at` gives.
MethodQuality evaluate_with(const std::string& method, const std::vector<const ProblemData*>& problems,
                            const std::vector<int>& ks,
                            const std::function<std::vector<double>(const ProblemData&, const TimeMap&)>& times_at) {
  std::vector<Accumulator> acc(ks.size());
  std::vector<std::size_t> not_worse(ks.size(), 0);
  for (const ProblemData* pd : problems) {
    const double best = *pd->best_us();
    const TimeMap times = times_of(*pd);
    const std::vector<double> t = times_at(*pd, times);
    const double t_default = pd->fastest_of(search_space(pd->problem, SpaceKind::DEFAULT)).value_or(kNotRun);
    for (std::size_t i = 0; i < ks.size(); ++i) {
      acc[i].add(best, t[i]);
      not_worse[i] += t[i] <= t_default;
    }
  }
  MethodQuality q{method, {}};
  for (std::size_t i = 0; i < ks.size(); ++i) {
    q.at.push_back(acc[i].result(ks[i]));
    q.at.back().at_least_default =
        problems.empty() ? 0 : static_cast<double>(not_worse[i]) / static_cast<double>(problems.size());
  }
  return q;
}

}  // namespace

MethodQuality evaluate(const std::string& method, const std::vector<const ProblemData*>& problems,
                       const Proposer& propose, const std::vector<int>& ks) {
  return evaluate_with(method, problems, ks, [&](const ProblemData& pd, const TimeMap& times) {
    const auto proposals = propose(pd);
    std::vector<double> t;
    for (int k : ks) t.push_back(best_of_first(times, proposals, static_cast<std::size_t>(k)));
    return t;
  });
}

MethodQuality evaluate_at_each_k(const std::string& method, const std::vector<const ProblemData*>& problems,
                                 const PicksAtK& picks, const std::vector<int>& ks) {
  return evaluate_with(method, problems, ks, [&](const ProblemData& pd, const TimeMap& times) {
    std::vector<double> t;
    for (int k : ks) {
      const auto got = picks(pd, k);
      t.push_back(best_of_first(times, got, got.size()));
    }
    return t;
  });
}

Proposer model_proposer(const PerformanceModel& model) {
  return [&model](const ProblemData& pd) {
    auto space = search_space(pd.problem, SpaceKind::EXHAUSTIVE);
    auto pred = model.estimate(pd.problem, space);
    std::vector<std::size_t> order(space.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto key = [&](std::size_t i) { return std::isnan(pred[i]) ? std::numeric_limits<double>::infinity() : pred[i]; };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
    std::vector<Config> out;
    out.reserve(order.size());
    for (std::size_t i : order) out.push_back(space[i]);
    return out;
  };
}

PicksAtK model_picks_at_k(const PerformanceModel& model, int anchors) {
  // The model's ranking of the last problem asked, so that each k does not score the space again.
  struct Last {
    std::optional<Problem> problem;
    std::vector<Config> ranked;
    std::unordered_set<Config, ConfigHash> default_list;
  };
  auto last = std::make_shared<Last>();
  Proposer rank = model_proposer(model);
  return [rank, last, anchors](const ProblemData& pd, int k) {
    if (!last->problem || !(*last->problem == pd.problem)) {
      last->ranked = rank(pd);
      last->default_list.clear();
      for (const Config& c : search_space(pd.problem, SpaceKind::DEFAULT)) last->default_list.insert(c);
      last->problem = pd.problem;
    }
    std::vector<Config> out;
    for (const Pick& p : model_picks(last->ranked, static_cast<std::size_t>(k), anchors,
                                     [&](const Config& c) { return last->default_list.count(c) > 0; })) {
      out.push_back(last->ranked[p.index]);
    }
    return out;
  };
}

MethodQuality evaluate_default_list(const std::vector<const ProblemData*>& problems) {
  Accumulator acc;
  double configs = 0;
  for (const ProblemData* pd : problems) {
    auto list = search_space(pd->problem, SpaceKind::DEFAULT);
    configs += static_cast<double>(list.size());
    acc.add(*pd->best_us(), pd->fastest_of(list).value_or(kNotRun));
  }
  QualityAtK q = acc.result(0);
  q.mean_configs = problems.empty() ? 0 : configs / static_cast<double>(problems.size());
  return MethodQuality{"DEFAULT list (all)", {q}};
}

MethodQuality evaluate_random(const std::vector<const ProblemData*>& problems, const std::vector<int>& ks,
                              int draws, unsigned seed) {
  std::vector<QualityAtK> sum(ks.size());
  for (int d = 0; d < draws; ++d) {
    std::mt19937_64 rng(seed * 1000003u + static_cast<unsigned>(d));
    auto q = evaluate("random", problems,
                      [&](const ProblemData& pd) {
                        auto space = search_space(pd.problem, SpaceKind::EXHAUSTIVE);
                        std::shuffle(space.begin(), space.end(), rng);
                        return space;
                      },
                      ks);
    for (std::size_t i = 0; i < ks.size(); ++i) {
      sum[i].k = ks[i];
      sum[i].problems = q.at[i].problems;
      sum[i].quality += q.at[i].quality / draws;
      sum[i].worst += q.at[i].worst / draws;
      sum[i].hit += q.at[i].hit / draws;
    }
  }
  return MethodQuality{fmt::format("random ({} draws)", draws), sum};
}

nlohmann::json to_json(const MethodQuality& q) {
  nlohmann::json at = nlohmann::json::array();
  for (const auto& a : q.at) {
    nlohmann::json j = {{"k", a.k}, {"quality", a.quality}, {"worst", a.worst}, {"hit", a.hit}, {"problems", a.problems}};
    if (a.mean_configs > 0) j["mean_configs"] = a.mean_configs;
    if (!std::isnan(a.at_least_default)) j["at_least_default"] = a.at_least_default;
    at.push_back(std::move(j));
  }
  return {{"method", q.method}, {"at", at}};
}

}  // namespace gemmsift
