// Pieces shared by the CLI's commands (internal).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gemmsift/problem.h"

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

// --off16 (ModelOptions::off16) for the commands that load models; create_model checks the value.
inline std::shared_ptr<std::string> add_off16_option(CLI::App* app) {
  auto off16 = std::make_shared<std::string>("learned");
  app->add_option("--off16", *off16,
                  "learned, analytical or padded: how a learned model trained on the arguments kernel's data "
                  "scores a problem with a leading stride that is even but not a multiple of 16 (docs/inductor.md)")
      ->capture_default_str();
  return off16;
}

// "1,2,3" -> {1, 2, 3}, each at least `least`; Error(invalid_argument) naming `option` for anything else.
std::vector<int> parse_int_list(const std::string& text, const std::string& option, int least = 1);

void add_lut_commands(CLI::App& app);
void add_data_commands(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_train_commands(CLI::App& app);

}  // namespace gemmsift::cli
