#include "core/corpus_reader.h"

#include <cstdio>

#include <xxhash.h>

#include "core/error.h"
#include "core/file_system.h"
#include "core/front_matter.h"

namespace resdex {

namespace {

bool is_readme(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "readme.md";
}

std::string strip_md(std::string s) {
  if (s.size() > 3 && s.compare(s.size() - 3, 3, ".md") == 0) s.resize(s.size() - 3);
  return s;
}

}  // namespace

std::string CorpusReader::hash(std::string_view contents) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(contents.data(), contents.size())));
  return buf;
}

void CorpusReader::scan(
    const std::vector<std::string>& roots, const std::function<void(SourceEntry&&)>& on_entry,
    const std::function<void(const std::string&, ReadError&&)>& on_error) const {
  for (const std::string& root : roots) {
    FileSystem::Kind kind = fs_.stat(root);
    if (kind == FileSystem::Kind::kMissing)
      throw Error(Error::Kind::kNotFound, "corpus path '" + root + "' does not exist");
    std::vector<std::pair<std::string, std::string>> files;  // path, id
    if (kind == FileSystem::Kind::kFile) {
      size_t slash = root.rfind('/');
      files.emplace_back(root, strip_md(root.substr(slash == std::string::npos ? 0 : slash + 1)));
    } else {
      std::string prefix = root;
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      prefix += '/';
      for (std::string& path : fs_.list_files(root, ".md")) {
        if (is_readme(path)) continue;
        std::string rel = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size())
                                                                      : path;
        files.emplace_back(std::move(path), strip_md(rel));
      }
    }
    for (auto& [path, id] : files) {
      SourceEntry entry;
      std::string why = fs_.read_file(path, &entry.contents);
      if (!why.empty()) {
        on_error(id, ReadError{path, 0, "cannot read file: " + why});
        continue;
      }
      entry.id = std::move(id);
      entry.path = std::move(path);
      entry.hash = hash(entry.contents);
      on_entry(std::move(entry));
    }
  }
}

bool CorpusReader::parse(const SourceEntry& entry, Document* doc, ReadError* err) const {
  err->path = entry.path;
  if (!parse_markdown_document(entry.contents, norm_, doc, err)) return false;
  doc->id = entry.id;
  doc->path = entry.path;
  doc->hash = entry.hash;
  return true;
}

}  // namespace resdex
