/* gemmsift C API.
 *
 * Every function returns an int status: GS_OK (0) on success, a GS_ERR_* code on failure. On
 * failure gs_last_error() returns a message and gs_last_error_code() the code, both for the
 * calling thread. Nothing throws across this boundary. Options are passed as JSON strings so
 * that new options do not change the ABI. Strings returned through char** are owned by the
 * caller and freed with gs_free_string().
 */
#ifndef GEMMSIFT_C_API_H_
#define GEMMSIFT_C_API_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define GS_API __declspec(dllexport)
#else
#define GS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (match gemmsift::ErrorCode). */
#define GS_OK 0
#define GS_ERR_INVALID_ARGUMENT 1
#define GS_ERR_PARSE 2
#define GS_ERR_IO 3
#define GS_ERR_NOT_FOUND 4
#define GS_ERR_UNSUPPORTED 5
#define GS_ERR_MISMATCH 6
#define GS_ERR_INTERNAL 7

/* Bumped when a function's signature or a struct's layout changes. */
#define GS_ABI_VERSION 1

/* One config of the triton_mm template (template_id 0). */
typedef struct gs_config {
  int32_t template_id;
  int32_t block_m;
  int32_t block_n;
  int32_t block_k;
  int32_t group_m;
  int32_t num_stages;
  int32_t num_warps;
} gs_config;

typedef struct gs_model gs_model; /* opaque */

/* The message and code of the last failure on this thread ("" and GS_OK if none). These two
 * cannot fail and return their answer directly. */
GS_API const char* gs_last_error(void);
GS_API int gs_last_error_code(void);

/* Library version ("0.1.0") and ABI version (GS_ABI_VERSION of the build). */
GS_API int gs_version(const char** out_version, int* out_abi);

GS_API int gs_free_string(char* s);

/* Search space of a problem. problem_json: {"m":..,"n":..,"k":..,"dtype":"bf16","layout":"NT",
 * "op":"mm","device":"..."}; options_json (may be NULL): {"space":"EXHAUSTIVE"|"DEFAULT",
 * "shared_memory_limit": bytes}. JSON out: {"problem":{...},"space":"...","configs":[{...}]}. */
GS_API int gs_space(const char* problem_json, const char* options_json, char** out_json);

/* Typed form: writes up to `capacity` configs and the full count to *out_count. Call with
 * capacity 0 to ask for the count. */
GS_API int gs_space_configs(const char* problem_json, const char* options_json, gs_config* out,
                            size_t capacity, size_t* out_count);

/* Models: spec is a registry spec ("analytical", "analytical:device=H200"), a model file path, or
 * "auto" (the shipped model for expect_device and dtype, else the analytical model with a warning,
 * or GS_ERR_NOT_FOUND with "auto_fallback": false).
 * options_json (may be NULL): {"mismatch_policy":"warn"|"refuse","expect_device":"...",
 * "expect_triton":"3.6.0","dtype":"bf16","auto_fallback":true,"off16":"padded"|"learned"|
 * "analytical"}: a model trained on another device or Triton version is warned about or refused;
 * "off16", when the learned model's data took the sizes as arguments: a problem with a leading
 * stride that is even but not a multiple of 16 is scored as the problem with those dimensions
 * padded to 16 where the stride is 8-byte aligned ("padded", the default: Inductor's kernel),
 * as it is ("learned": a kernel taking its strides as arguments) or by the analytical model
 * ("analytical") (ModelOptions). */
GS_API int gs_model_create(const char* spec, const char* options_json, gs_model** out_model);
GS_API int gs_model_free(gs_model* model);
GS_API int gs_model_info(const gs_model* model, char** out_json);
/* Predicted microseconds for n configs (+inf when a config cannot launch). */
GS_API int gs_model_estimate(const gs_model* model, const char* problem_json,
                             const gs_config* configs, size_t n, double* out_us);

/* Drift: how well the model's predictions still fit measured times (an autotuner's benchmarks, say).
 * measurements_json: [{"problem":{...},"measurements":[{"config":{...} or "128x128x64 g8 s3 w4",
 * "time_us":12.3}, ...]}, ...]. JSON out: {"problems","configs","spearman" (mean per-problem rank
 * correlation),"median_abs_log_error","quality_at_1","quality_at_5"}. Retrain when spearman is low. */
GS_API int gs_model_drift(const gs_model* model, const char* measurements_json, char** out_json);

/* Ranked configs to benchmark. model may be NULL only with "benchmark_space":"SAME".
 * options_json: {"space":"EXHAUSTIVE","benchmark_space":"DEFAULT"|"SAME"|"fast"|k,
 * "triton_version":"3.6.0" (warn when the model was trained with another),
 * "anchors":0 (of the k picks, this many, at most k - 1, are the DEFAULT-list configs the model
 * ranks highest; their "source" is "anchor")}.
 * JSON out: {"problem":..,"candidates":[{"config":..,"source":"model","model_rank":0,
 * "predicted_us":12.3}],"search_space_size":..,"default_count":..,"skip_benchmark":false}. */
GS_API int gs_select(const gs_model* model, const char* problem_json, const char* options_json,
                     char** out_json);

/* Lookup tables (docs/lut-format.md). options_json (may be NULL): {"strict": false}.
 * Warnings (skipped entries, unknown fields) are returned as a JSON array of strings through
 * out_warnings_json when it is not NULL. */
typedef struct gs_lut gs_lut; /* opaque */
GS_API int gs_lut_load(const char* path, const char* options_json, gs_lut** out_lut,
                       char** out_warnings_json);
GS_API int gs_lut_free(gs_lut* lut);
/* {"found": true, "entry": {"problem": {..}, "configs": [..]}} or {"found": false}. */
GS_API int gs_lut_lookup(const gs_lut* lut, const char* problem_json, char** out_json);
/* Adds a measurement to the table file (created if missing) under a file lock, atomically.
 * config_json: a config with optional "measured_us", "source", "date", "note".
 * options_json (may be NULL): {"max_configs": 0, "strict": false}. *out_changed (may be NULL)
 * is 1 when the file changed. */
GS_API int gs_lut_record(const char* path, const char* problem_json, const char* config_json,
                         const char* options_json, int* out_changed);

/* A reusable selector: a model (may be NULL only with "benchmark_space":"SAME") and a lookup
 * table (may be NULL). Both handles may be freed after this call. options_json: as gs_select's,
 * plus "pinned_only": true to use only table hits when there are any. */
typedef struct gs_selector gs_selector; /* opaque */
GS_API int gs_selector_create(const gs_model* model, const gs_lut* lut, const char* options_json,
                              gs_selector** out_selector);
GS_API int gs_selector_free(gs_selector* selector);
GS_API int gs_selector_select(const gs_selector* selector, const char* problem_json,
                              char** out_json);

#ifdef __cplusplus
}
#endif

#endif /* GEMMSIFT_C_API_H_ */
