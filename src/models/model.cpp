#include "gemmsift/model.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/file_util.h"
#include "core/strings.h"
#include "gemmsift/error.h"
#include "gemmsift/safetensors.h"
#include "gemmsift/device.h"
#include "models/analytical.h"
#include "models/mlp.h"
#include "models/model_file.h"

namespace gemmsift {

void PerformanceModel::save(const std::string& path) const {
  throw Error(ErrorCode::unsupported, fmt::format("model {} cannot be saved to {}", name(), path));
}

std::map<std::string, std::string> model_file_metadata(const nlohmann::json& metadata) {
  std::map<std::string, std::string> raw;
  raw["format"] = kModelFormat;
  raw["format_version"] = std::to_string(kModelFormatVersion);
  for (const char* key : {"kind", "device", "dtype"}) {
    if (metadata.contains(key) && metadata[key].is_string()) raw[key] = metadata[key].get<std::string>();
  }
  raw["gemmsift"] = metadata.dump();
  return raw;
}

nlohmann::json parse_model_file_metadata(const std::map<std::string, std::string>& raw,
                                         const std::string& path) {
  auto it = raw.find("format");
  if (it == raw.end() || it->second != kModelFormat) {
    throw Error(ErrorCode::parse,
                fmt::format("{}: not a gemmsift model file (__metadata__.format must be '{}')", path,
                            kModelFormat));
  }
  auto ver = raw.find("format_version");
  if (ver == raw.end() || ver->second != std::to_string(kModelFormatVersion)) {
    throw Error(ErrorCode::mismatch,
                fmt::format("{}: model format version '{}' is not supported (supported: {})", path,
                            ver == raw.end() ? "missing" : ver->second, kModelFormatVersion));
  }
  auto js = raw.find("gemmsift");
  if (js == raw.end()) {
    throw Error(ErrorCode::parse, fmt::format("{}: __metadata__.gemmsift is missing", path));
  }
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(js->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::parse, fmt::format("{}: __metadata__.gemmsift is not valid JSON ({})", path,
                                              e.id == 101 ? "syntax" : "out of range"));
  }
  if (!meta.is_object() || !meta.contains("kind") || !meta["kind"].is_string()) {
    throw Error(ErrorCode::parse, fmt::format("{}: __metadata__.gemmsift must be an object with a \"kind\"", path));
  }
  return meta;
}

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<ModelKindInfo> kinds;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;  // never destroyed: models may be created during static teardown
    reg->kinds.push_back(analytical_model_kind());
    reg->kinds.push_back(mlp_model_kind());
    return reg;
  }();
  return *r;
}

std::string kind_list(const std::vector<ModelKindInfo>& kinds) {
  std::vector<std::string> names;
  for (const auto& k : kinds) names.push_back(k.kind);
  return detail::join(names, ", ");
}

// "kind:key=value,..." names a registered kind even when a value is a path; anything else with a
// slash, a .safetensors suffix, or naming an existing file is a model file.
bool looks_like_path(std::string_view spec, const std::vector<ModelKindInfo>& kinds) {
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    for (const auto& k : kinds) {
      if (spec.substr(0, colon) == k.kind) return false;
    }
  }
  return spec.ends_with(".safetensors") || spec.find('/') != std::string_view::npos ||
         detail::file_exists(std::string(spec));
}

}  // namespace

void register_model_kind(ModelKindInfo info) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& k : r.kinds) {
    if (k.kind == info.kind) {
      throw Error(ErrorCode::invalid_argument, fmt::format("model kind '{}' is already registered", info.kind));
    }
  }
  r.kinds.push_back(std::move(info));
}

std::vector<ModelKindInfo> model_kinds() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.kinds;
}

std::vector<std::string> model_staleness(const nlohmann::json& metadata, std::string_view running_device,
                                         std::string_view running_triton) {
  std::vector<std::string> why;
  const std::string dev = metadata.value("device", std::string());
  if (!running_device.empty() && !dev.empty()) {
    auto a = find_device(dev), b = find_device(running_device);
    const bool same = (a && b) ? a->name == b->name : detail::lower(dev) == detail::lower(running_device);
    if (!same) {
      why.push_back(fmt::format("it was trained on {} but runs on {}", dev, running_device));
    }
  }
  const std::string triton = metadata.value("triton_version", std::string());
  if (!running_triton.empty() && !triton.empty() && triton != running_triton) {
    why.push_back(fmt::format("its training data were measured with Triton {} but Triton {} runs", triton,
                              running_triton));
  }
  return why;
}

void check_model_environment(const nlohmann::json& metadata, const std::string& path,
                             const ModelOptions& options) {
  const auto why = model_staleness(metadata, options.expect_device, options.expect_triton);
  if (why.empty()) return;
  if (options.mismatch_policy == "refuse") {
    throw Error(ErrorCode::mismatch, fmt::format("{}: refused: {}", path, detail::join(why, "; ")));
  }
  for (const auto& w : why) {
    warn_once("stale|" + path + "|" + w,
              fmt::format("model {}: {}; its predictions may be off (retrain, or check with gemmsift drift)", path, w));
  }
}

nlohmann::json read_model_metadata(const std::string& path) {
  return parse_model_file_metadata(read_safetensors_metadata(path), path);
}

std::vector<std::string> model_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("GEMMSIFT_MODEL_DIR"); env && *env) {
    for (auto part : detail::split(env, ':')) {
      if (!part.empty()) dirs.emplace_back(part);
    }
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&model_search_dirs), &info) && info.dli_fname) {
    std::error_code ec;
    auto self = std::filesystem::weakly_canonical(info.dli_fname, ec);
    if (!ec) {
      const auto here = self.parent_path();
      for (const auto& d : {here / "models", here.parent_path() / "models", here.parent_path() / "share" / "gemmsift" / "models"}) {
        dirs.push_back(d.string());
      }
    }
  }
  return dirs;
}

std::string find_shipped_model(std::string_view device_in, DType dtype) {
  const std::string device = device_in.empty() ? std::string("H100-SXM") : std::string(device_in);
  const std::string want_dtype(to_string(dtype));
  for (const auto& dir : model_search_dirs()) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".safetensors") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      nlohmann::json meta;
      try {
        meta = read_model_metadata(f.string());
      } catch (const Error&) {
        continue;  // not a model file of this version
      }
      if (!model_staleness(meta, device, "").empty() || !meta.contains("device")) continue;
      const auto& dt = meta.value("dtypes", nlohmann::json::array());
      if (std::find(dt.begin(), dt.end(), want_dtype) == dt.end()) continue;
      return f.string();
    }
  }
  return {};
}

std::unique_ptr<PerformanceModel> default_model(const ModelOptions& options) {
  const std::string path = find_shipped_model(options.expect_device, options.dtype);
  if (!path.empty()) return create_model(path, options);
  const std::string device = options.expect_device.empty() ? std::string("H100-SXM") : options.expect_device;
  if (!options.auto_fallback) {
    throw Error(ErrorCode::not_found,
                fmt::format("no shipped model for {} {} (searched {})", device, to_string(options.dtype),
                            detail::join(model_search_dirs(), ", ")));
  }
  auto known = find_device(device);
  warn_once(fmt::format("no model|{}|{}", device, to_string(options.dtype)),
            fmt::format("no shipped model for {} {} (searched {}): using the analytical model", device,
                        to_string(options.dtype), detail::join(model_search_dirs(), ", ")));
  return create_model(known ? "analytical:device=" + known->name : std::string("analytical"), options);
}

bool even_stride_off16(const Problem& p) noexcept {
  const std::int64_t a = a_transposed(p.layout) ? p.m : p.k;
  const std::int64_t b = b_transposed(p.layout) ? p.k : p.n;
  for (const std::int64_t s : {a, b, p.n}) {
    if (s % 16 != 0 && s % 2 == 0) return true;
  }
  return false;
}

void require_off16_policy(std::string_view policy, std::string_view option) {
  if (policy != "learned" && policy != "analytical" && policy != "padded") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} '{}': expected padded (the default), learned or analytical", option, policy));
  }
}

Problem off16_padded(const Problem& p) noexcept {
  const int bytes = dtype_bytes(p.dtype);
  auto pad = [bytes](std::int64_t& dim) {
    if (dim % 16 != 0 && dim % 2 == 0 && dim * bytes % 8 == 0) dim = (dim + 15) / 16 * 16;
  };
  Problem out = p;
  // A's stride (M or K), B's (K or N), C's (N); a padded dimension is a multiple of 16, so a
  // second stride of the same dimension leaves it alone.
  pad(a_transposed(p.layout) ? out.m : out.k);
  pad(b_transposed(p.layout) ? out.k : out.n);
  pad(out.n);
  return out;
}

std::unique_ptr<PerformanceModel> create_model(std::string_view spec_in, const ModelOptions& options) {
  std::string_view spec = detail::trim(spec_in);
  if (spec.empty()) throw Error(ErrorCode::invalid_argument, "empty model spec");
  if (options.mismatch_policy != "warn" && options.mismatch_policy != "refuse") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("mismatch policy '{}': expected warn or refuse", options.mismatch_policy));
  }
  require_off16_policy(options.off16);
  if (spec == "auto") return default_model(options);
  auto kinds = model_kinds();
  if (looks_like_path(spec, kinds)) {
    std::string path(spec);
    nlohmann::json meta = read_model_metadata(path);
    std::string kind = meta["kind"].get<std::string>();
    for (const auto& k : kinds) {
      if (k.kind == kind && k.loader) return k.loader(path, meta, options);
    }
    throw Error(ErrorCode::not_found,
                fmt::format("{}: model kind '{}' is not known to this build: known kinds are {}",
                            path, kind, kind_list(kinds)));
  }
  std::string_view kind = spec;
  std::vector<std::pair<std::string, std::string>> params;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    kind = spec.substr(0, colon);
    for (auto part : detail::split(spec.substr(colon + 1), ',')) {
      part = detail::trim(part);
      if (part.empty()) continue;
      auto eq = part.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        throw Error(ErrorCode::parse,
                    fmt::format("model spec '{}': expected key=value, got '{}'", spec, part));
      }
      params.emplace_back(std::string(detail::trim(part.substr(0, eq))),
                          std::string(detail::trim(part.substr(eq + 1))));
    }
  }
  for (const auto& k : kinds) {
    if (k.kind == kind) {
      if (!k.factory) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("model kind '{}' is loaded from a file, not created from a spec", kind));
      }
      return k.factory(params, options);
    }
  }
  throw Error(ErrorCode::not_found, fmt::format("unknown model '{}': known kinds are {} (or give a .safetensors file)",
                                                kind, kind_list(kinds)));
}

}  // namespace gemmsift
