// Pieces shared by the CLI's commands (internal).
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gemmsift/dataset.h"
#include "gemmsift/error.h"
#include "gemmsift/model.h"
#include "gemmsift/problem.h"
#include "models/mlp.h"

namespace gemmsift::cli {

// Flags that describe a problem, shared by several commands.
struct ProblemArgs {
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  std::string dtype = "bf16", layout = "NN", op = "mm", device;

  // required=false: the problem is optional (has_problem() tells whether --m/--n/--k were given).
  void add(CLI::App* app, bool required = true) {
    auto* om = app->add_option("--m", m, "rows of A and C");
    auto* on = app->add_option("--n", n, "columns of B and C");
    auto* ok = app->add_option("--k", k, "columns of A, rows of B");
    if (required) {
      om->required();
      on->required();
      ok->required();
    }
    app->add_option("--batch", batch, "batch count (bmm)")->capture_default_str();
    app->add_option("--dtype", dtype, "bf16, fp16 or fp32")->capture_default_str();
    app->add_option("--layout", layout, "NN, NT (nn.Linear), TN or TT")->capture_default_str();
    app->add_option("--op", op, "mm, addmm or bmm")->capture_default_str();
    app->add_option("--device", device,
                    "device name (H100-SXM, H200, or the driver's name); default: the model's");
  }

  Problem problem() const;
  bool has_problem() const { return m != 0 || n != 0 || k != 0; }
};

// --off16 (ModelOptions::off16) for the commands that load models, checked when the command line
// is parsed (require_off16_policy's Error), so a bad value fails before any file is read. `extra`
// documents a command's own choice besides the three policies (eval's and drift's "auto").
inline std::shared_ptr<std::string> add_off16_option(CLI::App* app, std::string default_policy = ModelOptions{}.off16,
                                                     std::string_view extra = "", bool allow_auto = false) {
  auto off16 = std::make_shared<std::string>(std::move(default_policy));
  app->add_option("--off16", *off16,
                  std::string("padded, learned or analytical: how a learned model trained on the arguments kernel's "
                              "data scores a problem with a leading stride that is even but not a multiple of 16 "
                              "(docs/inductor.md)") +
                      std::string(extra))
      ->capture_default_str()
      ->each([allow_auto](const std::string& v) {
        if (allow_auto && v == "auto") return;
        try {
          require_off16_policy(v, "--off16");
        } catch (const Error&) {
          if (!allow_auto) throw;
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("--off16 '{}': expected auto (the default), padded, learned or analytical", v));
        }
      });
  return off16;
}

// --off16 for commands that judge a model by measured times (eval, drift): "auto" by default.
inline std::shared_ptr<std::string> add_off16_auto_option(CLI::App* app) {
  return add_off16_option(app, "auto",
                          "; auto: learned when every dataset measured the arguments kernel (whose times the "
                          "model learned), else the library's default, " +
                              ModelOptions{}.off16,
                          true);
}

// The policy "auto" stands for with these datasets (add_off16_auto_option); any other choice as it
// is (checked when parsed). The times judge the model: the arguments kernel's are what a model
// trained on them predicts as it is; Inductor's (literal sizes) are what users run.
inline std::string off16_for_data(const std::string& choice, std::span<const Dataset> datasets) {
  if (choice != "auto") return choice;
  const bool arguments =
      std::all_of(datasets.begin(), datasets.end(), [](const Dataset& d) { return kernel_sizes_of(d) == "arguments"; });
  return arguments ? "learned" : ModelOptions{}.off16;
}

// The off16 policy a model applies (MlpModel::off16: "padded" or "analytical"), or "" when it
// scores every problem with its networks as it is (any other model, "learned", or a model of
// literal-size data).
inline std::string_view applied_off16(const PerformanceModel& model) {
  const auto* mlp = dynamic_cast<const MlpModel*>(&model);
  return mlp && mlp->off16() != "learned" ? mlp->off16() : std::string_view();
}

// ", off16 <policy>" for a model that applies one (applied_off16), else "": a label for the rows
// and lines of eval and drift.
inline std::string off16_label(const PerformanceModel& model) {
  const auto policy = applied_off16(model);
  return policy.empty() ? std::string() : ", off16 " + std::string(policy);
}

// "1,2,3" -> {1, 2, 3}, each at least `least`; Error(invalid_argument) naming `option` for anything else.
std::vector<int> parse_int_list(const std::string& text, const std::string& option, int least = 1);

void add_lut_commands(CLI::App& app);
void add_data_commands(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_train_commands(CLI::App& app);

}  // namespace gemmsift::cli
