#include "gemmsift/train.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

#include "core/file_util.h"
#include "gemmsift/error.h"
#include "gemmsift/features.h"
#include "gemmsift/selector.h"
#include "gemmsift/space.h"
#include "gemmsift/version.h"
#include "models/mlp.h"
#include "train/net.h"

namespace gemmsift {

using train::Mat;
using train::Net;

TrainOptions TrainOptions::preset(std::string_view name) {
  TrainOptions o;
  if (name == "gemmsift") {
    o.name = "gemmsift";
    o.schema = "gemmsift2";  // alignment features: chosen on H200 validation problems with random shapes
    o.members = 3;           // validated as well as 4 (three seeds), scores 25% faster: docs/results.md
    o.near_best_weight = 8;  // better than 4 on three H100 validation seeds (session 8): docs/results.md
    return o;
  }
  if (name == "proposal") {
    o.name = "proposal-mlp";
    o.schema = "proposal12";
    o.hidden = {256, 256, 256, 256, 256, 256};
    o.batchnorm = true;
    o.base_input = false;
    o.target = "log_us";
    o.loss = "mse";
    o.epochs = 30;
    o.lr = 1e-3;
    o.batch_rows = 512;
    return o;
  }
  throw Error(ErrorCode::not_found, fmt::format("unknown training preset '{}': known presets are proposal, gemmsift", name));
}

nlohmann::json TrainOptions::to_json() const {
  return {{"name", name}, {"schema", schema}, {"hidden", hidden}, {"batchnorm", batchnorm},
          {"base_input", base_input}, {"target", target}, {"loss", loss}, {"epochs", epochs},
          {"lr", lr}, {"weight_decay", weight_decay}, {"batch_rows", batch_rows},
          {"batch_problems", batch_problems}, {"near_best_weight", near_best_weight},
          {"near_best_scale", near_best_scale}, {"listnet_temperature", listnet_temperature},
          {"mse_weight", mse_weight}, {"val_fraction", val_fraction}, {"seed", seed}, {"members", members},
          {"average_from", average_from}};
}

std::string sha256_file(const std::string& path) {
  const std::string bytes = detail::read_file(path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, fmt::format("{}: SHA-256 failed", path));
  }
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

// Average ranks (ties share their mean rank).
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (std::size_t t = i; t <= j; ++t) r[idx[t]] = (static_cast<double>(i) + static_cast<double>(j)) / 2.0;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2) return 1.0;
  auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace

std::vector<double> default_list_times(const std::vector<const ProblemData*>& problems) {
  std::vector<double> out;
  out.reserve(problems.size());
  for (const ProblemData* p : problems) {
    const auto t = p->fastest_of(search_space(p->problem, SpaceKind::DEFAULT));
    out.push_back(t.value_or(std::numeric_limits<double>::infinity()));
  }
  return out;
}

RankAgreement rank_agreement(const PerformanceModel& model, const std::vector<const ProblemData*>& problems,
                             std::span<const double> default_us) {
  std::vector<double> computed;
  if (default_us.empty()) {
    computed = default_list_times(problems);
    default_us = computed;
  }
  if (default_us.size() != problems.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("rank_agreement: {} DEFAULT-list times for {} problems", default_us.size(), problems.size()));
  }
  RankAgreement r;
  double sum_rho = 0, log_q1 = 0, log_q5 = 0;
  std::size_t not_worse = 0;
  std::array<double, 4> log_q5_anchors{};
  std::array<std::size_t, 4> not_worse_anchors{};
  std::vector<double> errors;
  for (std::size_t pi = 0; pi < problems.size(); ++pi) {
    const ProblemData* p = problems[pi];
    const auto best = p->best_us();
    if (!best) continue;
    std::vector<Config> configs;
    for (const auto& row : p->rows) configs.push_back(row.config);
    const std::vector<double> pred = model.estimate(p->problem, configs);
    std::vector<double> pt, mt;
    for (std::size_t i = 0; i < configs.size(); ++i) {
      if (!p->rows[i].timed() || !std::isfinite(pred[i])) continue;
      pt.push_back(pred[i]);
      mt.push_back(*p->rows[i].time_us_min);
      errors.push_back(std::abs(std::log(pred[i] / *p->rows[i].time_us_min)));
    }
    r.configs += pt.size();
    sum_rho += spearman(pt, mt);
    std::vector<std::size_t> order(configs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return pred[a] < pred[b]; });
    auto time_at = [&](std::size_t k) {  // the fastest measured time among the top k
      double t = std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < std::min(k, order.size()); ++i) {
        const auto& row = p->rows[order[i]];
        if (row.timed() && std::isfinite(pred[order[i]])) t = std::min(t, *row.time_us_min);
      }
      return t;
    };
    auto quality = [&](double t) { return std::isfinite(t) ? *best / t : 0.01; };  // nothing usable: as metrics.h
    log_q1 += std::log(quality(time_at(1)));
    const double t5 = time_at(5);
    log_q5 += std::log(quality(t5));
    not_worse += t5 <= default_us[pi];  // as metrics.cpp: no tie tolerance
    {
      std::vector<Config> ranked;
      for (std::size_t i : order) ranked.push_back(configs[i]);
      const auto defaults = search_space(p->problem, SpaceKind::DEFAULT);
      auto in_default = [&](const Config& c) { return std::find(defaults.begin(), defaults.end(), c) != defaults.end(); };
      for (std::size_t a = 0; a < log_q5_anchors.size(); ++a) {
        double t = std::numeric_limits<double>::infinity();
        for (const Pick& pick : model_picks(ranked, 5, static_cast<int>(a), in_default)) {
          const std::size_t i = order[pick.index];
          if (p->rows[i].timed() && std::isfinite(pred[i])) t = std::min(t, *p->rows[i].time_us_min);
        }
        log_q5_anchors[a] += std::log(quality(t));
        not_worse_anchors[a] += t <= default_us[pi];
      }
    }
    ++r.problems;
  }
  if (r.problems) {
    const double n = static_cast<double>(r.problems);
    r.spearman = sum_rho / n;
    r.quality1 = std::exp(log_q1 / n);
    r.quality5 = std::exp(log_q5 / n);
    r.at_least_default5 = static_cast<double>(not_worse) / n;
    for (std::size_t a = 0; a < log_q5_anchors.size(); ++a) {
      r.quality5_anchors[a] = std::exp(log_q5_anchors[a] / n);
      r.at_least_default5_anchors[a] = static_cast<double>(not_worse_anchors[a]) / n;
    }
  }
  if (!errors.empty()) {
    auto mid = errors.begin() + static_cast<std::ptrdiff_t>(errors.size() / 2);
    std::nth_element(errors.begin(), mid, errors.end());
    r.median_abs_log_error = *mid;
  }
  return r;
}

namespace {

struct Prepared {
  Mat<float> x;                 // rows x inputs, standardised
  std::vector<float> y;         // standardised target
  std::vector<float> rel;       // log(t / t_best of the problem)
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // rows of each problem
  double base_mean = 0, base_std = 1, target_mean = 0, target_std = 1;  // of log(base), target
  std::size_t rows = 0, skipped = 0;  // rows kept; rows left out (no base estimate: cannot launch)
};

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void check_options(const TrainOptions& o) {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::invalid_argument, "train: " + m); };
  FeatureSchema::named(o.schema);  // throws for an unknown schema
  if (o.hidden.empty()) bad("at least one hidden layer is needed");
  for (int h : o.hidden) {
    if (h < 1 || h > 4096) bad(fmt::format("hidden layer width {} is out of range 1..4096", h));
  }
  if (o.target != "log_us" && o.target != "log_residual") bad(fmt::format("target '{}': expected log_us or log_residual", o.target));
  if (o.target == "log_residual" && !o.base_input) bad("target log_residual needs the base input");
  if (o.loss != "mse" && o.loss != "rank" && o.loss != "listnet") bad(fmt::format("loss '{}': expected mse, rank or listnet", o.loss));
  if (o.epochs < 1) bad("epochs must be at least 1");
  if (!(o.lr > 0)) bad("lr must be positive");
  if (o.batch_rows < 2 || o.batch_problems < 1) bad("batch sizes must be at least 2 rows and 1 problem");
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) bad("val_fraction must be in [0, 1)");
  if (!(o.listnet_temperature > 0) || !(o.near_best_scale > 0)) bad("temperatures and scales must be positive");
  if (!(o.near_best_weight >= 0)) bad("near_best_weight must not be negative");
  if (o.members < 1 || o.members > 64) bad(fmt::format("members {} is out of range 1..64", o.members));
  if (o.average_from < 0 || o.average_from > o.epochs)
    bad(fmt::format("average_from {} is out of range 0..epochs ({})", o.average_from, o.epochs));
}

// Loss and its gradient with respect to each output, for the rows of a batch (grouped by problem
// for the per-problem losses).
double loss_and_grad(const TrainOptions& o, const Prepared& d, const std::vector<std::size_t>& rows,
                     const std::vector<std::pair<std::size_t, std::size_t>>& groups, const Mat<float>& out,
                     float target_std, Mat<float>& grad) {
  const auto n = static_cast<double>(rows.size());
  grad.resize(static_cast<Eigen::Index>(rows.size()), 1);
  double loss = 0;
  // The mse part (all of it for "mse").
  const double w_mse = o.loss == "mse" ? 1.0 : o.mse_weight;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double e = static_cast<double>(out(static_cast<Eigen::Index>(i), 0)) - d.y[rows[i]];
    loss += w_mse * e * e / n;
    grad(static_cast<Eigen::Index>(i), 0) = static_cast<float>(w_mse * 2 * e / n);
  }
  if (o.loss == "rank") {
    double wsum = 0;
    std::vector<double> w(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      w[i] = 1 + o.near_best_weight * std::exp(-d.rel[rows[i]] / o.near_best_scale);
      wsum += w[i];
    }
    for (const auto& [b, e] : groups) {
      double sw = 0, swd = 0;
      for (std::size_t i = b; i < e; ++i) {
        sw += w[i];
        swd += w[i] * (out(static_cast<Eigen::Index>(i), 0) - d.y[rows[i]]);
      }
      const double mean = swd / sw;
      for (std::size_t i = b; i < e; ++i) {
        const double c = out(static_cast<Eigen::Index>(i), 0) - d.y[rows[i]] - mean;
        loss += w[i] * c * c / wsum;
        grad(static_cast<Eigen::Index>(i), 0) += static_cast<float>(2 * w[i] * c / wsum);
      }
    }
  } else if (o.loss == "listnet") {
    const double s = target_std / o.listnet_temperature;  // standardised units -> softmax logits
    const double groups_n = static_cast<double>(groups.size());
    for (const auto& [b, e] : groups) {
      double mp = -1e300, mt = -1e300;
      for (std::size_t i = b; i < e; ++i) {
        mp = std::max(mp, -s * out(static_cast<Eigen::Index>(i), 0));
        mt = std::max(mt, -d.rel[rows[i]] / o.listnet_temperature);
      }
      double zp = 0, zt = 0;
      for (std::size_t i = b; i < e; ++i) {
        zp += std::exp(-s * out(static_cast<Eigen::Index>(i), 0) - mp);
        zt += std::exp(-d.rel[rows[i]] / o.listnet_temperature - mt);
      }
      for (std::size_t i = b; i < e; ++i) {
        const double lp = -s * out(static_cast<Eigen::Index>(i), 0) - mp - std::log(zp);
        const double pt = std::exp(-d.rel[rows[i]] / o.listnet_temperature - mt) / zt;
        loss -= pt * lp / groups_n;
        // d/d out of -sum pt * log softmax(-s out) = -s * (p_pred - p_true)
        grad(static_cast<Eigen::Index>(i), 0) += static_cast<float>(-s * (std::exp(lp) - pt) / groups_n);
      }
    }
  }
  return loss;
}

// Eigen blocks its matrix products by the cache sizes it reads from the CPU, and the blocking sets
// the order of the sums, so the same seed trained other tensors on a CPU with other caches: the
// sizes are fixed while training. Restored afterwards; training is single-threaded, and two
// trainings must not run at once in one process.
class FixedProductBlocking {
 public:
  FixedProductBlocking() { Eigen::setCpuCacheSizes(32 * 1024, 1024 * 1024, 32 * 1024 * 1024); }
  ~FixedProductBlocking() { Eigen::setCpuCacheSizes(l1_, l2_, l3_); }
  FixedProductBlocking(const FixedProductBlocking&) = delete;
  FixedProductBlocking& operator=(const FixedProductBlocking&) = delete;

 private:
  std::ptrdiff_t l1_ = Eigen::l1CacheSize(), l2_ = Eigen::l2CacheSize(), l3_ = Eigen::l3CacheSize();
};


// FNV-1a over bytes, continuing from `h`.
std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

std::uint64_t hash_params(Net<float>& net) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  net.for_each_param([&](float* p, float*, Eigen::Index n) { h = fnv1a(p, static_cast<std::size_t>(n) * sizeof(float), h); });
  return h;
}

// The training problems: those of the model's device (`all`, in the files' order) and the transfer
// problems, each with its own device's analytical base; what the model file records about them.
struct Gathered {
  std::vector<const ProblemData*> all;
  std::vector<std::pair<const ProblemData*, const AnalyticalModel*>> extra;
  std::map<std::string, std::shared_ptr<const AnalyticalModel>> bases;  // owns extra's bases
  std::string device;
  int sm_count = 0;
  std::set<std::string> dtypes, layouts;
  nlohmann::json data_info = nlohmann::json::array();
  nlohmann::json versions;
  std::string kernel_sizes;  // how the data's kernels took M, N and K (the sidecars' kernel_sizes)
  std::string kernel_sizes_file;  // the first file that said so
};

// The two kernels time large problems' large tiles up to 20% apart (docs/collection.md): one
// model learns from one of them.
void same_kernel_sizes(Gathered& g, const Dataset& ds) {
  const std::string k = kernel_sizes_of(ds);
  if (g.kernel_sizes.empty()) {
    g.kernel_sizes = k;
    g.kernel_sizes_file = ds.path;
  } else if (k != g.kernel_sizes) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("train: {} timed kernels with M, N and K as {}, {} with them as {} "
                            "(--literal-sizes): their times differ; train on one kind",
                            ds.path, k, g.kernel_sizes_file, g.kernel_sizes));
  }
}

Gathered gather(const std::vector<Dataset>& datasets, const std::vector<Dataset>& transfer) {
  Gathered g;
  auto file_info = [](const Dataset& ds) {
    nlohmann::json f = {{"file", ds.path}, {"problems", ds.problems.size()}, {"rows", ds.rows()},
                        {"sample", ds.meta.value("sample", 0)}, {"kernel_sizes", kernel_sizes_of(ds)}};
    try {
      f["sha256"] = sha256_file(ds.path);
    } catch (const Error&) {
      f["sha256"] = nullptr;  // built in memory (tests)
    }
    return f;
  };
  for (const auto& ds : datasets) {
    same_kernel_sizes(g, ds);
    const std::string meta_device = ds.meta.value("device", std::string());
    for (const auto& p : ds.problems) {
      const std::string& dev = p.problem.device.empty() ? meta_device : p.problem.device;
      if (g.device.empty()) g.device = dev;
      if (dev != g.device) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("train: {} holds rows of '{}' but earlier data are from '{}': train one model per device",
                                ds.path, dev, g.device));
      }
      if (p.best_us()) g.all.push_back(&p);
      g.dtypes.insert(std::string(to_string(p.problem.dtype)));
      g.layouts.insert(std::string(to_string(p.problem.layout)));
    }
    if (g.sm_count == 0) g.sm_count = ds.meta.value("sm_count", 0);
    for (const char* key : {"torch", "triton", "cuda", "driver"}) {
      if (ds.meta.contains(key) && !g.versions.contains(key)) g.versions[key] = ds.meta[key];
    }
    g.data_info.push_back(file_info(ds));
  }
  if (g.device.empty()) throw Error(ErrorCode::invalid_argument, "train: the data name no device");
  auto sm_count_of = [](const std::string& dev) {
    auto d = find_device(dev);
    return d ? d->sm_count : 0;
  };
  if (g.sm_count <= 0) {
    g.sm_count = sm_count_of(g.device);
    if (g.sm_count <= 0) g.sm_count = 132;
  }
  for (const auto& ds : transfer) {
    same_kernel_sizes(g, ds);
    const std::string meta_device = ds.meta.value("device", std::string());
    int sms = ds.meta.value("sm_count", 0);
    for (const auto& p : ds.problems) {
      const std::string& dev = p.problem.device.empty() ? meta_device : p.problem.device;
      if (dev.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("train: {} names no device", ds.path));
      if (sms <= 0) sms = sm_count_of(dev);
      if (sms != g.sm_count) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("train: transfer data {} come from '{}' with {} SMs, the model's device '{}' has {}: "
                                "features such as waves would not mean the same",
                                ds.path, dev, sms, g.device, g.sm_count));
      }
      auto& b = g.bases[dev];
      if (!b) b = analytical_model_for(dev);
      if (!p.best_us()) continue;
      g.extra.emplace_back(&p, b.get());
    }
    auto f = file_info(ds);
    f["device"] = meta_device;
    f["role"] = "transfer";
    g.data_info.push_back(std::move(f));
  }
  if (g.all.size() < 2) {
    throw Error(ErrorCode::invalid_argument, fmt::format("train: {} problems with timed rows; need at least 2", g.all.size()));
  }
  return g;
}

// Validation and training problems, each training problem with its analytical base.
struct Split {
  std::vector<const ProblemData*> val, trn;
  std::vector<const AnalyticalModel*> trn_base;
};

// Splits the device's problems by problem (`rng` draws the split and goes on to train member 0),
// then appends the transfer problems, less those that are a validation problem on another device
// (its ranking would leak into training, and validation could no longer compare training with
// and without transfer data).
Split split_problems(const Gathered& g, const TrainOptions& opt, std::mt19937_64& rng, const AnalyticalModel* base) {
  std::vector<std::size_t> order(g.all.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t n_val = static_cast<std::size_t>(std::llround(opt.val_fraction * static_cast<double>(g.all.size())));
  if (opt.val_fraction > 0) n_val = std::clamp<std::size_t>(n_val, 1, g.all.size() - 1);
  // Each part keeps the files' order (positions in `all`; not addresses, whose order across the
  // datasets' separate allocations differs between machines), whatever the shuffle's details.
  const auto val_end = order.begin() + static_cast<std::ptrdiff_t>(n_val);
  std::sort(order.begin(), val_end);
  std::sort(val_end, order.end());
  Split s;
  for (std::size_t i = 0; i < order.size(); ++i) (i < n_val ? s.val : s.trn).push_back(g.all[order[i]]);
  s.trn_base.assign(s.trn.size(), base);
  auto device_free = [](Problem p) {
    p.device.clear();
    return p.to_string();
  };
  std::set<std::string> held_out;
  for (const ProblemData* p : s.val) held_out.insert(device_free(p->problem));
  for (const auto& [p, b] : g.extra) {
    if (held_out.count(device_free(p->problem))) continue;
    s.trn.push_back(p);
    s.trn_base.push_back(b);
  }
  return s;
}

// Features, base and target of every timed, launchable training row, standardised; `schema` is
// fitted to the training rows.
Prepared prepare_rows(const Split& s, FeatureSchema& schema, const TrainOptions& opt) {
  const auto d = static_cast<Eigen::Index>(schema.size());
  const Eigen::Index in = d + (opt.base_input ? 1 : 0);
  std::vector<FeatureMatrix> blocks;
  std::vector<double> logt, logb, rel;
  Prepared prep;
  for (std::size_t t = 0; t < s.trn.size(); ++t) {
    const ProblemData* p = s.trn[t];
    std::vector<Config> cfgs;
    std::vector<double> times;
    for (const auto& r : p->rows) {
      if (!r.timed()) continue;
      cfgs.push_back(r.config);
      times.push_back(*r.time_us_min);
    }
    const auto b = s.trn_base[t]->estimate(p->problem, cfgs);
    std::vector<Config> keep;
    const double best = *p->best_us();
    const std::size_t begin = logt.size();
    for (std::size_t i = 0; i < cfgs.size(); ++i) {
      if (!std::isfinite(b[i]) || !(times[i] > 0)) {
        ++prep.skipped;
        continue;
      }
      keep.push_back(cfgs[i]);
      logt.push_back(std::log(times[i]));
      logb.push_back(std::log(b[i]));
      rel.push_back(std::log(times[i] / best));
    }
    if (keep.empty()) continue;
    FeatureMatrix f(static_cast<Eigen::Index>(keep.size()), d);
    schema.compute(p->problem, keep, f);
    blocks.push_back(std::move(f));
    prep.ranges.emplace_back(begin, logt.size());
  }
  const std::size_t total_rows = prep.rows = logt.size();
  if (total_rows < 2) throw Error(ErrorCode::invalid_argument, "train: fewer than 2 usable training rows");
  FeatureMatrix raw(static_cast<Eigen::Index>(total_rows), d);
  {
    Eigen::Index at = 0;
    for (const auto& f : blocks) {
      raw.middleRows(at, f.rows()) = f;
      at += f.rows();
    }
  }
  schema.fit(raw);
  schema.standardize(raw);
  auto mean_std = [](const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double sq = 0;
    for (double x : v) sq += (x - m) * (x - m);
    sq = n > 1 ? std::sqrt(sq / (n - 1)) : 1.0;
    return std::pair<double, double>(m, sq > 1e-12 ? sq : 1.0);
  };
  std::tie(prep.base_mean, prep.base_std) = mean_std(logb);
  std::vector<double> tgt(total_rows);
  for (std::size_t i = 0; i < total_rows; ++i) tgt[i] = opt.target == "log_residual" ? logt[i] - logb[i] : logt[i];
  std::tie(prep.target_mean, prep.target_std) = mean_std(tgt);
  prep.x.resize(static_cast<Eigen::Index>(total_rows), in);
  prep.x.leftCols(d) = raw;
  prep.y.resize(total_rows);
  prep.rel.resize(total_rows);
  for (std::size_t i = 0; i < total_rows; ++i) {
    if (opt.base_input) prep.x(static_cast<Eigen::Index>(i), d) = static_cast<float>((logb[i] - prep.base_mean) / prep.base_std);
    prep.y[i] = static_cast<float>((tgt[i] - prep.target_mean) / prep.target_std);
    prep.rel[i] = static_cast<float>(rel[i]);
  }
  return prep;
}

// The model's parts for these networks (their BatchNorm folded).
MlpParts make_parts(const std::vector<const Net<float>*>& nets, const FeatureSchema& schema, const std::string& device,
                    const TrainOptions& opt, const Prepared& prep) {
  MlpParts parts;
  parts.schema = schema;
  parts.device = device;
  parts.base_input = opt.base_input;
  parts.base_mean = static_cast<float>(prep.base_mean);
  parts.base_std = static_cast<float>(prep.base_std);
  parts.target = opt.target;
  parts.target_mean = static_cast<float>(prep.target_mean);
  parts.target_std = static_cast<float>(prep.target_std);
  for (const Net<float>* net : nets) {
    auto& layers = parts.members.emplace_back();
    for (auto& [w, b] : net->folded()) layers.push_back({std::move(w), std::move(b)});
  }
  return parts;
}

// One epoch's batches: rows for mse, whole problems for the per-problem losses (with each
// problem's rows within the batch).
struct Batches {
  std::vector<std::vector<std::size_t>> rows;
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> groups;
};

Batches draw_batches(const TrainOptions& opt, const Prepared& prep, std::vector<std::size_t>& row_order,
                     std::vector<std::size_t>& prob_order, std::mt19937_64& rng) {
  Batches out;
  if (opt.loss == "mse") {
    std::shuffle(row_order.begin(), row_order.end(), rng);
    for (std::size_t i = 0; i < prep.rows; i += static_cast<std::size_t>(opt.batch_rows)) {
      const std::size_t e = std::min(prep.rows, i + static_cast<std::size_t>(opt.batch_rows));
      if (e - i < 2) continue;  // BatchNorm needs two rows
      out.rows.emplace_back(row_order.begin() + static_cast<std::ptrdiff_t>(i),
                            row_order.begin() + static_cast<std::ptrdiff_t>(e));
      out.groups.push_back({{0, e - i}});
    }
  } else {
    std::shuffle(prob_order.begin(), prob_order.end(), rng);
    for (std::size_t i = 0; i < prob_order.size(); i += static_cast<std::size_t>(opt.batch_problems)) {
      std::vector<std::size_t> rows;
      std::vector<std::pair<std::size_t, std::size_t>> groups;
      for (std::size_t j = i; j < std::min(prob_order.size(), i + static_cast<std::size_t>(opt.batch_problems)); ++j) {
        const auto [b, e] = prep.ranges[prob_order[j]];
        groups.emplace_back(rows.size(), rows.size() + (e - b));
        for (std::size_t r = b; r < e; ++r) rows.push_back(r);
      }
      if (rows.size() < 2) continue;
      out.rows.push_back(std::move(rows));
      out.groups.push_back(std::move(groups));
    }
  }
  return out;
}

// BatchNorm: exact statistics of all training rows, layer by layer (before folding).
void set_batchnorm_statistics(Net<float>& net, const Mat<float>& x) {
  Mat<float> h = x;
  for (auto& l : net.layers) {
    Mat<float> z = h * l.W.transpose();
    z.rowwise() += l.b;
    if (l.bn) {
      const double n = static_cast<double>(z.rows());
      l.run_mean = z.colwise().mean();
      Mat<float> c = z.rowwise() - l.run_mean;
      l.run_var = (c.array().square().colwise().sum() / static_cast<float>(std::max(1.0, n - 1))).matrix();
      Mat<float> y = c * (l.run_var.array() + static_cast<float>(train::kBnEps)).rsqrt().matrix().asDiagonal();
      z = y * l.gamma.asDiagonal();
      z.rowwise() += l.beta;
    }
    if (l.relu) z = z.cwiseMax(0.0f);
    h = std::move(z);
  }
}

}  // namespace

TrainResult train_model(const std::vector<Dataset>& datasets, const TrainOptions& opt,
                        const std::function<void(const EpochStats&)>& progress,
                        const std::vector<Dataset>& transfer) {
  check_options(opt);
  const FixedProductBlocking blocking;
  const auto clock_start = std::chrono::steady_clock::now();
  const Gathered g = gather(datasets, transfer);
  std::mt19937_64 rng(opt.seed);
  const auto base_model = analytical_model_for(g.device);
  const Split split = split_problems(g, opt, rng, base_model.get());
  const std::vector<const ProblemData*>& val = split.val;
  const std::vector<double> val_default_us = default_list_times(val);  // the same for every epoch
  FeatureSchema schema = FeatureSchema::named(opt.schema, g.sm_count);
  const Prepared prep = prepare_rows(split, schema, opt);
  const Eigen::Index in = prep.x.cols();
  auto parts_of = [&](const std::vector<const Net<float>*>& nets) { return make_parts(nets, schema, g.device, opt, prep); };

  TrainResult result;
  result.train_problems = split.trn.size();
  result.val_problems = val.size();
  result.train_rows = prep.rows;
  {
    std::uint64_t h = fnv1a(prep.x.data(), static_cast<std::size_t>(prep.x.size()) * sizeof(float));
    h = fnv1a(prep.y.data(), prep.y.size() * sizeof(float), h);
    h = fnv1a(prep.rel.data(), prep.rel.size() * sizeof(float), h);
    result.inputs_hash = fnv1a(prep.ranges.data(), prep.ranges.size() * sizeof(prep.ranges[0]), h);
  }
  const double pi = std::acos(-1.0);
  // One network per member: the same split and inputs, its own initialisation and batch order
  // (member 0's are those of a single-network run with this seed). Each keeps the epoch of its
  // best validation score.
  auto train_member = [&](std::size_t member, std::mt19937_64& mrng, int& best_epoch) {
    Net<float> net(static_cast<int>(in), opt.hidden, opt.batchnorm,
                   (opt.seed ^ 0x9e3779b97f4a7c15ULL) + 0x632be59bd9b4e019ULL * member);
    result.init_hashes.push_back(hash_params(net));
    train::Adam<float> adam(net, opt.lr, opt.weight_decay);
    Net<float> best_net = net;
    double best_score = -1;
    std::vector<std::vector<double>> mean;  // average_from: the running mean of each parameter
    int averaged = 0;
    std::vector<std::size_t> row_order(prep.rows), prob_order(prep.ranges.size());
    std::iota(row_order.begin(), row_order.end(), 0);
    std::iota(prob_order.begin(), prob_order.end(), 0);
    Mat<float> xb, grad;
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      adam.lr = opt.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(pi * (epoch - 1) / opt.epochs)));
      const Batches batches = draw_batches(opt, prep, row_order, prob_order, mrng);
      double epoch_loss = 0;
      std::size_t seen = 0;
      for (std::size_t bi = 0; bi < batches.rows.size(); ++bi) {
        const auto& rows = batches.rows[bi];
        xb.resize(static_cast<Eigen::Index>(rows.size()), in);
        for (std::size_t i = 0; i < rows.size(); ++i) xb.row(static_cast<Eigen::Index>(i)) = prep.x.row(static_cast<Eigen::Index>(rows[i]));
        Mat<float> out = net.forward(xb, true);
        const double l = loss_and_grad(opt, prep, rows, batches.groups[bi], out, static_cast<float>(prep.target_std), grad);
        net.backward(grad);
        adam.step(net);
        epoch_loss += l * static_cast<double>(rows.size());
        seen += rows.size();
      }
      EpochStats st;
      st.epoch = epoch;
      st.member = static_cast<int>(member);
      st.train_loss = seen ? epoch_loss / static_cast<double>(seen) : 0;
      st.weights_hash = hash_params(net);
      if (!val.empty()) {
        MlpModel m(parts_of({&net}));
        const auto ra = rank_agreement(m, val, val_default_us);
        st.val_q1 = ra.quality1;
        st.val_q5 = ra.quality5;
        st.val_spearman = ra.spearman;
      }
      st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
      const double score = val.empty() ? epoch : st.val_q1 + st.val_q5 + 0.01 * st.val_spearman;
      if (opt.average_from > 0) {
        if (epoch >= opt.average_from) {
          ++averaged;
          std::size_t i = 0;
          net.for_each_param([&](float* p, float*, Eigen::Index n) {
            if (mean.size() <= i) mean.emplace_back(static_cast<std::size_t>(n), 0.0);
            for (Eigen::Index j = 0; j < n; ++j) mean[i][static_cast<std::size_t>(j)] += (p[j] - mean[i][static_cast<std::size_t>(j)]) / averaged;
            ++i;
          });
        }
      } else if (score > best_score) {
        best_score = score;
        best_net = net;
        best_epoch = epoch;
      }
      result.history.push_back(st);
      if (progress) progress(st);
    }
    if (opt.average_from > 0) {
      std::size_t i = 0;
      net.for_each_param([&](float* p, float*, Eigen::Index n) {
        for (Eigen::Index j = 0; j < n; ++j) p[j] = static_cast<float>(mean[i][static_cast<std::size_t>(j)]);
        ++i;
      });
      best_epoch = opt.epochs;
    } else {
      net = std::move(best_net);
    }
    if (opt.batchnorm) set_batchnorm_statistics(net, prep.x);
    return net;
  };
  std::vector<Net<float>> nets;
  for (std::size_t member = 0; member < static_cast<std::size_t>(opt.members); ++member) {
    std::mt19937_64 mrng = rng;  // member 0 continues the split's generator, as a single network does
    if (member > 0) mrng.seed(opt.seed + 0x9e3779b97f4a7c15ULL * member);
    int best_epoch = 0;
    nets.push_back(train_member(member, mrng, best_epoch));
    result.best_epochs.push_back(best_epoch);
  }
  std::vector<const Net<float>*> net_ptrs;
  for (const auto& n : nets) net_ptrs.push_back(&n);
  MlpParts parts = parts_of(net_ptrs);
  parts.info = {
      {"name", opt.name.empty() ? std::string("mlp") : opt.name},
      {"sm_count", g.sm_count},
      {"dtypes", g.dtypes},
      {"layouts", g.layouts},
      {"created", iso_now()},
      {"gemmsift_version", std::string(version())},
      {"training", {{"options", opt.to_json()},
                    {"data", g.data_info},
                    {"kernel_sizes", g.kernel_sizes},
                    {"problems", split.trn.size()},
                    {"rows", prep.rows},
                    {"rows_skipped_unlaunchable", prep.skipped},
                    {"best_epoch", result.best_epochs.front()},  // member 0's (files before ensembles)
                    {"best_epochs", result.best_epochs}}},
  };
  for (auto it = g.versions.begin(); it != g.versions.end(); ++it) parts.info[it.key() + "_version"] = it.value();
  auto model = std::make_unique<MlpModel>(std::move(parts));
  if (!val.empty()) {
    const auto ra = rank_agreement(*model, val, val_default_us);
    MlpParts with = model->parts();
    with.info["validation"] = {{"problems", val.size()}, {"quality_at_1", ra.quality1},
                               {"quality_at_5", ra.quality5},
                               {"at_least_default_at_5", ra.at_least_default5}, {"spearman", ra.spearman},
                               {"quality_at_5_by_default_anchors", ra.quality5_anchors},
                               {"at_least_default_at_5_by_default_anchors", ra.at_least_default5_anchors},
                               {"median_abs_log_error", ra.median_abs_log_error},
                               {"note", "held-out training problems; oracle = best of each problem's measured configs"}};
    model = std::make_unique<MlpModel>(std::move(with));
  }
  result.model = std::move(model);
  return result;
}

}  // namespace gemmsift
