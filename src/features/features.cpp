#include "gemmsift/features.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

namespace {

struct FeatureDef {
  const char* name;
  const char* description;
};

// The catalog. Ids are positions here; schemas store names, so the order may grow at the end.
constexpr FeatureDef kFeatures[] = {
    {"dtype_bits", "bits per element of A and B (16 or 32)"},
    {"m", "M"},
    {"n", "N"},
    {"k", "K"},
    {"total_gb", "(M*K + K*N + M*N) * bytes / 1e9"},
    {"total_gflop", "2*M*N*K / 1e9"},
    {"flop_per_byte", "total_gflop / total_gb"},
    {"block_k", "BLOCK_K"},
    {"block_m", "BLOCK_M"},
    {"block_n", "BLOCK_N"},
    {"num_stages", "software pipeline stages"},
    {"num_warps", "warps per program"},
    {"group_m", "GROUP_M swizzle"},
    {"batch", "batch count (bmm)"},
    {"a_transposed", "1 if A is stored transposed (layout T?)"},
    {"b_transposed", "1 if B is stored transposed (layout ?T)"},
    {"tiles", "ceil(M/BM) * ceil(N/BN) * batch: programs launched"},
    {"waves", "tiles / SM count"},
    {"tile_efficiency", "M*N*K / (tiles*BM*BN*ceil(K/BK)*BK): share of tile work that is useful"},
    {"k_iters", "ceil(K/BK): main-loop iterations per program"},
    {"smem_bytes", "stages * (BM + BN) * BK * bytes: shared memory for operand buffers"},
    {"acc_regs", "BM*BN / (warps*32): accumulator registers per thread"},
    {"even_k", "1 if K is a multiple of BLOCK_K"},
    {"wave_efficiency", "tiles / (ceil(waves) * SM count): occupancy of the last wave"},
    // Triton specializes integer arguments divisible by 16 (vectorized, aligned loads); Inductor's
    // A_HINT/B_HINT add a contiguity hint. Unaligned shapes run a different kernel.
    {"m_div16", "1 if M is a multiple of 16"},
    {"n_div16", "1 if N is a multiple of 16"},
    {"k_div16", "1 if K is a multiple of 16"},
    {"a_lead_div16", "1 if A's leading stride (K for layout N?, M for T?) is a multiple of 16"},
    {"b_lead_div16", "1 if B's leading stride (N for layout ?N, K for ?T) is a multiple of 16"},
    {"a_hint", "1 if Inductor's A_HINT holds: M >= BLOCK_M and K > 1"},
    {"b_hint", "1 if Inductor's B_HINT holds: N >= BLOCK_N and K > 1"},
};
constexpr int kNumFeatures = static_cast<int>(sizeof(kFeatures) / sizeof(kFeatures[0]));

int feature_id(std::string_view name) {
  for (int i = 0; i < kNumFeatures; ++i) {
    if (name == kFeatures[i].name) return i;
  }
  std::vector<std::string> names;
  for (const auto& f : kFeatures) names.emplace_back(f.name);
  throw Error(ErrorCode::not_found,
              fmt::format("unknown feature '{}': known features are {}", name,
                          detail::join(names, ", ")));
}

double raw_feature(int id, const Problem& p, const Config& c, int sm_count) {
  const double m = static_cast<double>(p.m), n = static_cast<double>(p.n),
               k = static_cast<double>(p.k), batch = static_cast<double>(p.batch);
  const double bytes = dtype_bytes(p.dtype);
  auto tiles = [&] {
    return static_cast<double>(detail::ceil_div(p.m, c.block_m) * detail::ceil_div(p.n, c.block_n)) *
           batch;
  };
  switch (id) {
    case 0: return bytes * 8;
    case 1: return m;
    case 2: return n;
    case 3: return k;
    case 4: return (m * k + k * n + m * n) * bytes / 1e9;
    case 5: return 2.0 * m * n * k / 1e9;
    case 6: return (2.0 * m * n * k / 1e9) / ((m * k + k * n + m * n) * bytes / 1e9);
    case 7: return c.block_k;
    case 8: return c.block_m;
    case 9: return c.block_n;
    case 10: return c.num_stages;
    case 11: return c.num_warps;
    case 12: return c.group_m;
    case 13: return batch;
    case 14: return a_transposed(p.layout) ? 1.0 : 0.0;
    case 15: return b_transposed(p.layout) ? 1.0 : 0.0;
    case 16: return tiles();
    case 17: return tiles() / sm_count;
    case 18: {
      double kpad = static_cast<double>(detail::ceil_div(p.k, c.block_k) * c.block_k);
      return (m * n * k * batch) / (tiles() * c.block_m * c.block_n * kpad);
    }
    case 19: return static_cast<double>(detail::ceil_div(p.k, c.block_k));
    case 20: return c.num_stages * static_cast<double>(c.block_m + c.block_n) * c.block_k * bytes;
    case 21: return static_cast<double>(c.block_m) * c.block_n / (c.num_warps * 32.0);
    case 22: return p.k % c.block_k == 0 ? 1.0 : 0.0;
    case 23: {
      double t = tiles();
      return t / (std::ceil(t / sm_count) * sm_count);
    }
    case 24: return p.m % 16 == 0 ? 1.0 : 0.0;
    case 25: return p.n % 16 == 0 ? 1.0 : 0.0;
    case 26: return p.k % 16 == 0 ? 1.0 : 0.0;
    case 27: return (a_transposed(p.layout) ? p.m : p.k) % 16 == 0 ? 1.0 : 0.0;
    case 28: return (b_transposed(p.layout) ? p.k : p.n) % 16 == 0 ? 1.0 : 0.0;
    case 29: return p.m >= c.block_m && p.k > 1 ? 1.0 : 0.0;
    case 30: return p.n >= c.block_n && p.k > 1 ? 1.0 : 0.0;
    default: return 0;
  }
}

std::string_view transform_name(Transform t) { return t == Transform::log ? "log" : "none"; }

Transform parse_transform(std::string_view s) {
  if (s == "log") return Transform::log;
  if (s == "none") return Transform::none;
  throw Error(ErrorCode::parse, fmt::format("unknown feature transform '{}': expected log or none", s));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> known_features() {
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& f : kFeatures) v.emplace_back(f.name, f.description);
  return v;
}

FeatureSchema::FeatureSchema(std::string name, std::vector<FeatureSpec> specs, int sm_count)
    : name_(std::move(name)), specs_(std::move(specs)), sm_count_(sm_count) {
  if (sm_count_ <= 0) throw Error(ErrorCode::invalid_argument, "feature schema: sm_count must be positive");
  for (const auto& s : specs_) ids_.push_back(feature_id(s.name));
}

FeatureSchema FeatureSchema::named(std::string_view name, int sm_count) {
  auto logs = [](std::initializer_list<const char*> names) {
    std::vector<FeatureSpec> v;
    for (const char* n : names) v.push_back({n, Transform::log});
    return v;
  };
  if (name == "proposal12") {
    return FeatureSchema("proposal12",
                         logs({"dtype_bits", "m", "n", "k", "total_gb", "total_gflop",
                               "flop_per_byte", "block_k", "block_m", "block_n", "num_stages",
                               "num_warps"}),
                         sm_count);
  }
  if (name == "gemmsift1" || name == "gemmsift2") {
    auto v = logs({"dtype_bits", "m", "n", "k", "total_gb", "total_gflop", "flop_per_byte",
                   "block_k", "block_m", "block_n", "num_stages", "num_warps", "group_m",
                   "tiles", "waves", "tile_efficiency", "k_iters", "smem_bytes", "acc_regs",
                   "wave_efficiency"});
    std::vector<const char*> flags = {"a_transposed", "b_transposed", "even_k"};
    if (name == "gemmsift2") {  // gemmsift1 and the alignment Triton and Inductor specialize on
      flags.insert(flags.end(), {"m_div16", "n_div16", "k_div16", "a_lead_div16", "b_lead_div16",
                                 "a_hint", "b_hint"});
    }
    for (const char* f : flags) v.push_back({f, Transform::none});
    return FeatureSchema(std::string(name), std::move(v), sm_count);
  }
  throw Error(ErrorCode::not_found,
              fmt::format("unknown feature schema '{}': known schemas are {}", name,
                          detail::join(schema_names(), ", ")));
}

std::vector<std::string> FeatureSchema::schema_names() { return {"proposal12", "gemmsift1", "gemmsift2"}; }

void FeatureSchema::compute(const Problem& problem, std::span<const Config> configs,
                            Eigen::Ref<FeatureMatrix> out) const {
  if (out.rows() != static_cast<Eigen::Index>(configs.size()) ||
      out.cols() != static_cast<Eigen::Index>(specs_.size())) {
    throw Error(ErrorCode::internal, "feature matrix has the wrong shape");
  }
  // Features of the problem alone (dtype, M, N, K, sizes, batch, layout, alignment) are the same in every
  // row: computed once.
  auto problem_only = [](int id) { return id <= 6 || (id >= 13 && id <= 15) || (id >= 24 && id <= 28); };
  for (std::size_t f = 0; f < specs_.size(); ++f) {
    const bool shared = problem_only(ids_[f]);
    const bool log = specs_[f].transform == Transform::log;
    float first = 0;
    double last_raw = std::numeric_limits<double>::quiet_NaN(), last_log = 0;  // configs repeat values
    for (std::size_t r = 0; r < configs.size(); ++r) {
      if (shared && r > 0) {
        out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(f)) = first;
        continue;
      }
      double v = raw_feature(ids_[f], problem, configs[r], sm_count_);
      if (log) {
        if (v != last_raw) {
          last_raw = v;
          last_log = std::log(std::max(v, 1e-30));
        }
        v = last_log;
      }
      out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(f)) = static_cast<float>(v);
      if (r == 0) first = static_cast<float>(v);
    }
  }
}

void FeatureSchema::standardize(Eigen::Ref<FeatureMatrix> x) const {
  if (!fitted()) throw Error(ErrorCode::internal, "feature schema has no normalisation");
  x.rowwise() -= mean_.transpose();
  x.array().rowwise() /= std_.transpose().array();
}

FeatureMatrix FeatureSchema::encode(const Problem& problem, std::span<const Config> configs) const {
  FeatureMatrix x(static_cast<Eigen::Index>(configs.size()), static_cast<Eigen::Index>(size()));
  compute(problem, configs, x);
  standardize(x);
  return x;
}

void FeatureSchema::fit(const FeatureMatrix& x) {
  if (x.cols() != static_cast<Eigen::Index>(size()) || x.rows() < 2) {
    throw Error(ErrorCode::invalid_argument, "feature schema: need at least two rows to fit");
  }
  Eigen::VectorXd mean = x.cast<double>().colwise().mean().transpose();
  Eigen::VectorXd var = ((x.cast<double>().rowwise() - mean.transpose()).array().square())
                            .colwise()
                            .sum()
                            .transpose() /
                        static_cast<double>(x.rows() - 1);
  mean_ = mean.cast<float>();
  std_ = var.array().sqrt().cast<float>();
  for (Eigen::Index i = 0; i < std_.size(); ++i) {
    if (!(std_[i] > 1e-12f)) std_[i] = 1.0f;  // a constant column carries no information
  }
}

void FeatureSchema::set_normalization(Eigen::VectorXf mean, Eigen::VectorXf stddev) {
  if (mean.size() != static_cast<Eigen::Index>(size()) || stddev.size() != mean.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("feature schema {}: normalisation has {} values, expected {}", name_,
                            mean.size(), size()));
  }
  mean_ = std::move(mean);
  std_ = std::move(stddev);
}

nlohmann::json FeatureSchema::to_json() const {
  nlohmann::json feats = nlohmann::json::array();
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    nlohmann::json f = {{"name", specs_[i].name}, {"transform", transform_name(specs_[i].transform)}};
    if (fitted()) {
      f["mean"] = mean_[static_cast<Eigen::Index>(i)];
      f["std"] = std_[static_cast<Eigen::Index>(i)];
    }
    feats.push_back(std::move(f));
  }
  return {{"name", name_}, {"sm_count", sm_count_}, {"features", std::move(feats)}};
}

FeatureSchema FeatureSchema::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("features") || !j["features"].is_array() ||
      !j.contains("name") || !j["name"].is_string()) {
    throw Error(ErrorCode::parse, "feature schema: expected {\"name\", \"features\": [...]}");
  }
  std::vector<FeatureSpec> specs;
  std::vector<float> mean, stddev;
  const auto& feats = j["features"];
  for (std::size_t i = 0; i < feats.size(); ++i) {
    const auto& f = feats[i];
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) {
      throw Error(ErrorCode::parse, fmt::format("feature schema: /features/{}: expected {{\"name\": ...}}", i));
    }
    FeatureSpec s{f["name"].get<std::string>(), Transform::log};
    if (f.contains("transform")) s.transform = parse_transform(f["transform"].get<std::string>());
    specs.push_back(s);
    if (f.contains("mean") && f.contains("std")) {
      if (!f["mean"].is_number() || !f["std"].is_number()) {
        throw Error(ErrorCode::parse, fmt::format("feature schema: /features/{}: mean and std must be numbers", i));
      }
      mean.push_back(f["mean"].get<float>());
      stddev.push_back(f["std"].get<float>());
    }
  }
  int sm = j.value("sm_count", 132);
  FeatureSchema schema(j["name"].get<std::string>(), std::move(specs), sm);
  if (!mean.empty()) {
    if (mean.size() != schema.size()) {
      throw Error(ErrorCode::parse, "feature schema: every feature or none must carry mean and std");
    }
    schema.set_normalization(Eigen::Map<Eigen::VectorXf>(mean.data(), static_cast<Eigen::Index>(mean.size())),
                             Eigen::Map<Eigen::VectorXf>(stddev.data(), static_cast<Eigen::Index>(stddev.size())));
  }
  return schema;
}

bool operator==(const FeatureSchema& a, const FeatureSchema& b) {
  return a.name_ == b.name_ && a.specs_ == b.specs_ && a.sm_count_ == b.sm_count_ &&
         a.mean_.size() == b.mean_.size() && a.mean_ == b.mean_ && a.std_ == b.std_;
}

}  // namespace gemmsift
