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
  enum class Format { kMarkdown, kJsonl };
  Format format = Format::kMarkdown;
  std::string id;        // Markdown: path below the root without ".md"; JSONL: `_id`
  std::string path;      // file path as reached from the root given
  int line = 0;          // JSONL: 1-based line number; Markdown: 0
  std::string hash;      // content hash of `contents` (16 hex digits)
  std::string contents;  // the raw bytes (a whole file, or one JSONL line)
};

// True if `path` names a JSONL corpus: *.jsonl, *.jsonl.gz, or "-" for
// standard input.
bool is_jsonl_path(const std::string& path);

class CorpusReader {
 public:
  CorpusReader(const FileSystem& fs, const TextNormalizer& norm) : fs_(fs), norm_(norm) {}

  // Calls on_entry for each *.md file below each root (or the root itself if
  // it is a file), in sorted order, and for each non-blank line of a JSONL
  // root (streamed, in constant memory). README.md files are documentation
  // for editors, not documents, and are skipped. A source that cannot be
  // read goes to on_error with its id if known ("" for a JSONL line whose
  // `_id` cannot be read), so that the indexer keeps the document it had.
  // Throws Error(kNotFound) if a root does not exist, Error(kIo) if a JSONL
  // file cannot be read.
  void scan(const std::vector<std::string>& roots,
            const std::function<void(SourceEntry&&)>& on_entry,
            const std::function<void(const std::string& id, ReadError&&)>& on_error) const;

  // Called now and then during scan() with the share of the corpus walked
  // so far, 0..1, or a negative number when it cannot be known.
  void set_progress(std::function<void(double)> progress) { progress_ = std::move(progress); }

  // Parses an entry. On failure returns false with *err filled (path set).
  bool parse(const SourceEntry& entry, Document* doc, ReadError* err) const;

  // The content hash used for SourceEntry::hash.
  static std::string hash(std::string_view contents);

 private:
  void scan_jsonl(const std::string& path, const std::function<void(SourceEntry&&)>& on_entry,
                  const std::function<void(const std::string& id, ReadError&&)>& on_error) const;

  const FileSystem& fs_;
  const TextNormalizer& norm_;
  std::function<void(double)> progress_;
};

}  // namespace resdex
