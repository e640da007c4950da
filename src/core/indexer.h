// Brings an index in line with its corpus: incremental by default (only
// changed sources are parsed and written), or as a fresh generation.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/document.h"

namespace resdex {

class FileSystem;

struct IndexProgress {
  size_t sources = 0;     // sources walked so far
  double fraction = -1;   // share of the corpus walked, 0..1; negative if unknown
  bool done = false;      // the last call of a run
};

struct IndexOptions {
  // Directories of *.md files (or single files). Documents found in none of
  // them are removed from the index.
  std::vector<std::string> corpus_paths{"corpus"};
  // The index directory (see index_location.h).
  std::string index_dir = "index";
  // Build a new generation from scratch and swap it in.
  bool rebuild = false;
  // Threads that analyse documents and write shards when a whole
  // generation is built; the shards are then merged by Xapian's compaction.
  // 0: one per core.
  unsigned threads = 0;
  // Shards of the index (Xapian databases listed in a stub, searched as
  // one; each can be served by xapian-tcpsrv). 0 keeps the current count
  // (1 for a new index); another count rebuilds the index.
  unsigned shards = 0;
  // When another process is updating the index, wait for it to finish
  // (polling with backoff) for up to wait_timeout, instead of throwing
  // Error(kLocked) at once.
  bool wait = false;
  std::chrono::milliseconds wait_timeout = std::chrono::hours(1);
  // Called from the corpus walk now and then; may be empty. An exception
  // it throws ends the run with the index as it was.
  std::function<void(const IndexProgress&)> progress;
  // Synonyms files (see synonyms.h), stored in the index. Empty: the
  // synonyms.txt at the top of each corpus directory, where there is one.
  std::vector<std::string> synonyms_paths;
  // The caller already holds the writer lock of index_dir
  // (IndexLocation::lock_for_writing), as watch mode does between runs.
  bool lock_held = false;
};

struct IndexReport {
  size_t added = 0;
  size_t updated = 0;
  size_t removed = 0;
  size_t unchanged = 0;
  std::vector<ReadError> failed;  // the index keeps these documents' last good version
  size_t documents = 0;           // in the index after the run
  bool rebuilt = false;
  bool synonyms_changed = false;  // the stored synonym groups changed
  size_t synonym_groups = 0;      // in the index after the run
  std::string rebuild_reason;     // set when resdex chose to rebuild by itself
};

// Runs one indexing pass. All changes land in one commit: if it throws, or
// the process is killed, the index is as it was (a sharded index commits
// shard by shard; the next run completes an interrupted update). Per-
// document problems do not throw; they are listed in IndexReport::failed.
// Throws Error(kLocked) if another process is writing the index (after
// options.wait_timeout with options.wait), Error(kNotFound) for a missing
// corpus path, Error(kIo) / Error(kCorrupt) when the index cannot be
// written or read (a full disk is an Error(kIo) saying so).
// A synonyms file with a bad line is listed in IndexReport::failed
// (path:line: reason) and its other lines are stored; one that cannot be
// read leaves the stored synonyms as they were.
IndexReport update_index(const IndexOptions& options, const FileSystem& fs);

// The synonyms files a run reads: options.synonyms_paths, or else
// <dir>/synonyms.txt for each corpus directory, whether it exists or not.
std::vector<std::string> synonyms_paths(const IndexOptions& options);

}  // namespace resdex
