// gemmsift: JSON forms of the core types, used by the CLI, the C API and the file formats.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"
#include "gemmsift/selector.h"

namespace gemmsift {

// {"device": "...", "op": "mm", "dtype": "bf16", "layout": "NT", "m": 1, "n": 2, "k": 3, "batch": 1}
nlohmann::json to_json(const Problem& p);
// {"template": "triton_mm", "block_m": 128, "block_n": 128, "block_k": 64, "group_m": 8,
//  "num_stages": 3, "num_warps": 4}
nlohmann::json to_json(const Config& c);
nlohmann::json to_json(const Candidate& c);
nlohmann::json to_json(const Selection& s);

// Parse with errors that name `where` (a JSON pointer prefix, e.g. "/entries/3/problem") and
// what was expected. Unknown keys are errors.
Problem problem_from_json(const nlohmann::json& j, std::string_view where = "");
Config config_from_json(const nlohmann::json& j, std::string_view where = "");

// Parses JSON text, turning syntax errors into Error(parse) with line:column and `what`
// naming the text ("problem", "options").
nlohmann::json parse_json_text(std::string_view text, std::string_view what);

}  // namespace gemmsift
