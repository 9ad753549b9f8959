// gemmsift: chooses which configs an autotuner should compile and benchmark.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gemmsift/config.h"
#include "gemmsift/model.h"
#include "gemmsift/problem.h"
#include "gemmsift/space.h"

namespace gemmsift {

// How many configs are compiled and timed.
//   SAME     all of the search space, in Inductor's order; the model is not used
//   DEFAULT  as many as Inductor's DEFAULT list has for the problem, chosen by the model
//   k        the model's top k (an integer >= 1); "fast" is 1
struct BenchmarkSpace {
  enum class Kind : std::uint8_t { same, default_count, top_k };
  Kind kind = Kind::default_count;
  int k = 0;  // top_k only

  static BenchmarkSpace same() { return {Kind::same, 0}; }
  static BenchmarkSpace default_count() { return {Kind::default_count, 0}; }
  static BenchmarkSpace top(int k);
  // "SAME", "DEFAULT", "fast", or a positive integer; case-insensitive.
  static BenchmarkSpace parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const BenchmarkSpace&, const BenchmarkSpace&) = default;
};

// lut: pinned by the lookup table; model: one of the model's top picks; anchor: a DEFAULT-list
// config the model ranks highest among that list (SelectOptions::anchors); space: SAME.
enum class Source : std::uint8_t { lut, model, anchor, space };
std::string_view to_string(Source) noexcept;

// One config to benchmark, with where it came from.
struct Candidate {
  Config config;
  Source source = Source::model;
  int model_rank = -1;  // 0-based rank among the model's predictions; -1 if the model did not rank it
  double predicted_us = std::numeric_limits<double>::quiet_NaN();
  std::string origin;   // the model's name, or the lookup table file and entry
};

// Configs pinned for a problem from outside the model (the lookup table implements this).
struct PinnedConfig {
  Config config;
  std::string origin;
};
class PinnedConfigs {
 public:
  virtual ~PinnedConfigs() = default;
  virtual std::vector<PinnedConfig> pinned(const Problem& problem) const = 0;
};

struct SelectOptions {
  SpaceKind search_space = SpaceKind::EXHAUSTIVE;
  // Pinned (lookup-table) configs do not count toward k: the model's k picks come after them.
  BenchmarkSpace benchmark_space = BenchmarkSpace::default_count();
  SpaceOptions space_options;
  // DEFAULT anchors: of the model's k picks, this many (at most k - 1) are the configs of Inductor's
  // DEFAULT list that the model ranks highest, the rest its top k - a overall. The benchmark then
  // always holds some of the stock list, so the pick is less often slower than the whole DEFAULT
  // list, at some cost in the average on random shapes (docs/results.md, "DEFAULT anchors").
  // 0 = the model's plain top k. Ignored for SAME and when the search space is DEFAULT.
  int anchors = 0;
  // When the problem has pinned configs, use only those (no model picks). A single pinned config
  // then needs no benchmarking at all. Problems without pins are selected as usual.
  bool pinned_only = false;
  // The running Triton version, when known: the selector warns (once) when the model's training
  // data were measured with another one. The running device is the problem's.
  std::string triton_version;
};

struct Selection {
  Problem problem;
  std::vector<Candidate> candidates;   // in the order to benchmark: pinned first, then by prediction
  std::size_t search_space_size = 0;   // configs the model scored
  std::size_t default_count = 0;       // size of Inductor's DEFAULT list for this problem
  std::string model;                   // the model's name; empty for SAME
  // True when there is nothing to choose between (a single candidate): the autotuner may use it
  // without benchmarking.
  bool skip_benchmark = false;
};

// Which of `ranked` (configs in the model's order, best first) to benchmark with k slots and
// `anchors` DEFAULT anchors: the first k - a not `taken`, then the a best-ranked ones with
// `in_default` among the rest (a = min(anchors, k - 1)); where the DEFAULT list runs out, the
// model's next ones. Returns positions in `ranked`, each with whether it is an anchor. `taken`
// configs (the pinned ones) are skipped and do not count toward k. One rule for the selector and
// for `gemmsift eval`.
struct Pick {
  std::size_t index;
  bool anchor;
};
std::vector<Pick> model_picks(const std::vector<Config>& ranked, std::size_t k, int anchors,
                              const std::function<bool(const Config&)>& in_default,
                              const std::function<bool(const Config&)>& taken = {});

class Selector {
 public:
  // `model` may be null only with BenchmarkSpace SAME.
  explicit Selector(std::shared_ptr<const PerformanceModel> model, SelectOptions options = {});

  // Where lookup-table hits enter: pinned configs are always benchmarked, ahead of the model's.
  void set_pinned(std::shared_ptr<const PinnedConfigs> pinned);

  Selection select(const Problem& problem) const;

  const SelectOptions& options() const noexcept { return options_; }
  const PerformanceModel* model() const noexcept { return model_.get(); }

 private:
  std::shared_ptr<const PerformanceModel> model_;
  std::shared_ptr<const PinnedConfigs> pinned_;
  SelectOptions options_;
  nlohmann::json model_meta_;  // the model's metadata, for staleness warnings
  void warn_if_stale(const Problem& problem) const;
};

}  // namespace gemmsift
