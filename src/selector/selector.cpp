#include "gemmsift/selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

BenchmarkSpace BenchmarkSpace::top(int k) {
  if (k < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("benchmark space: k must be at least 1, got {}", k));
  }
  return {Kind::top_k, k};
}

BenchmarkSpace BenchmarkSpace::parse(std::string_view text) {
  std::string v = detail::lower(detail::trim(text));
  if (v == "same") return same();
  if (v == "default") return default_count();
  if (v == "fast") return top(1);
  if (auto k = detail::parse_int<int>(v); k && *k >= 1) return top(*k);
  throw Error(ErrorCode::invalid_argument,
              fmt::format("benchmark space '{}': expected SAME, DEFAULT, fast or a positive integer",
                          text));
}

std::string BenchmarkSpace::to_string() const {
  switch (kind) {
    case Kind::same: return "SAME";
    case Kind::default_count: return "DEFAULT";
    case Kind::top_k: return std::to_string(k);
  }
  return "?";
}

std::string_view to_string(Source s) noexcept {
  switch (s) {
    case Source::lut: return "lut";
    case Source::model: return "model";
    case Source::anchor: return "anchor";
    case Source::space: return "space";
  }
  return "?";
}

std::vector<Pick> model_picks(const std::vector<Config>& ranked, std::size_t k, int anchors,
                              const std::function<bool(const Config&)>& in_default,
                              const std::function<bool(const Config&)>& taken) {
  const std::size_t a = k == 0 ? 0 : std::min(static_cast<std::size_t>(std::max(anchors, 0)), k - 1);
  std::vector<Pick> out;
  std::vector<bool> used(ranked.size(), false);
  auto take = [&](std::size_t want, bool anchor, auto&& ok) {
    for (std::size_t i = 0; i < ranked.size() && want > 0; ++i) {
      if (used[i] || (taken && taken(ranked[i])) || !ok(ranked[i])) continue;
      used[i] = true;
      out.push_back({i, anchor});
      --want;
    }
  };
  auto any = [](const Config&) { return true; };
  take(k - a, false, any);
  take(a, true, [&](const Config& c) { return in_default(c); });
  take(k - out.size(), false, any);  // the DEFAULT list ran out
  return out;
}

Selector::Selector(std::shared_ptr<const PerformanceModel> model, SelectOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (!model_ && options_.benchmark_space.kind != BenchmarkSpace::Kind::same) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("benchmark space {} needs a model", options_.benchmark_space.to_string()));
  }
  if (options_.anchors < 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("anchors: expected a count of at least 0, got {}", options_.anchors));
  }
  if (model_) model_meta_ = model_->metadata();
}

void Selector::warn_if_stale(const Problem& problem) const {
  if (!model_ || (problem.device.empty() && options_.triton_version.empty())) return;
  for (const auto& why : model_staleness(model_meta_, problem.device, options_.triton_version)) {
    warn_once("select|" + model_->name() + "|" + why,
              fmt::format("model {}: {}; its choices may be off (retrain, or check with gemmsift drift)", model_->name(), why));
  }
}

void Selector::set_pinned(std::shared_ptr<const PinnedConfigs> pinned) { pinned_ = std::move(pinned); }

Selection Selector::select(const Problem& problem) const {
  problem.validate();
  warn_if_stale(problem);
  Selection sel;
  sel.problem = problem;
  const auto space = search_space(problem, options_.search_space, options_.space_options);
  // Inductor's DEFAULT list: its size is reported, and its configs are the anchors' pool.
  const auto default_list = options_.search_space == SpaceKind::DEFAULT
                                ? space
                                : search_space(problem, SpaceKind::DEFAULT, options_.space_options);
  sel.default_count = default_list.size();

  std::unordered_set<Config, ConfigHash> chosen;
  if (pinned_) {
    for (auto& p : pinned_->pinned(problem)) {
      if (!chosen.insert(p.config).second) continue;
      Candidate c;
      c.config = p.config;
      c.source = Source::lut;
      c.origin = std::move(p.origin);
      sel.candidates.push_back(std::move(c));
    }
  }
  const std::size_t pinned_count = sel.candidates.size();

  const auto& bs = options_.benchmark_space;
  if (pinned_count > 0 && options_.pinned_only) {
    sel.search_space_size = space.size();
  } else if (bs.kind == BenchmarkSpace::Kind::same) {
    for (const Config& cfg : space) {
      if (!chosen.insert(cfg).second) continue;
      Candidate c;
      c.config = cfg;
      c.source = Source::space;
      sel.candidates.push_back(std::move(c));
    }
    sel.search_space_size = space.size();
  } else {
    const std::size_t k =
        bs.kind == BenchmarkSpace::Kind::top_k ? static_cast<std::size_t>(bs.k) : sel.default_count;
    sel.model = model_->name();
    sel.search_space_size = space.size();
    const std::vector<double> pred = model_->estimate(problem, space);
    if (pred.size() != space.size()) {
      throw Error(ErrorCode::internal,
                  fmt::format("model {} returned {} predictions for {} configs", sel.model,
                              pred.size(), space.size()));
    }
    std::vector<std::size_t> order(space.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // NaN sorts last, ties keep Inductor's order.
    auto key = [&](std::size_t i) { return std::isnan(pred[i]) ? std::numeric_limits<double>::infinity() : pred[i]; };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
    // Rank of every config, so pinned configs can report theirs too.
    std::vector<int> rank(space.size());
    for (std::size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int>(r);
    for (std::size_t i = 0; i < pinned_count; ++i) {
      auto& c = sel.candidates[i];
      auto it = std::find(space.begin(), space.end(), c.config);
      if (it != space.end()) {
        auto idx = static_cast<std::size_t>(it - space.begin());
        c.model_rank = rank[idx];
        c.predicted_us = pred[idx];
      }
    }
    std::vector<Config> ranked;
    ranked.reserve(order.size());
    for (std::size_t i : order) ranked.push_back(space[i]);
    const int anchors = options_.search_space == SpaceKind::EXHAUSTIVE ? options_.anchors : 0;
    std::unordered_set<Config, ConfigHash> in_default;  // the anchors' pool: only asked for with anchors
    if (anchors > 0) in_default.insert(default_list.begin(), default_list.end());
    const auto picks = model_picks(ranked, k, anchors, [&](const Config& c) { return in_default.count(c) > 0; },
                                   [&](const Config& c) { return chosen.count(c) > 0; });
    for (const Pick& p : picks) {
      const std::size_t i = order[p.index];
      chosen.insert(space[i]);
      Candidate c;
      c.config = space[i];
      c.source = p.anchor ? Source::anchor : Source::model;
      c.model_rank = static_cast<int>(p.index);
      c.predicted_us = pred[i];
      c.origin = sel.model;
      sel.candidates.push_back(std::move(c));
    }
  }
  sel.skip_benchmark = sel.candidates.size() == 1;
  return sel;
}

}  // namespace gemmsift
