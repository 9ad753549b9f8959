#include "models/mlp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "gemmsift/error.h"
#include "gemmsift/safetensors.h"
#include "models/model_file.h"

namespace gemmsift {

namespace {
// Tensor names: "layers.I.weight" for a single network (the format before ensembles), else
// "members.M.layers.I.weight".
std::string member_prefix(std::size_t member, std::size_t members) {
  return members == 1 ? std::string() : fmt::format("members.{}.", member);
}
}  // namespace

MlpModel::MlpModel(MlpParts parts, std::string source) : parts_(std::move(parts)), source_(std::move(source)) {
  auto bad = [&](const std::string& what) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}mlp model: {}", source_.empty() ? "" : source_ + ": ", what));
  };
  if (!parts_.schema.fitted()) bad("the feature schema has no normalisation");
  if (parts_.target != "log_us" && parts_.target != "log_residual") {
    bad(fmt::format("target '{}': expected log_us or log_residual", parts_.target));
  }
  if (parts_.target == "log_residual" && !parts_.base_input) bad("target log_residual needs the base input");
  if (parts_.members.empty()) bad("no networks");
  const Eigen::Index inputs = static_cast<Eigen::Index>(parts_.schema.size()) + (parts_.base_input ? 1 : 0);
  for (std::size_t m = 0; m < parts_.members.size(); ++m) {
    const auto& layers = parts_.members[m];
    const std::string who = parts_.members.size() > 1 ? fmt::format("member {} ", m) : std::string();
    if (layers.empty()) bad(who + "has no layers");
    Eigen::Index in = inputs;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& l = layers[i];
      if (l.weight.cols() != in) {
        bad(fmt::format("{}layer {} takes {} inputs, the layer before gives {}", who, i, l.weight.cols(), in));
      }
      if (l.bias.size() != l.weight.rows()) {
        bad(fmt::format("{}layer {} has {} outputs but {} biases", who, i, l.weight.rows(), l.bias.size()));
      }
      if (!l.weight.allFinite() || !l.bias.allFinite()) bad(fmt::format("{}layer {} holds a NaN or infinity", who, i));
      in = l.weight.rows();
    }
    if (in != 1) bad(fmt::format("{}the last layer has {} outputs, expected 1", who, in));
  }
  if (!(parts_.target_std > 0) || !(parts_.base_std > 0) || !std::isfinite(parts_.target_mean) ||
      !std::isfinite(parts_.base_mean)) {
    bad("target or base normalisation is not finite and positive");
  }
  base_ = analytical_model_for(parts_.device);
  if (const auto t = parts_.info.find("training"); t != parts_.info.end() && t->is_object()) {
    const auto k = t->find("kernel_sizes");
    arguments_data_ = k == t->end() || !k->is_string() || k->get<std::string>() == "arguments";
  }
  for (const auto& layers : parts_.members) {
    auto& dl = dense_.emplace_back();
    for (const auto& l : layers) {
      dl.push_back(DenseLayer::from_row_major(l.weight.data(), l.bias.data(), static_cast<std::size_t>(l.weight.rows()),
                                              static_cast<std::size_t>(l.weight.cols())));
    }
  }
}

void MlpModel::set_off16(std::string_view policy) {
  require_off16_policy(policy);
  off16_ = !arguments_data_ || policy == "learned" ? Off16::learned
           : policy == "analytical"                ? Off16::analytical
                                                   : Off16::padded;
}

std::string_view MlpModel::off16() const noexcept {
  switch (off16_) {
    case Off16::analytical: return "analytical";
    case Off16::padded: return "padded";
    case Off16::learned: break;
  }
  return "learned";
}

std::size_t MlpModel::macs_per_config() const {
  std::size_t macs = 0;
  for (const auto& layers : parts_.members) {
    for (const auto& l : layers) macs += static_cast<std::size_t>(l.weight.size());
  }
  return macs;
}

std::vector<double> MlpModel::estimate(const Problem& problem, std::span<const Config> configs) const {
  if (off16_ == Off16::padded && even_stride_off16(problem)) {
    // Terminates: the padded problem's padded dimensions are multiples of 16 (off16_padded).
    if (const Problem padded = off16_padded(problem); !(padded == problem)) return estimate(padded, configs);
  }
  std::vector<double> out(configs.size(), std::numeric_limits<double>::infinity());
  if (configs.empty()) return out;
  const std::vector<double> base = base_->estimate(problem, configs);
  if (off16_ == Off16::analytical && even_stride_off16(problem)) {
    // The base model's estimates, on the networks' scale: times the training targets' mean
    // residual for a residual model (a constant factor: the ranking is the base model's).
    const double scale = parts_.target == "log_residual" ? std::exp(static_cast<double>(parts_.target_mean)) : 1.0;
    for (std::size_t u = 0; u < configs.size(); ++u) out[u] = base[u] * scale;
    return out;
  }
  // Configs that cannot launch (infinite base) keep +inf and skip the network.
  std::vector<std::size_t> live;
  live.reserve(configs.size());
  for (std::size_t u = 0; u < configs.size(); ++u) {
    if (std::isfinite(base[u])) live.push_back(u);
  }
  std::vector<Config> live_configs;
  std::span<const Config> todo = configs;
  if (live.size() != configs.size()) {
    live_configs.reserve(live.size());
    for (std::size_t u : live) live_configs.push_back(configs[u]);
    todo = live_configs;
  }
  const auto d = static_cast<Eigen::Index>(parts_.schema.size());
  const Eigen::Index in = d + (parts_.base_input ? 1 : 0);
  // Blocks of rows keep every buffer small and in cache (large temporaries cost page faults).
  constexpr std::size_t kBlock = 128;
  const bool residual = parts_.target == "log_residual";
  FeatureMatrix x;
  std::vector<float> h, z, sum;
  for (std::size_t start = 0; start < todo.size(); start += kBlock) {
    const std::size_t count = std::min(kBlock, todo.size() - start);
    const auto rows = static_cast<Eigen::Index>(count);
    x.resize(rows, in);
    parts_.schema.compute(problem, todo.subspan(start, count), x.leftCols(d));
    parts_.schema.standardize(x.leftCols(d));
    if (parts_.base_input) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        const double b = base[live[start + static_cast<std::size_t>(i)]];
        x(i, d) = (static_cast<float>(std::log(b)) - parts_.base_mean) / parts_.base_std;
      }
    }
    sum.assign(count, 0.0f);
    for (const auto& layers : dense_) {
      const float* cur = x.data();
      std::size_t stride = static_cast<std::size_t>(in);
      for (std::size_t li = 0; li < layers.size(); ++li) {
        const DenseLayer& l = layers[li];
        std::vector<float>& dst = (li % 2 == 0) ? h : z;
        dst.resize(count * l.out_stride);
        dense_forward(l, cur, count, stride, li + 1 < layers.size(), dst.data());
        cur = dst.data();
        stride = l.out_stride;
      }
      for (std::size_t i = 0; i < count; ++i) sum[i] += cur[i * stride];
    }
    const double members = static_cast<double>(dense_.size());
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t u = live[start + i];
      double logt = static_cast<double>(sum[i]) / members * parts_.target_std + parts_.target_mean;
      if (residual) logt += std::log(base[u]);
      out[u] = std::exp(logt);
    }
  }
  return out;
}

std::string MlpModel::name() const {
  if (!source_.empty()) return source_;
  return parts_.info.value("name", std::string("mlp"));
}

nlohmann::json MlpModel::metadata() const {
  nlohmann::json m = parts_.info;
  m["kind"] = "mlp";
  m["device"] = parts_.device;
  m["schema"] = parts_.schema.to_json();
  m["base_input"] = parts_.base_input;
  m["base"] = {{"model", "analytical"}, {"mean", parts_.base_mean}, {"std", parts_.base_std}};
  m["target"] = {{"name", parts_.target}, {"mean", parts_.target_mean}, {"std", parts_.target_std}};
  nlohmann::json sizes = nlohmann::json::array();
  for (const auto& l : parts_.members.front()) sizes.push_back(l.weight.rows());
  m["layers"] = sizes;
  if (parts_.members.size() > 1) m["members"] = parts_.members.size();
  m["macs_per_config"] = macs_per_config();
  return m;
}

void MlpModel::save(const std::string& path) const {
  SafetensorsFile f;
  f.metadata = model_file_metadata(metadata());
  for (std::size_t m = 0; m < parts_.members.size(); ++m) {
    const auto& layers = parts_.members[m];
    const std::string prefix = member_prefix(m, parts_.members.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& l = layers[i];
      std::vector<float> w(l.weight.data(), l.weight.data() + l.weight.size());
      std::vector<float> b(l.bias.data(), l.bias.data() + l.bias.size());
      f.tensors[fmt::format("{}layers.{}.weight", prefix, i)] = Tensor::from_floats(w, {l.weight.rows(), l.weight.cols()});
      f.tensors[fmt::format("{}layers.{}.bias", prefix, i)] = Tensor::from_floats(b, {l.bias.size()});
    }
  }
  write_safetensors(path, f);
}

namespace {

float number(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) {
    throw Error(ErrorCode::parse, fmt::format("{}.{} must be a number", where, key));
  }
  return j[key].get<float>();
}

std::unique_ptr<PerformanceModel> load_mlp(const std::string& path, const nlohmann::json& meta,
                                           const ModelOptions& options) {
  const std::string where = path + ": __metadata__.gemmsift";
  MlpParts p;
  try {
    p.schema = FeatureSchema::from_json(meta.at("schema"));
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorCode::parse, fmt::format("{}.schema is missing or malformed", where));
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}.schema: {}", where, e.what()));
  }
  if (!meta.contains("device") || !meta["device"].is_string()) {
    throw Error(ErrorCode::parse, fmt::format("{}.device must be a string", where));
  }
  p.device = meta["device"].get<std::string>();
  p.base_input = meta.value("base_input", false);
  p.base_mean = number(meta.value("base", nlohmann::json()), "mean", where + ".base");
  p.base_std = number(meta.value("base", nlohmann::json()), "std", where + ".base");
  const auto& t = meta.value("target", nlohmann::json());
  if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) {
    throw Error(ErrorCode::parse, fmt::format("{}.target.name must be a string", where));
  }
  p.target = t["name"].get<std::string>();
  p.target_mean = number(t, "mean", where + ".target");
  p.target_std = number(t, "std", where + ".target");
  const auto& sizes = meta.value("layers", nlohmann::json());
  if (!sizes.is_array() || sizes.empty()) {
    throw Error(ErrorCode::parse, fmt::format("{}.layers must be a non-empty array", where));
  }
  std::size_t members = 1;
  if (meta.contains("members")) {
    const auto& jm = meta["members"];
    if (!jm.is_number_unsigned() || jm.get<std::size_t>() < 1 || jm.get<std::size_t>() > 64) {
      throw Error(ErrorCode::parse, fmt::format("{}.members must be a whole number from 1 to 64", where));
    }
    members = jm.get<std::size_t>();
  }
  SafetensorsFile f = read_safetensors(path);
  auto get = [&](const std::string& name) -> const Tensor& {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) {
      throw Error(ErrorCode::parse, fmt::format("{}: tensor '{}' is missing", path, name));
    }
    if (it->second.dtype != "F32") {
      throw Error(ErrorCode::parse, fmt::format("{}: tensor '{}' is {}, expected F32", path, name, it->second.dtype));
    }
    return it->second;
  };
  for (std::size_t m = 0; m < members; ++m) {
    const std::string prefix = member_prefix(m, members);
    auto& layers = p.members.emplace_back();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const Tensor& w = get(fmt::format("{}layers.{}.weight", prefix, i));
      const Tensor& b = get(fmt::format("{}layers.{}.bias", prefix, i));
      if (w.shape.size() != 2 || b.shape.size() != 1 || b.shape[0] != w.shape[0]) {
        throw Error(ErrorCode::parse, fmt::format("{}: {}layers.{} has weight shape [{}] and bias shape [{}]", path, prefix,
                                                  i, fmt::join(w.shape, ", "), fmt::join(b.shape, ", ")));
      }
      MlpLayer l;
      auto wv = w.to_floats();
      auto bv = b.to_floats();
      l.weight = Eigen::Map<FeatureMatrix>(wv.data(), w.shape[0], w.shape[1]);
      l.bias = Eigen::Map<Eigen::RowVectorXf>(bv.data(), b.shape[0]);
      layers.push_back(std::move(l));
    }
  }
  if (f.tensors.size() != 2 * sizes.size() * members) {
    throw Error(ErrorCode::parse, fmt::format("{}: {} tensors, expected {} (a weight and a bias per layer{})", path,
                                              f.tensors.size(), 2 * sizes.size() * members,
                                              members > 1 ? fmt::format(", {} networks", members) : std::string()));
  }
  p.info = meta;
  for (const char* k : {"schema", "base", "base_input", "target", "layers", "members", "macs_per_config"}) p.info.erase(k);
  check_model_environment(meta, path, options);
  std::unique_ptr<MlpModel> model;
  try {
    model = std::make_unique<MlpModel>(std::move(p), path);
  } catch (const Error& e) {
    throw Error(ErrorCode::parse, e.what());
  }
  model->set_off16(options.off16);
  return model;
}

}  // namespace

ModelKindInfo mlp_model_kind() {
  ModelKindInfo info;
  info.kind = "mlp";
  info.description =
      "learned multilayer perceptron over a feature schema (and the analytical estimate), trained on "
      "measured datasets with `gemmsift train`; loaded from a .safetensors file";
  info.loader = load_mlp;
  return info;
}

}  // namespace gemmsift
