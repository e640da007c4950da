// Watch mode: keeps an index in line with its corpus as files change.
//
// CorpusWatcher reports changes under the corpus through Linux inotify;
// watch_index() runs the incremental indexer (indexer.h) once, then once
// per settled burst of changes, holding the index's writer lock throughout.
// Signals are the caller's business: it passes a file descriptor (a
// signalfd, a pipe) that becomes readable when watching should end.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/indexer.h"

namespace resdex {

class FileSystem;

class CorpusWatcher {
 public:
  // Watches each directory in `dirs` with all its subdirectories (new ones
  // too), for changes to *.md files (hidden ones left out) and to the
  // directories themselves, and each path in `files` (a file that need not
  // exist yet, watched through its directory). Throws Error(kIo) if inotify
  // cannot be set up, Error(kNotFound) if a directory does not exist.
  CorpusWatcher(std::vector<std::string> dirs, std::vector<std::string> files);
  ~CorpusWatcher();
  CorpusWatcher(const CorpusWatcher&) = delete;
  CorpusWatcher& operator=(const CorpusWatcher&) = delete;

  enum class Wait { kChanged, kStopped };
  // Blocks until a relevant change has been followed by `settle` without
  // another one (or `max_delay` has passed since the first), and returns
  // kChanged; returns kStopped as soon as `stop_fd` is readable (-1: none),
  // without reading it. Editors' swap and backup files are not relevant,
  // their rename into place is.
  Wait wait(int stop_fd, std::chrono::milliseconds settle, std::chrono::milliseconds max_delay);

  // When the first change of the batch wait() last returned was seen.
  std::chrono::steady_clock::time_point first_change() const { return first_change_; }

  // The paths that changed in that batch ("" for events inotify lost).
  const std::set<std::string>& changed() const { return changed_; }

 private:
  void add_tree(const std::string& dir);
  int add_watch(const std::string& dir, bool recursive);
  // Reads what inotify has; returns the number of relevant events.
  size_t read_events();

  struct Watched {
    std::string path;
    bool recursive = false;
  };
  int fd_ = -1;
  std::vector<std::string> dirs_;
  std::set<std::string> files_;
  std::map<int, Watched> watches_;  // inotify watch descriptor -> directory
  std::chrono::steady_clock::time_point first_change_{};
  std::set<std::string> changed_;
};

struct WatchOptions {
  // Quiet time that ends a burst of changes (an editor's save is several
  // events), and the longest a batch waits while changes keep coming.
  std::chrono::milliseconds settle{150};
  std::chrono::milliseconds max_delay{1000};
  // Readable when watching should end (e.g. a signalfd for SIGINT and
  // SIGTERM); -1 for never. The pass under way is finished first.
  int stop_fd = -1;
};

struct WatchPass {
  IndexReport report;
  bool first = false;          // the pass over the whole corpus at the start
  size_t changes = 0;          // paths that changed in the batch
  std::chrono::milliseconds latency{0};  // first event of the batch to commit
};

// Runs update_index(index) and then one more pass per batch of changes
// under the corpus (IndexOptions::corpus_paths: directories and Markdown or
// JSONL files; not "-") and its synonyms files, until options.stop_fd is
// readable. Every pass is one atomic commit and is reported to on_pass.
// The index's writer lock is held from before the first pass to the end
// (with index.wait, waiting for it as update_index does), so a second
// writer is refused meanwhile. An Error from the first pass is thrown; one
// from a later pass (a full disk, a corpus directory removed) goes to
// on_error and watching goes on. A stop during the first pass's corpus walk
// ends it at once with the index as it was.
void watch_index(const IndexOptions& index, const WatchOptions& options, const FileSystem& fs,
                 const std::function<void(const WatchPass&)>& on_pass,
                 const std::function<void(const Error&)>& on_error);

}  // namespace resdex
