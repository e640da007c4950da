#include "core/indexer.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <xapian.h>

#include "core/corpus_reader.h"
#include "core/document_builder.h"
#include "core/error.h"
#include "core/file_system.h"
#include "core/index_location.h"
#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

struct Indexed {
  Xapian::docid docid;
  std::string hash;
  std::string source;
};

// id -> what the index holds for it, read from the value streams (no
// document is loaded).
std::unordered_map<std::string, Indexed> read_state(const Xapian::Database& db) {
  std::unordered_map<std::string, Indexed> state;
  std::unordered_map<Xapian::docid, std::string> hashes, sources;
  for (auto v = db.valuestream_begin(schema::kSlotHash); v != db.valuestream_end(schema::kSlotHash); ++v)
    hashes.emplace(v.get_docid(), *v);
  for (auto v = db.valuestream_begin(schema::kSlotSource); v != db.valuestream_end(schema::kSlotSource); ++v)
    sources.emplace(v.get_docid(), *v);
  for (auto v = db.valuestream_begin(schema::kSlotId); v != db.valuestream_end(schema::kSlotId); ++v)
    state.emplace(*v, Indexed{v.get_docid(), hashes[v.get_docid()], sources[v.get_docid()]});
  return state;
}

Xapian::WritableDatabase open_writer(const std::string& path, int flags) {
  try {
    return Xapian::WritableDatabase(path, flags);
  } catch (const Xapian::DatabaseLockError&) {
    throw Error(Error::Kind::kLocked, "another process is updating the index at '" +
                                          std::filesystem::path(path).parent_path().string() +
                                          "'; try again when it has finished");
  }
}

// Walks the corpus once, dropping duplicate ids, and records which ids
// (and which sources, for unreadable JSONL lines) the corpus still holds.
class CorpusPass {
 public:
  CorpusPass(const FileSystem& fs, const TextNormalizer& norm, IndexReport& report)
      : reader_(fs, norm), report_(report) {}

  const CorpusReader& reader() const { return reader_; }

  void run(const std::vector<std::string>& roots, const std::function<void(SourceEntry&&)>& each) {
    reader_.scan(
        roots,
        [&](SourceEntry&& entry) {
          auto [it, fresh] = seen_.emplace(entry.id, entry.path);
          if (!fresh) {
            report_.failed.push_back({entry.path, entry.line,
                                      "duplicate id '" + entry.id + "' (also in " + it->second + ")"});
            return;
          }
          each(std::move(entry));
        },
        [&](const std::string& id, ReadError&& err) {
          if (id.empty())
            unsure_sources_.insert(err.path);
          else
            seen_.emplace(id, err.path);
          report_.failed.push_back(std::move(err));
        });
  }

  // Whether a document no longer in the corpus may be removed. A source
  // with a line whose id could not be read keeps all its documents, since
  // the broken line may be any of them.
  bool gone(const std::string& id, const std::string& source) const {
    return !seen_.count(id) && !unsure_sources_.count(source);
  }

  size_t sources() const { return seen_.size(); }

 private:
  CorpusReader reader_;
  IndexReport& report_;
  std::unordered_map<std::string, std::string> seen_;  // id -> path of its source
  std::unordered_set<std::string> unsure_sources_;
};

// Brings an existing generation in line with the corpus, in one
// transaction: only changed sources are parsed and written.
void update_generation(Xapian::WritableDatabase& db, const IndexOptions& options,
                       const FileSystem& fs, IndexReport& report) {
  TextNormalizer norm;
  auto state = read_state(db);
  CorpusPass pass(fs, norm, report);
  DocumentBuilder builder(norm);
  SpellingDelta spelling;

  db.begin_transaction(true);
  try {
    pass.run(options.corpus_paths, [&](SourceEntry&& entry) {
      auto old = state.find(entry.id);
      if (old != state.end() && old->second.hash == entry.hash) {
        ++report.unchanged;
        return;
      }
      Document doc;
      ReadError err;
      if (!pass.reader().parse(entry, &doc, &err)) {
        report.failed.push_back(std::move(err));
        return;
      }
      Xapian::Document xdoc = builder.build(doc);
      spelling.add(xdoc);
      if (old == state.end()) {
        db.add_document(xdoc);
        ++report.added;
      } else {
        spelling.remove(db.get_document(old->second.docid));
        db.replace_document(old->second.docid, xdoc);
        ++report.updated;
      }
    });
    for (const auto& [id, indexed] : state) {
      if (!pass.gone(id, indexed.source)) continue;
      spelling.remove(db.get_document(indexed.docid));
      db.delete_document(indexed.docid);
      ++report.removed;
    }
    spelling.apply(db);
    db.set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
    db.commit_transaction();
  } catch (...) {
    db.cancel_transaction();
    throw;
  }
  report.documents = db.get_doccount();
}

// A bounded queue of sources from the corpus walk to the shard writers.
class EntryQueue {
 public:
  explicit EntryQueue(size_t capacity) : capacity_(capacity) {}

  void push(SourceEntry&& e) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_ || aborted_; });
    if (aborted_) return;
    queue_.push_back(std::move(e));
    not_empty_.notify_one();
  }
  // False when the queue is closed and drained, or aborted.
  bool pop(SourceEntry* e) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || closed_ || aborted_; });
    if (aborted_ || queue_.empty()) return false;
    *e = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<SourceEntry> queue_;
  size_t capacity_;
  bool closed_ = false;
  bool aborted_ = false;
};

// One writer thread's shard of a new generation.
struct ShardWriter {
  std::string path;
  std::optional<Xapian::WritableDatabase> db;
  size_t added = 0;
  std::vector<ReadError> failed;
  std::exception_ptr error;
};

void write_shard(ShardWriter& shard, EntryQueue& queue, const CorpusReader& reader) {
  try {
    TextNormalizer norm;
    DocumentBuilder builder(norm);
    SpellingDelta spelling;
    SourceEntry entry;
    while (queue.pop(&entry)) {
      Document doc;
      ReadError err;
      if (!reader.parse(entry, &doc, &err)) {
        shard.failed.push_back(std::move(err));
        continue;
      }
      Xapian::Document xdoc = builder.build(doc);
      spelling.add(xdoc);
      shard.db->add_document(xdoc);
      ++shard.added;
    }
    spelling.apply(*shard.db);
    shard.db->set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
    shard.db->commit();
  } catch (...) {
    shard.error = std::current_exception();
    queue.abort();
  }
}

// Writes the whole corpus into a new generation at `path`. With several
// threads each writes a shard of its own and Xapian's compaction merges
// them into `path`; the corpus walk runs on the calling thread.
void build_generation(const std::string& path, const IndexOptions& options, const FileSystem& fs,
                      IndexReport& report) {
  TextNormalizer norm;
  CorpusPass pass(fs, norm, report);

  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::clamp(threads, 1u, 16u);

  std::vector<ShardWriter> shards(threads);
  std::string shard_dir = path + ".shards";
  std::filesystem::remove_all(shard_dir);
  std::filesystem::create_directories(shard_dir);
  for (unsigned i = 0; i < threads; ++i) {
    shards[i].path = threads == 1 ? path : shard_dir + "/" + std::to_string(i);
    shards[i].db = open_writer(shards[i].path, Xapian::DB_CREATE);
  }

  EntryQueue queue(4096);
  std::vector<std::thread> workers;
  for (auto& shard : shards)
    workers.emplace_back(write_shard, std::ref(shard), std::ref(queue), std::cref(pass.reader()));
  try {
    pass.run(options.corpus_paths, [&](SourceEntry&& entry) { queue.push(std::move(entry)); });
    queue.close();
  } catch (...) {
    queue.abort();
    for (auto& w : workers) w.join();
    std::filesystem::remove_all(shard_dir);
    throw;
  }
  for (auto& w : workers) w.join();
  for (auto& shard : shards) {
    if (shard.error) {
      std::filesystem::remove_all(shard_dir);
      std::rethrow_exception(shard.error);
    }
    report.added += shard.added;
    for (auto& f : shard.failed) report.failed.push_back(std::move(f));
    shard.db->close();
  }

  if (threads > 1) {
    Xapian::Database all;
    for (auto& shard : shards) all.add_database(Xapian::Database(shard.path));
    all.compact(path);
  }
  std::filesystem::remove_all(shard_dir);
  report.documents = Xapian::Database(path).get_doccount();
}

IndexReport run(const IndexOptions& options, const FileSystem& fs) {
  IndexLocation location(options.index_dir);
  IndexReport report;

  std::string current = location.current();
  std::optional<Xapian::WritableDatabase> current_db;
  if (!current.empty() && options.rebuild) {
    // Only to hold the lock: a damaged current generation must not stop
    // the rebuild that repairs it.
    try {
      current_db = open_writer(current, Xapian::DB_OPEN);
    } catch (const Xapian::Error&) {
    }
  } else if (!current.empty()) {
    current_db = open_writer(current, Xapian::DB_OPEN);
    std::string version = current_db->get_metadata(schema::kVersionKey);
    if (version != std::to_string(schema::kVersion)) {
      report.rebuild_reason = "the index was written with schema version " +
                              (version.empty() ? std::string("unknown") : version) +
                              " and this resdex uses " + std::to_string(schema::kVersion) +
                              "; rebuilding it";
    }
  }

  if (current_db && !options.rebuild && report.rebuild_reason.empty()) {
    update_generation(*current_db, options, fs, report);
    current_db->close();
    return report;
  }

  // A new generation. The current one stays locked (by current_db) until
  // the stub points at the new one, so no other writer slips in between.
  std::string next = location.prepare_next();
  build_generation(next, options, fs, report);
  location.switch_to(next);
  if (current_db) current_db->close();
  location.remove_stale();
  report.rebuilt = !current.empty();
  return report;
}

}  // namespace

IndexReport update_index(const IndexOptions& options, const FileSystem& fs) {
  try {
    return run(options, fs);
  } catch (const Xapian::DatabaseCorruptError& e) {
    throw Error(Error::Kind::kCorrupt, "index at '" + options.index_dir + "' is damaged (" +
                                           e.get_description() +
                                           "): rebuild it with `resdex index --rebuild`");
  } catch (const Xapian::DatabaseOpeningError& e) {
    throw Error(Error::Kind::kCorrupt, "index at '" + options.index_dir + "' cannot be opened (" +
                                           e.get_description() +
                                           "): rebuild it with `resdex index --rebuild`");
  } catch (const Xapian::Error& e) {
    throw Error(Error::Kind::kIo,
                "cannot update the index at '" + options.index_dir + "': " + e.get_description());
  } catch (const std::filesystem::filesystem_error& e) {
    throw Error(Error::Kind::kIo, "cannot update the index at '" + options.index_dir + "': " + e.what());
  }
}

}  // namespace resdex
