// gemmsift data check|summary, gemmsift eval
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "cli/common.h"
#include "core/file_util.h"
#include "core/strings.h"
#include "gemmsift/dataset.h"
#include "gemmsift/error.h"
#include "gemmsift/metrics.h"
#include "gemmsift/model.h"

namespace gemmsift::cli {

std::vector<int> parse_int_list(const std::string& text, const std::string& option, int least) {
  std::vector<int> out;
  for (auto part : detail::split(text, ',')) {
    auto v = detail::parse_int<int>(detail::trim(part));
    if (!v || *v < least) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: expected integers of at least {} like {},{},{}, got '{}'", option, least, least,
                              least + 1, least + 2, text));
    }
    out.push_back(*v);
  }
  return out;
}

void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "measured datasets: check, summary");
  data->require_subcommand(1);
  {
    auto* cmd = data->add_subcommand("check", "verify header, sidecar metadata, every row and the physical floor");
    auto files = std::make_shared<std::vector<std::string>>();
    cmd->add_option("files", *files, "dataset files (.csv or .csv.gz)")->required();
    cmd->callback([=] {
      std::size_t bad = 0;
      for (const auto& f : *files) {
        auto c = check_dataset(f);
        for (const auto& e : c.errors) fmt::print(stderr, "{}\n", e);
        fmt::print("{}: {} rows, {} problems: {}\n", f, c.rows, c.problems,
                   c.ok() ? "ok" : fmt::format("{} problem{}", c.errors.size(), c.errors.size() == 1 ? "" : "s"));
        bad += !c.ok();
      }
      if (bad) throw Error(ErrorCode::invalid_argument, fmt::format("{} of {} datasets failed the check", bad, files->size()));
    });
  }
  {
    auto* cmd = data->add_subcommand("summary", "problems, rows by status, and where the best configs are");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "dataset")->required();
    cmd->callback([=] {
      auto d = load_dataset(*file);
      std::map<std::string, std::size_t> status;
      for (const auto& p : d.problems)
        for (const auto& r : p.rows) ++status[std::string(to_string(r.status))];
      fmt::print("{}: {} problems, {} rows, device {}\n", *file, d.problems.size(), d.rows(),
                 d.meta.value("device", std::string("?")));
      for (const auto& [s, n] : status) fmt::print("  {:<14} {}\n", s, n);
      auto complete = complete_problems(d);
      fmt::print("  problems with the whole EXHAUSTIVE space measured: {}\n", complete.size());
    });
  }
}

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "quality@k, worst@k, hit@k of models and baselines on a measured dataset");
  auto data = std::make_shared<std::string>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto ks = std::make_shared<std::string>("1,2,3,5,10,20");
  auto draws = std::make_shared<int>(20);
  auto json = std::make_shared<bool>(false);
  auto svg = std::make_shared<std::string>();
  auto title = std::make_shared<std::string>();
  cmd->add_option("--data", *data, "test dataset (full EXHAUSTIVE measurements)")->required();
  cmd->add_option("--svg", *svg, "write the tradeoff graph (quality@k against k) to this SVG file");
  cmd->add_option("--title", *title, "title of the graph (default: the dataset and device)");
  cmd->add_option("--model", *models, "model spec or file (repeat for several)");
  cmd->add_option("--k", *ks, "values of k")->capture_default_str();
  cmd->add_option("--draws", *draws, "random-k draws")->capture_default_str();
  auto anchors = std::make_shared<std::string>("0");
  cmd->add_option("--anchors", *anchors,
                  "DEFAULT anchors: evaluate each model with each of these counts of its k picks given to the "
                  "DEFAULT-list configs it ranks highest (0: its plain top k)")
      ->capture_default_str();
  auto off16 = add_off16_auto_option(cmd);
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([=] {
    const auto anchor_counts = parse_int_list(*anchors, "--anchors", 0);
    auto d = load_dataset(*data);
    const std::string policy = off16_for_data(*off16, std::span(&d, 1));
    auto problems = complete_problems(d);
    if (problems.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: no problem has its whole space measured", *data));
    auto k = parse_int_list(*ks, "--k");
    std::vector<MethodQuality> rows;
    rows.push_back(evaluate_default_list(problems));
    rows.push_back(evaluate_random(problems, k, *draws));
    std::vector<std::string> specs = *models;
    if (specs.empty()) specs.push_back("analytical");
    ModelOptions mo;
    mo.off16 = policy;
    for (const auto& spec : specs) {
      auto m = create_model(spec, mo);
      const auto meta = m->metadata();
      std::string label = m->name();
      if (meta.contains("name") && meta["name"].is_string() && label.ends_with(".safetensors")) {
        label = meta["name"].get<std::string>() + " (" + std::filesystem::path(label).filename().string() + ")";
      }
      label += off16_label(*m);
      for (int a : anchor_counts) {
        if (a == 0) {
          rows.push_back(evaluate(label, problems, model_proposer(*m), k));
        } else {
          rows.push_back(evaluate_at_each_k(fmt::format("{} + {} DEFAULT anchor{}", label, a, a == 1 ? "" : "s"),
                                            problems, model_picks_at_k(*m, a), k));
        }
      }
    }
    if (!svg->empty()) {
      std::string t = title->empty() ? fmt::format("{}: {} problems, {}", std::filesystem::path(*data).filename().string(),
                                                   problems.size(), d.meta.value("device", std::string("?")))
                                     : *title;
      detail::write_file_atomic(*svg, tradeoff_svg(rows, t));
      fmt::print(stderr, "wrote {}\n", *svg);
    }
    if (*json) {
      nlohmann::json out = {{"data", *data}, {"device", d.meta.value("device", std::string())},
                            {"problems", problems.size()}, {"methods", nlohmann::json::array()}};
      for (const auto& r : rows) out["methods"].push_back(to_json(r));
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{}: {} problems with the whole space measured, on {}\n", *data, problems.size(),
               d.meta.value("device", std::string("?")));
    std::size_t width = 30;
    for (const auto& r : rows) width = std::max(width, r.method.size() + 2);
    struct Stat {
      const char* title;
      double QualityAtK::*field;
    };
    for (const Stat& st : {Stat{"quality@k", &QualityAtK::quality}, Stat{"worst@k", &QualityAtK::worst},
                           Stat{"hit@k (within 2% of the best)", &QualityAtK::hit},
                           Stat{"share of problems at least as fast as the whole DEFAULT list", &QualityAtK::at_least_default}}) {
      fmt::print("\n{}\n{:<{}}", st.title, "", width);
      for (int kk : k) fmt::print(" {:>7}", fmt::format("k={}", kk));
      fmt::print("\n");
      for (const auto& r : rows) {
        if (r.at.size() == 1 && r.at[0].k == 0) {
          if (std::isnan(r.at[0].*st.field) || st.field == &QualityAtK::at_least_default) continue;
          fmt::print("{:<{}} {:>7.3f}  (benchmarks the whole list: {:.1f} configs a problem on average)\n", r.method,
                     width, r.at[0].*st.field, r.at[0].mean_configs);
          continue;
        }
        if (st.field == &QualityAtK::at_least_default && std::isnan(r.at[0].at_least_default)) continue;
        fmt::print("{:<{}}", r.method, width);
        for (const auto& a : r.at) fmt::print(" {:>7.3f}", a.*st.field);
        fmt::print("\n");
      }
    }
  });
}

}  // namespace gemmsift::cli
