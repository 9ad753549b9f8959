// gemmsift train, gemmsift drift
#include <fmt/format.h>

#include <memory>

#include "cli/common.h"
#include "core/strings.h"
#include "gemmsift/dataset.h"
#include "gemmsift/error.h"
#include "gemmsift/model.h"
#include "gemmsift/train.h"

namespace gemmsift::cli {


void add_train_commands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("train", "train a learned model (kind mlp) on measured datasets");
    struct Args {
      std::vector<std::string> data, transfer;
      std::string preset = "gemmsift", out, schema, hidden, target, loss, name;
      int epochs = 0, batch_rows = 0, batch_problems = 0, members = 0, average_from = -1;
      double lr = 0, val_fraction = -1, weight_decay = -1, near_best_weight = -1, near_best_scale = 0;
      std::uint64_t seed = 0;
      bool batchnorm = false, no_batchnorm = false, no_base = false, quiet = false, trace = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--data", a->data, "training datasets (repeat); one device")->required();
    cmd->add_option("--transfer-data", a->transfer,
                    "datasets of another device with the same SM count (repeat): training problems only "
                    "(less the validation problems' twins), each with its own device's analytical base");
    cmd->add_option("-o,--output", a->out, "model file to write (.safetensors)")->required();
    cmd->add_option("--preset", a->preset, "proposal (the fast_autotune MLP) or gemmsift; flags below override it")
        ->capture_default_str();
    cmd->add_option("--schema", a->schema, "feature schema: proposal12, gemmsift1 or gemmsift2");
    cmd->add_option("--hidden", a->hidden, "hidden layer widths, e.g. 64,64");
    cmd->add_flag("--batchnorm", a->batchnorm, "BatchNorm after each hidden Linear");
    cmd->add_flag("--no-batchnorm", a->no_batchnorm, "no BatchNorm");
    cmd->add_flag("--no-base", a->no_base, "do not give the analytical estimate as an input (target log_us)");
    cmd->add_option("--target", a->target, "log_us or log_residual");
    cmd->add_option("--loss", a->loss, "mse, rank or listnet");
    cmd->add_option("--epochs", a->epochs, "passes over the training data");
    cmd->add_option("--lr", a->lr, "Adam learning rate (cosine decay)");
    cmd->add_option("--weight-decay", a->weight_decay, "decoupled weight decay");
    cmd->add_option("--batch-rows", a->batch_rows, "rows per step (mse)");
    cmd->add_option("--batch-problems", a->batch_problems, "problems per step (rank, listnet)");
    cmd->add_option("--near-best-weight", a->near_best_weight,
                    "rank loss: extra weight of a problem's fastest configs (0: none)");
    cmd->add_option("--near-best-scale", a->near_best_scale,
                    "rank loss: how fast that weight decays, in log units of time over the problem's best");
    cmd->add_option("--val-fraction", a->val_fraction, "share of problems held out for validation");
    cmd->add_option("--seed", a->seed, "seed of the split, the initialisation and the batches")->capture_default_str();
    cmd->add_option("--members", a->members, "networks averaged (an ensemble), each from its own initialisation");
    cmd->add_option("--average-from", a->average_from,
                    "N > 0: each network's weights are the mean of those after epochs N..epochs (weight averaging) "
                    "instead of its best validation epoch's; 0: the best validation epoch");
    cmd->add_option("--name", a->name, "model name recorded in the file");
    cmd->add_flag("-q,--quiet", a->quiet, "no progress lines");
    cmd->add_flag("--trace", a->trace,
                  "fingerprints (FNV-1a) of the prepared inputs, the initial weights and each epoch's weights, "
                  "to find where two machines' trainings part");
    cmd->callback([a] {
      TrainOptions o = TrainOptions::preset(a->preset);
      if (!a->schema.empty()) o.schema = a->schema;
      if (!a->hidden.empty()) o.hidden = parse_int_list(a->hidden, "--hidden");
      if (a->batchnorm) o.batchnorm = true;
      if (a->no_batchnorm) o.batchnorm = false;
      if (a->no_base) {
        o.base_input = false;
        o.target = "log_us";
      }
      if (!a->target.empty()) o.target = a->target;
      if (!a->loss.empty()) o.loss = a->loss;
      if (a->epochs) o.epochs = a->epochs;
      if (a->lr > 0) o.lr = a->lr;
      if (a->weight_decay >= 0) o.weight_decay = a->weight_decay;
      if (a->batch_rows) o.batch_rows = a->batch_rows;
      if (a->batch_problems) o.batch_problems = a->batch_problems;
      if (a->val_fraction >= 0) o.val_fraction = a->val_fraction;
      if (a->near_best_weight >= 0) o.near_best_weight = a->near_best_weight;
      if (a->near_best_scale > 0) o.near_best_scale = a->near_best_scale;
      o.seed = a->seed;
      if (a->members) o.members = a->members;
      if (a->average_from >= 0) o.average_from = a->average_from;
      if (!a->name.empty()) o.name = a->name;
      std::vector<Dataset> data;
      for (const auto& f : a->data) data.push_back(load_dataset(f));
      std::vector<Dataset> transfer;
      for (const auto& f : a->transfer) transfer.push_back(load_dataset(f));
      if (!a->quiet) {
        fmt::print(stderr, "training {} ({} loss, {} features, hidden {}{}) on {} file(s){}\n", o.name, o.loss,
                   o.schema, fmt::join(o.hidden, "x"), o.batchnorm ? " + BatchNorm" : "", data.size(),
                   transfer.empty() ? "" : fmt::format(" and {} transfer file(s)", transfer.size()));
      }
      auto r = train_model(data, o, [&](const EpochStats& s) {
        if (a->trace) {
          fmt::print("trace member {} epoch {} weights {:016x} loss {:.17g} val {:.17g} {:.17g}\n", s.member, s.epoch,
                     s.weights_hash, s.train_loss, s.val_q1, s.val_q5);
        }
        if (a->quiet) return;
        if (o.members > 1) fmt::print(stderr, "member {}/{}  ", s.member + 1, o.members);
        fmt::print(stderr, "epoch {:>3}/{}  loss {:.4f}  val quality@1 {:.3f} @5 {:.3f} spearman {:.3f}  {:.0f} s\n",
                   s.epoch, o.epochs, s.train_loss, s.val_q1, s.val_q5, s.val_spearman, s.seconds);
      }, transfer);
      if (a->trace) {
        fmt::print("trace inputs {:016x} initial weights", r.inputs_hash);
        for (auto h : r.init_hashes) fmt::print(" {:016x}", h);
        fmt::print("\n");
      }
      r.model->save(a->out);
      const auto meta = r.model->metadata();
      fmt::print("wrote {}: {} training problems ({} rows), {} validation problems, best epoch {}", a->out,
                 r.train_problems, r.train_rows, r.val_problems, fmt::join(r.best_epochs, "/"));
      if (o.members > 1) fmt::print(" ({} networks)", o.members);
      if (meta.contains("validation")) {
        const auto& v = meta["validation"];
        fmt::print(", validation quality@1 {:.3f} @5 {:.3f}, top 5 at least as fast as DEFAULT on {:.1f}%",
                   v["quality_at_1"].get<double>(), v["quality_at_5"].get<double>(),
                   100 * v["at_least_default_at_5"].get<double>());
      }
      fmt::print("\n");
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "drift", "compare a model's predictions with measured times: rank correlation and error (retrain when poor)");
    auto model = std::make_shared<std::string>();
    auto data = std::make_shared<std::vector<std::string>>();
    auto json = std::make_shared<bool>(false);
    auto min_rho = std::make_shared<double>(0.8);
    cmd->add_option("--model", *model, "model spec or file")->required();
    cmd->add_option("--data", *data, "measured datasets (any configs, e.g. an autotuner's benchmarks)")->required();
    cmd->add_option("--min-spearman", *min_rho, "below this mean rank correlation, advise retraining")
        ->capture_default_str();
    auto off16 = add_off16_auto_option(cmd);
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([=] {
      std::vector<Dataset> sets;
      std::vector<const ProblemData*> problems;
      std::vector<std::string> stale;
      for (const auto& f : *data) sets.push_back(load_dataset(f));
      ModelOptions mo;
      mo.off16 = off16_for_data(*off16, sets);
      auto m = create_model(*model, mo);
      for (const auto& s : sets) {
        for (const auto& p : s.problems) problems.push_back(&p);
        for (auto& w : model_staleness(m->metadata(), s.meta.value("device", std::string()),
                                       s.meta.value("triton", std::string()))) {
          stale.push_back(fmt::format("{}: {}", s.path, w));
        }
      }
      const auto r = rank_agreement(*m, problems);
      const bool retrain = r.spearman < *min_rho || !stale.empty();
      if (*json) {
        nlohmann::json out = {{"model", m->name()}, {"off16", mo.off16},
                              {"problems", r.problems}, {"configs", r.configs},
                              {"spearman", r.spearman}, {"median_abs_log_error", r.median_abs_log_error},
                              {"quality_at_1", r.quality1}, {"quality_at_5", r.quality5},
                              {"stale", stale}, {"retrain", retrain}};
        fmt::print("{}\n", out.dump(2));
        return;
      }
      fmt::print("{}{} on {} problems ({} timed configs)\n", m->name(), off16_label(*m), r.problems, r.configs);
      fmt::print("  mean rank correlation (Spearman)  {:.3f}\n", r.spearman);
      fmt::print("  median |log(predicted/measured)|  {:.3f}  (x{:.2f})\n", r.median_abs_log_error,
                 std::exp(r.median_abs_log_error));
      fmt::print("  quality@1 / @5 within the measured configs  {:.3f} / {:.3f}\n", r.quality1, r.quality5);
      for (const auto& s : stale) fmt::print("  stale: {}\n", s);
      fmt::print("  {}\n", retrain ? "advice: retrain on fresh measurements of this device and software"
                                   : "advice: the model still fits these measurements");
    });
  }
}

}  // namespace gemmsift::cli
