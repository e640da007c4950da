// Walks the corpus roots and yields one entry per document source, with a
// content hash, so that the indexer can skip unchanged sources without
// parsing them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/document.h"

namespace resdex {

class FileSystem;
class TextNormalizer;

// One document's source as found on disk, not yet parsed.
struct SourceEntry {
  std::string id;        // document id: path below the root, without ".md"
  std::string path;      // file path as reached from the root given
  std::string hash;      // content hash of `contents` (16 hex digits)
  std::string contents;  // the raw bytes
};

class CorpusReader {
 public:
  CorpusReader(const FileSystem& fs, const TextNormalizer& norm) : fs_(fs), norm_(norm) {}

  // Calls on_entry for each *.md file below each root (or the root itself if
  // it is a file), in sorted order. README.md files are documentation for
  // editors, not documents, and are skipped. A file that cannot be read
  // goes to on_error with its id, so that the indexer keeps the document it
  // had. Throws Error(kNotFound) if a root does not exist.
  void scan(const std::vector<std::string>& roots,
            const std::function<void(SourceEntry&&)>& on_entry,
            const std::function<void(const std::string& id, ReadError&&)>& on_error) const;

  // Parses an entry. On failure returns false with *err filled (path set).
  bool parse(const SourceEntry& entry, Document* doc, ReadError* err) const;

  // The content hash used for SourceEntry::hash.
  static std::string hash(std::string_view contents);

 private:
  const FileSystem& fs_;
  const TextNormalizer& norm_;
};

}  // namespace resdex
