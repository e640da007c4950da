#include "core/corpus_reader.h"

#include <cstdio>

#include <xxhash.h>

#include "core/error.h"
#include "core/file_system.h"
#include "core/front_matter.h"
#include "core/jsonl_record.h"

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

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The `_id` of a BEIR-style line that starts with {"_id": "...", read
// without a JSON parse so that unchanged records are skipped cheaply.
// Returns "" when the line does not start that way or the id has escapes.
std::string quick_id(std::string_view line) {
  size_t i = 0;
  auto skip_ws = [&] { while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i; };
  skip_ws();
  if (i >= line.size() || line[i] != '{') return "";
  ++i;
  skip_ws();
  if (line.substr(i, 5) != "\"_id\"") return "";
  i += 5;
  skip_ws();
  if (i >= line.size() || line[i] != ':') return "";
  ++i;
  skip_ws();
  if (i >= line.size() || line[i] != '"') return "";
  size_t end = line.find('"', i + 1);
  if (end == std::string_view::npos) return "";
  std::string_view id = line.substr(i + 1, end - i - 1);
  if (id.find('\\') != std::string_view::npos) return "";
  // A second "_id" key would win in the parser (the last of a key counts):
  // leave such a line to it.
  if (line.find("\"_id\"", end + 1) != std::string_view::npos) return "";
  return std::string(id);
}

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

bool is_jsonl_path(const std::string& path) {
  return path == "-" || ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz");
}

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
    if (is_jsonl_path(root)) {
      if (root != "-" && fs_.stat(root) != FileSystem::Kind::kFile)
        throw Error(Error::Kind::kNotFound, "corpus file '" + root + "' does not exist");
      scan_jsonl(root, on_entry, on_error);
      continue;
    }
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
    for (size_t i = 0; i < files.size(); ++i) {
      auto& [path, id] = files[i];
      if (progress_ && i % 64 == 0) progress_(static_cast<double>(i) / static_cast<double>(files.size()));
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

void CorpusReader::scan_jsonl(
    const std::string& path, const std::function<void(SourceEntry&&)>& on_entry,
    const std::function<void(const std::string&, ReadError&&)>& on_error) const {
  std::unique_ptr<LineReader> lines = fs_.open_lines(path);
  std::string line;
  for (int number = 1; lines->next(&line); ++number) {
    if (progress_ && number % 256 == 0) progress_(lines->fraction());
    if (blank(line)) continue;
    SourceEntry entry;
    entry.format = SourceEntry::Format::kJsonl;
    entry.id = quick_id(line);
    if (entry.id.empty()) entry.id = jsonl_record_id(line);
    entry.path = path;
    entry.line = number;
    if (entry.id.empty()) {
      // Parse it to say what is wrong with it.
      Document doc;
      ReadError err{path, number, ""};
      if (!parse_jsonl_record(line, norm_, &doc, &err)) {
        on_error("", std::move(err));
        continue;
      }
      entry.id = doc.id;
    }
    entry.hash = hash(line);
    entry.contents = std::move(line);
    line = std::string();
    on_entry(std::move(entry));
  }
}

bool CorpusReader::parse(const SourceEntry& entry, Document* doc, ReadError* err) const {
  err->path = entry.path;
  err->line = entry.line;
  bool ok = entry.format == SourceEntry::Format::kJsonl
                ? parse_jsonl_record(entry.contents, norm_, doc, err)
                : parse_markdown_document(entry.contents, norm_, doc, err);
  if (!ok) return false;
  doc->id = entry.id;
  doc->path = entry.path;
  doc->hash = entry.hash;
  return true;
}

}  // namespace resdex
