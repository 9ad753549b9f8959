// The C boundary: every entry point catches everything and turns it into a status.
#include "gemmsift/c_api.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "gemmsift/error.h"
#include "gemmsift/train.h"
#include "gemmsift/json.h"
#include "gemmsift/lut.h"
#include "gemmsift/model.h"
#include "gemmsift/selector.h"
#include "gemmsift/space.h"
#include "gemmsift/version.h"
#include "core/json_util.h"

struct gs_model {
  std::shared_ptr<const gemmsift::PerformanceModel> model;
};
struct gs_lut {
  std::shared_ptr<const gemmsift::LookupTable> table;
};
struct gs_selector {
  std::unique_ptr<gemmsift::Selector> selector;
};

namespace {

using gemmsift::Error;
using gemmsift::ErrorCode;

struct LastError {
  std::string message;
  int code = GS_OK;
};

LastError& last_error() {
  thread_local LastError e;
  return e;
}

int fail(int code, std::string message) {
  auto& e = last_error();
  e.code = code;
  e.message = std::move(message);
  return code;
}

template <typename F>
int guarded(const char* fn, F&& body) {
  try {
    body();
    return GS_OK;
  } catch (const Error& e) {
    return fail(static_cast<int>(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(GS_ERR_INTERNAL, fmt::format("{}: out of memory", fn));
  } catch (const std::exception& e) {
    return fail(GS_ERR_INTERNAL, fmt::format("{}: {}", fn, e.what()));
  } catch (...) {
    return fail(GS_ERR_INTERNAL, fmt::format("{}: unknown exception", fn));
  }
}

void require(const void* p, const char* fn, const char* arg) {
  if (p == nullptr) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {} must not be NULL", fn, arg));
  }
}

char* dup_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (!out) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size() + 1);
  return out;
}

gemmsift::Problem parse_problem(const char* problem_json) {
  return gemmsift::problem_from_json(gemmsift::parse_json_text(problem_json, "problem"), "problem");
}

nlohmann::json parse_options(const char* options_json) {
  if (options_json == nullptr || *options_json == '\0') return nlohmann::json::object();
  auto j = gemmsift::parse_json_text(options_json, "options");
  if (!j.is_object()) {
    throw Error(ErrorCode::parse, fmt::format("options: expected a JSON object, got {}",
                                              gemmsift::detail::describe(j)));
  }
  return j;
}

std::string string_option(const nlohmann::json& o, const char* key, const std::string& fallback) {
  if (!o.contains(key)) return fallback;
  if (o[key].is_string()) return o[key].get<std::string>();
  if (o[key].is_number_integer()) return std::to_string(o[key].get<long long>());
  throw Error(ErrorCode::parse, fmt::format("options/{}: expected a string, got {}", key,
                                            gemmsift::detail::describe(o[key])));
}

// An optional true/false option; `fallback` when absent.
bool bool_option(const nlohmann::json& o, const char* key, bool fallback) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_boolean()) {
    throw Error(ErrorCode::parse, fmt::format("options/{}: expected true or false, got {}", key,
                                              gemmsift::detail::describe(o[key])));
  }
  return o[key].get<bool>();
}

gemmsift::SpaceOptions space_options(const nlohmann::json& o) {
  gemmsift::SpaceOptions so;
  if (o.contains("shared_memory_limit") && !o["shared_memory_limit"].is_null()) {
    so.shared_memory_limit = gemmsift::detail::get_int(o, "options", "shared_memory_limit");
  }
  return so;
}

gemmsift::Config from_c(const gs_config& c, std::size_t i) {
  gemmsift::Config out;
  if (c.template_id != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("configs[{}].template_id: unknown template {}", i, c.template_id));
  }
  out.block_m = c.block_m;
  out.block_n = c.block_n;
  out.block_k = c.block_k;
  out.group_m = c.group_m;
  out.num_stages = c.num_stages;
  out.num_warps = c.num_warps;
  return out;
}

gs_config to_c(const gemmsift::Config& c) {
  return gs_config{static_cast<int32_t>(c.tmpl), c.block_m, c.block_n, c.block_k,
                   c.group_m,  c.num_stages, c.num_warps};
}

gemmsift::SelectOptions select_options(const nlohmann::json& o) {
  gemmsift::detail::check_keys(o, "options",
                               {"space", "benchmark_space", "shared_memory_limit", "pinned_only", "triton_version",
                                "anchors"});
  gemmsift::SelectOptions so;
  so.search_space = gemmsift::parse_space_kind(string_option(o, "space", "EXHAUSTIVE"));
  so.benchmark_space = gemmsift::BenchmarkSpace::parse(string_option(o, "benchmark_space", "DEFAULT"));
  so.space_options = space_options(o);
  so.pinned_only = bool_option(o, "pinned_only", false);
  if (o.contains("anchors") && !o["anchors"].is_null()) {
    const std::int64_t a = gemmsift::detail::get_int(o, "options", "anchors");
    if (a < 0 || a > 1'000'000) {
      throw gemmsift::Error(gemmsift::ErrorCode::invalid_argument,
                            fmt::format("options: \"anchors\" must be a count from 0 to 1000000, got {}", a));
    }
    so.anchors = static_cast<int>(a);
  }
  so.triton_version = string_option(o, "triton_version", "");
  return so;
}

}  // namespace

extern "C" {

const char* gs_last_error(void) { return last_error().message.c_str(); }
int gs_last_error_code(void) { return last_error().code; }

int gs_version(const char** out_version, int* out_abi) {
  return guarded("gs_version", [&] {
    static const std::string v(gemmsift::version());
    if (out_version) *out_version = v.c_str();
    if (out_abi) *out_abi = GS_ABI_VERSION;
  });
}

int gs_free_string(char* s) {
  std::free(s);
  return GS_OK;
}

int gs_space(const char* problem_json, const char* options_json, char** out_json) {
  return guarded("gs_space", [&] {
    require(problem_json, "gs_space", "problem_json");
    require(out_json, "gs_space", "out_json");
    auto problem = parse_problem(problem_json);
    auto o = parse_options(options_json);
    gemmsift::detail::check_keys(o, "options", {"space", "shared_memory_limit"});
    auto kind = gemmsift::parse_space_kind(string_option(o, "space", "EXHAUSTIVE"));
    auto configs = gemmsift::search_space(problem, kind, space_options(o));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : configs) list.push_back(gemmsift::to_json(c));
    nlohmann::json out = {{"problem", gemmsift::to_json(problem)},
                          {"space", gemmsift::to_string(kind)},
                          {"configs", std::move(list)}};
    *out_json = dup_string(out.dump());
  });
}

int gs_space_configs(const char* problem_json, const char* options_json, gs_config* out,
                     size_t capacity, size_t* out_count) {
  return guarded("gs_space_configs", [&] {
    require(problem_json, "gs_space_configs", "problem_json");
    require(out_count, "gs_space_configs", "out_count");
    if (capacity > 0) require(out, "gs_space_configs", "out");
    auto problem = parse_problem(problem_json);
    auto o = parse_options(options_json);
    gemmsift::detail::check_keys(o, "options", {"space", "shared_memory_limit"});
    auto kind = gemmsift::parse_space_kind(string_option(o, "space", "EXHAUSTIVE"));
    auto configs = gemmsift::search_space(problem, kind, space_options(o));
    *out_count = configs.size();
    for (std::size_t i = 0; i < configs.size() && i < capacity; ++i) out[i] = to_c(configs[i]);
  });
}

int gs_model_create(const char* spec, const char* options_json, gs_model** out_model) {
  return guarded("gs_model_create", [&] {
    require(spec, "gs_model_create", "spec");
    require(out_model, "gs_model_create", "out_model");
    *out_model = nullptr;
    auto o = parse_options(options_json);
    gemmsift::detail::check_keys(o, "options",
                                 {"mismatch_policy", "expect_device", "expect_triton", "dtype", "auto_fallback",
                                  "off16"});
    gemmsift::ModelOptions mo;
    mo.mismatch_policy = string_option(o, "mismatch_policy", mo.mismatch_policy);
    mo.expect_device = string_option(o, "expect_device", "");
    mo.expect_triton = string_option(o, "expect_triton", "");
    mo.dtype = gemmsift::parse_dtype(string_option(o, "dtype", "bf16"));
    mo.auto_fallback = bool_option(o, "auto_fallback", true);
    mo.off16 = string_option(o, "off16", mo.off16);
    auto handle = std::make_unique<gs_model>();
    handle->model = gemmsift::create_model(spec, mo);
    *out_model = handle.release();
  });
}

int gs_model_free(gs_model* model) {
  delete model;
  return GS_OK;
}

int gs_model_info(const gs_model* model, char** out_json) {
  return guarded("gs_model_info", [&] {
    require(model, "gs_model_info", "model");
    require(out_json, "gs_model_info", "out_json");
    nlohmann::json info = model->model->metadata();
    info["name"] = model->model->name();
    *out_json = dup_string(info.dump());
  });
}

int gs_model_estimate(const gs_model* model, const char* problem_json, const gs_config* configs,
                      size_t n, double* out_us) {
  return guarded("gs_model_estimate", [&] {
    require(model, "gs_model_estimate", "model");
    require(problem_json, "gs_model_estimate", "problem_json");
    if (n > 0) {
      require(configs, "gs_model_estimate", "configs");
      require(out_us, "gs_model_estimate", "out_us");
    }
    auto problem = parse_problem(problem_json);
    std::vector<gemmsift::Config> cs;
    cs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cs.push_back(from_c(configs[i], i));
    auto pred = model->model->estimate(problem, cs);
    std::copy(pred.begin(), pred.end(), out_us);
  });
}

int gs_model_drift(const gs_model* model, const char* measurements_json, char** out_json) {
  return guarded("gs_model_drift", [&] {
    require(model, "gs_model_drift", "model");
    require(measurements_json, "gs_model_drift", "measurements_json");
    require(out_json, "gs_model_drift", "out_json");
    const auto j = gemmsift::parse_json_text(measurements_json, "measurements");
    if (!j.is_array()) {
      throw Error(ErrorCode::parse, fmt::format("measurements: expected an array of {{\"problem\", \"measurements\"}}, got {}",
                                                gemmsift::detail::describe(j)));
    }
    std::vector<gemmsift::ProblemData> problems;
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string at = fmt::format("measurements/{}", i);
      const auto& e = j[i];
      if (!e.is_object() || !e.contains("problem") || !e.contains("measurements") || !e["measurements"].is_array()) {
        throw Error(ErrorCode::parse, fmt::format("{}: expected {{\"problem\": {{...}}, \"measurements\": [...]}}", at));
      }
      gemmsift::ProblemData pd;
      pd.problem = gemmsift::problem_from_json(e["problem"], at + "/problem");
      const auto& ms = e["measurements"];
      for (std::size_t r = 0; r < ms.size(); ++r) {
        const std::string rat = fmt::format("{}/measurements/{}", at, r);
        if (!ms[r].is_object() || !ms[r].contains("config") || !ms[r].contains("time_us") ||
            !ms[r]["time_us"].is_number() || !(ms[r]["time_us"].get<double>() > 0)) {
          throw Error(ErrorCode::parse, fmt::format("{}: expected {{\"config\": ..., \"time_us\": positive number}}", rat));
        }
        gemmsift::Measurement m;
        try {
          m.config = gemmsift::lut_config_from_json(ms[r]["config"]).config;
        } catch (const Error& err) {
          throw Error(err.code(), fmt::format("{}/config: {}", rat, err.what()));
        }
        m.time_us_min = ms[r]["time_us"].get<double>();
        pd.rows.push_back(m);
      }
      problems.push_back(std::move(pd));
    }
    std::vector<const gemmsift::ProblemData*> ptrs;
    for (const auto& p : problems) ptrs.push_back(&p);
    const auto r = gemmsift::rank_agreement(*model->model, ptrs);
    nlohmann::json out = {{"problems", r.problems}, {"configs", r.configs}, {"spearman", r.spearman},
                          {"median_abs_log_error", r.median_abs_log_error}, {"quality_at_1", r.quality1},
                          {"quality_at_5", r.quality5}};
    *out_json = dup_string(out.dump());
  });
}

int gs_select(const gs_model* model, const char* problem_json, const char* options_json,
              char** out_json) {
  return guarded("gs_select", [&] {
    require(problem_json, "gs_select", "problem_json");
    require(out_json, "gs_select", "out_json");
    auto problem = parse_problem(problem_json);
    gemmsift::Selector selector(model ? model->model : nullptr, select_options(parse_options(options_json)));
    *out_json = dup_string(gemmsift::to_json(selector.select(problem)).dump());
  });
}

int gs_lut_load(const char* path, const char* options_json, gs_lut** out_lut, char** out_warnings_json) {
  return guarded("gs_lut_load", [&] {
    require(path, "gs_lut_load", "path");
    require(out_lut, "gs_lut_load", "out_lut");
    *out_lut = nullptr;
    if (out_warnings_json) *out_warnings_json = nullptr;
    auto o = parse_options(options_json);
    gemmsift::detail::check_keys(o, "options", {"strict"});
    gemmsift::LutLoadOptions lo;
    lo.strict = bool_option(o, "strict", false);
    std::vector<std::string> warnings;
    auto handle = std::make_unique<gs_lut>();
    handle->table = std::make_shared<gemmsift::LookupTable>(gemmsift::LookupTable::load(path, lo, &warnings));
    if (out_warnings_json) {
      *out_warnings_json = dup_string(nlohmann::json(warnings).dump());
    } else {
      for (const auto& w : warnings) gemmsift::warn(w);
    }
    *out_lut = handle.release();
  });
}

int gs_lut_free(gs_lut* lut) {
  delete lut;
  return GS_OK;
}

int gs_lut_lookup(const gs_lut* lut, const char* problem_json, char** out_json) {
  return guarded("gs_lut_lookup", [&] {
    require(lut, "gs_lut_lookup", "lut");
    require(problem_json, "gs_lut_lookup", "problem_json");
    require(out_json, "gs_lut_lookup", "out_json");
    auto problem = parse_problem(problem_json);
    const gemmsift::LutEntry* e = lut->table->find(problem);
    nlohmann::json out = {{"found", e != nullptr}};
    if (e) out["entry"] = gemmsift::to_json(*e);
    *out_json = dup_string(out.dump());
  });
}

int gs_lut_record(const char* path, const char* problem_json, const char* config_json,
                  const char* options_json, int* out_changed) {
  return guarded("gs_lut_record", [&] {
    require(path, "gs_lut_record", "path");
    require(problem_json, "gs_lut_record", "problem_json");
    require(config_json, "gs_lut_record", "config_json");
    auto problem = parse_problem(problem_json);
    auto config = gemmsift::lut_config_from_json(gemmsift::parse_json_text(config_json, "config"), "config");
    auto o = parse_options(options_json);
    gemmsift::detail::check_keys(o, "options", {"max_configs", "strict"});
    gemmsift::RecordOptions ro;
    if (o.contains("max_configs")) {
      auto v = gemmsift::detail::get_int(o, "options", "max_configs");
      if (v < 0) throw Error(ErrorCode::invalid_argument, "options/max_configs: expected 0 or more");
      ro.max_configs = static_cast<std::size_t>(v);
    }
    ro.strict = bool_option(o, "strict", false);
    bool changed = gemmsift::record_measurement(path, problem, config, ro);
    if (out_changed) *out_changed = changed ? 1 : 0;
  });
}

int gs_selector_create(const gs_model* model, const gs_lut* lut, const char* options_json,
                       gs_selector** out_selector) {
  return guarded("gs_selector_create", [&] {
    require(out_selector, "gs_selector_create", "out_selector");
    *out_selector = nullptr;
    auto handle = std::make_unique<gs_selector>();
    handle->selector = std::make_unique<gemmsift::Selector>(model ? model->model : nullptr,
                                                            select_options(parse_options(options_json)));
    if (lut) handle->selector->set_pinned(lut->table);
    *out_selector = handle.release();
  });
}

int gs_selector_free(gs_selector* selector) {
  delete selector;
  return GS_OK;
}

int gs_selector_select(const gs_selector* selector, const char* problem_json, char** out_json) {
  return guarded("gs_selector_select", [&] {
    require(selector, "gs_selector_select", "selector");
    require(problem_json, "gs_selector_select", "problem_json");
    require(out_json, "gs_selector_select", "out_json");
    auto problem = parse_problem(problem_json);
    *out_json = dup_string(gemmsift::to_json(selector->selector->select(problem)).dump());
  });
}

}  // extern "C"
