// Helpers shared by the unit tests: a temporary directory that removes
// itself, and a writer for corpus Markdown files.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "core/text_normalizer.h"

// Readable failure messages for the containers the tests compare.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
    return (s + "}").c_str();
  }
};
template <>
struct StringMaker<std::vector<std::pair<std::string, size_t>>> {
  static String convert(const std::vector<std::pair<std::string, size_t>>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? ", {\"" : "{\"") + v[i].first + "\", " + std::to_string(v[i].second) + "}";
    return (s + "}").c_str();
  }
};
}  // namespace doctest

namespace resdex::test {

// A fresh directory under /tmp, removed with everything in it when the
// object goes out of scope.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/resdex-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The names in a directory, sorted.
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The Markdown source of a corpus document.
struct Md {
  std::string type = "group";
  std::string name;
  std::string title;
  std::string institutions;  // flow list body, e.g. "TU Berlin, ZIB"
  std::string areas;         // flow list body
  std::string department;
  std::string body;

  std::string str() const {
    std::string s = "---\ntype: " + type + "\nname: " + name + "\n";
    if (!title.empty()) s += "title: \"" + title + "\"\n";
    if (!institutions.empty()) s += "institutions: [" + institutions + "]\n";
    if (!department.empty()) s += "department: " + department + "\n";
    if (!areas.empty()) s += "areas: [" + areas + "]\n";
    s += "---\n" + body + "\n";
    return s;
  }
};

inline const TextNormalizer& normalizer() {
  static const TextNormalizer n;
  return n;
}

}  // namespace resdex::test
