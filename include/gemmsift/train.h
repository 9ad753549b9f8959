// gemmsift: training learned performance models (kind "mlp") on measured datasets.
//
// Split by problem (never by row) into training and validation problems; deterministic for a
// seed on one build; the best epoch by validation quality is kept; BatchNorm statistics are
// recomputed on all training rows and folded into the layers at the end.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemmsift/dataset.h"
#include "gemmsift/model.h"

namespace gemmsift {

struct TrainOptions {
  std::string name;                     // recorded in the metadata; default from the preset
  std::string schema = "gemmsift2";     // a FeatureSchema::named() schema
  std::vector<int> hidden = {64, 64};    // hidden layer widths
  bool batchnorm = false;               // Linear, BatchNorm, ReLU blocks (the proposal's)
  bool base_input = true;               // the analytical estimate as an extra input
  std::string target = "log_residual";  // "log_us" or "log_residual" (log of measured / analytical)
  // "mse": mean squared error of the standardised target over rows (the proposal's loss);
  // "rank": per-problem centred squared error, weighted towards each problem's fastest configs,
  //         plus mse_weight x mse; "listnet": per-problem softmax cross-entropy of the runtime
  //         ranking at listnet_temperature (log units), plus mse_weight x mse.
  std::string loss = "rank";
  int epochs = 80;
  double lr = 2e-3;
  double weight_decay = 0;
  int batch_rows = 512;                 // mse: rows per step
  int batch_problems = 4;               // rank, listnet: problems per step (all their rows)
  double near_best_weight = 4;          // rank: extra weight of a config at the problem's best ...
  double near_best_scale = 0.1;         // ... decaying as exp(-log(t/t_best) / scale)
  double listnet_temperature = 0.05;
  double mse_weight = 0.1;
  double val_fraction = 0.15;           // share of problems held out for validation
  std::uint64_t seed = 0;
  int members = 1;                      // networks averaged (an ensemble), each from its own initialisation
  // 0: each network keeps the weights of its best validation epoch. N > 0: each network's weights
  // are the mean of its weights after epochs N..epochs (stochastic weight averaging), whatever
  // the validation scores; validation is still measured and reported.
  int average_from = 0;

  // "proposal": the fast_autotune proposal's MLP (12 features, 6 x 256, BatchNorm, ReLU, MSE on
  // log runtime); "gemmsift": gemmsift's default model. Throws Error(not_found) for others.
  static TrainOptions preset(std::string_view name);
  nlohmann::json to_json() const;
};

struct EpochStats {
  int epoch = 0;
  int member = 0;                 // which network of an ensemble
  double train_loss = 0;
  double val_q1 = 0, val_q5 = 0;  // quality@1/@5 on the validation problems' measured configs
  double val_spearman = 0;        // mean per-problem rank correlation on validation problems
  double seconds = 0;             // since training started
  std::uint64_t weights_hash = 0; // FNV-1a of the network's parameters after the epoch (their bits)
};

struct TrainResult {
  std::unique_ptr<PerformanceModel> model;
  std::vector<EpochStats> history;
  std::vector<int> best_epochs;    // each member's, chosen by its own validation quality
  std::size_t train_problems = 0, val_problems = 0, train_rows = 0;
  // Fingerprints for comparing two trainings stage by stage (machines that train differently):
  // FNV-1a of the bits of the standardised inputs, targets and problem ranges, and of each
  // member's initial parameters; each epoch's parameters are in `history`.
  std::uint64_t inputs_hash = 0;
  std::vector<std::uint64_t> init_hashes;
};

// Trains on the timed rows (ok and abandoned) of every problem in `datasets`, which must all come
// from one device: the model's. `transfer` datasets come from other devices with the same SM count
// (an H200's for an H100 model, say): their problems join the training problems only (validation
// stays on the model's device; a transfer problem that is one of the validation problems there
// stays out) and their analytical base is their own device's, so what they teach is the
// correction to the analytical model. Deterministic for a seed, whatever the CPU's cache sizes or
// where the problems lie in memory. Errors: Error(invalid_argument) for bad options, mixed
// devices, a transfer device of another SM count or too little data.
TrainResult train_model(const std::vector<Dataset>& datasets, const TrainOptions& options,
                        const std::function<void(const EpochStats&)>& progress = {},
                        const std::vector<Dataset>& transfer = {});

// Validation-style metrics of a model on measured problems that need not be complete: for each
// problem the oracle is its best measured config. Used for drift and training reports.
struct RankAgreement {
  std::size_t problems = 0, configs = 0;
  double spearman = 0;            // mean over problems of the rank correlation, timed configs
  double median_abs_log_error = 0;  // median |log(predicted / measured)| over timed configs
  double quality1 = 0, quality5 = 0;  // geometric means over problems, within the measured configs
  // Share of problems where the top 5 (within the measured configs) is at least as fast as the
  // measured configs of Inductor's DEFAULT list (every sampled training problem has them all):
  // issue 5's fourth goal, on validation problems.
  double at_least_default5 = 0;
  // The same two at k = 5 when a of the 5 are DEFAULT anchors (selector.h, model_picks), for
  // a = 0 (the plain top 5, as above) to 3.
  std::array<double, 4> quality5_anchors{}, at_least_default5_anchors{};
};
// default_us: each problem's DEFAULT-list time (default_list_times), which does not depend on the
// model (training passes it once for every epoch); computed here when empty.
RankAgreement rank_agreement(const PerformanceModel& model, const std::vector<const ProblemData*>& problems,
                             std::span<const double> default_us = {});
// The fastest measured config of Inductor's DEFAULT list for each problem (infinity when none ran).
std::vector<double> default_list_times(const std::vector<const ProblemData*>& problems);

// SHA-256 of a file's bytes, lowercase hex. Error(io) when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace gemmsift
