#include "core/json_walk.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace gemmsift::detail {

std::string pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

namespace {

// A minimal walker over valid JSON. It never validates; it only finds where things are.
class Walker {
 public:
  explicit Walker(std::string_view t) : t_(t) {}

  void skip_ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\r' || t_[pos_] == '\t')) ++pos_;
  }

  // Reads a string token at pos_ (which is at '"'); returns its decoded value.
  std::string read_string() {
    std::size_t start = pos_;
    ++pos_;
    bool escaped = false;
    while (pos_ < t_.size() && t_[pos_] != '"') {
      if (t_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    ++pos_;  // closing quote
    std::string_view raw = t_.substr(start, pos_ - start);
    if (!escaped) return std::string(raw.substr(1, raw.size() - 2));
    return nlohmann::json::parse(raw).get<std::string>();
  }

  void skip_scalar() {
    while (pos_ < t_.size() && t_[pos_] != ',' && t_[pos_] != '}' && t_[pos_] != ']' && t_[pos_] != ' ' &&
           t_[pos_] != '\n' && t_[pos_] != '\r' && t_[pos_] != '\t') {
      ++pos_;
    }
  }

  // Walks the value at pos_. `path` is its pointer. Calls visit(path, start) for every value
  // and on_key(object_path, key, offset) for every key; stops early when either returns true.
  template <typename Visit, typename OnObject>
  bool walk(std::string& path, Visit& visit, OnObject& on_object) {
    skip_ws();
    const std::size_t start = pos_;
    if (visit(path, start)) return true;
    if (pos_ >= t_.size()) return false;
    const char c = t_[pos_];
    if (c == '{') {
      ++pos_;
      std::vector<std::pair<std::string, std::size_t>> keys;
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == '}') {
        ++pos_;
        return false;
      }
      while (pos_ < t_.size()) {
        skip_ws();
        const std::size_t key_at = pos_;
        std::string key = read_string();
        if (on_object(path, keys, key, key_at)) return true;
        keys.emplace_back(key, key_at);
        skip_ws();
        ++pos_;  // ':'
        const std::size_t len = path.size();
        path += '/';
        path += pointer_token(key);
        if (walk(path, visit, on_object)) return true;
        path.resize(len);
        skip_ws();
        if (pos_ < t_.size() && t_[pos_] == ',') {
          ++pos_;
          continue;
        }
        ++pos_;  // '}'
        break;
      }
      return false;
    }
    if (c == '[') {
      ++pos_;
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ']') {
        ++pos_;
        return false;
      }
      for (std::size_t i = 0; pos_ < t_.size(); ++i) {
        const std::size_t len = path.size();
        path += '/';
        path += std::to_string(i);
        if (walk(path, visit, on_object)) return true;
        path.resize(len);
        skip_ws();
        if (pos_ < t_.size() && t_[pos_] == ',') {
          ++pos_;
          continue;
        }
        ++pos_;  // ']'
        break;
      }
      return false;
    }
    if (c == '"') {
      read_string();
      return false;
    }
    skip_scalar();
    return false;
  }

 private:
  std::string_view t_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::size_t> find_value_offset(std::string_view text, std::string_view pointer) {
  std::optional<std::size_t> found;
  auto visit = [&](const std::string& path, std::size_t start) {
    if (path == pointer) {
      found = start;
      return true;
    }
    return false;
  };
  // Only descend where the pointer leads: any other subtree is skipped as a whole by the walker
  // anyway, so no early exit is needed for keys.
  auto on_object = [](const std::string&, const std::vector<std::pair<std::string, std::size_t>>&,
                      const std::string&, std::size_t) { return false; };
  Walker w(text);
  std::string path;
  w.walk(path, visit, on_object);
  return found;
}

std::vector<DuplicateKey> find_duplicate_keys(std::string_view text) {
  std::vector<DuplicateKey> dups;
  auto visit = [](const std::string&, std::size_t) { return false; };
  auto on_object = [&](const std::string& path,
                       const std::vector<std::pair<std::string, std::size_t>>& keys,
                       const std::string& key, std::size_t at) {
    for (const auto& [k, first] : keys) {
      if (k == key) {
        dups.push_back(DuplicateKey{path + "/" + pointer_token(key), first, at});
        break;
      }
    }
    return false;
  };
  Walker w(text);
  std::string path;
  w.walk(path, visit, on_object);
  return dups;
}

}  // namespace gemmsift::detail
