#include "core/indexer.h"

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <xapian.h>

#include "core/corpus_reader.h"
#include "core/document_builder.h"
#include "core/error.h"
#include "core/facet_column.h"
#include "core/file_system.h"
#include "core/index_location.h"
#include "core/mapped_file.h"
#include "core/schema.h"
#include "core/synonyms.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

struct Indexed {
  Xapian::docid docid;  // within its shard
  size_t shard;
  std::string hash;
  const std::string* source;  // its schema::source_value, in IndexState::sources
};

// What the index holds: id -> its document.
struct IndexState {
  std::unordered_map<std::string, Indexed> docs;
  // The source files' schema::source_value, each once: a JSONL file's is
  // every one of its documents' source. A set's elements stay where they
  // are.
  std::unordered_set<std::string> sources;
};

// Adds to *state the documents of `db`, shard `shard`, read from the value
// streams (no document is loaded). The three streams hold the same
// documents in docid order, so they are read side by side. A database of
// schema version 8 or older (the previous generation of a rebuild) holds
// the paths themselves.
void read_state(const Xapian::Database& db, size_t shard, IndexState* state) {
  const bool paths = schema::stored_version(db) < 9;
  state->docs.reserve(state->docs.size() + db.get_doccount());
  // The value of `slot` for `did` from its stream `it`, moved forward.
  auto value_at = [&](Xapian::ValueIterator& it, Xapian::valueno slot, Xapian::docid did) {
    if (it != db.valuestream_end(slot) && it.get_docid() < did) it.skip_to(did);
    return it != db.valuestream_end(slot) && it.get_docid() == did ? *it : std::string();
  };
  Xapian::ValueIterator hash = db.valuestream_begin(schema::kSlotHash);
  Xapian::ValueIterator source = db.valuestream_begin(schema::kSlotSource);
  const std::string* last_source = nullptr;
  for (auto v = db.valuestream_begin(schema::kSlotId); v != db.valuestream_end(schema::kSlotId); ++v) {
    const Xapian::docid did = v.get_docid();
    std::string from = value_at(source, schema::kSlotSource, did);
    if (paths) from = schema::source_value(from);
    if (!last_source || *last_source != from) last_source = &*state->sources.insert(std::move(from)).first;
    state->docs.emplace(*v, Indexed{did, shard, value_at(hash, schema::kSlotHash, did), last_source});
  }
}

IndexState read_state(const Xapian::Database& db) {
  IndexState state;
  read_state(db, 0, &state);
  return state;
}

// The B-tree block size of a generation: Xapian's default, 8 KB. At 16 KB
// the ACL Anthology's index is 1.5 MB (0.6%) smaller, but a search is ~3%
// slower: each block it reads goes into a buffer of that size, and a new
// page of memory costs more than the read (~1.3 us on the benchmark
// machine; docs/performance.md).
constexpr unsigned kBlockSize = 8192;

// The shard a new document goes to: stable for an id, spread evenly.
size_t shard_of(const std::string& id, size_t shards) {
  return std::stoull(CorpusReader::hash(id), nullptr, 16) % shards;
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

  void run(const IndexOptions& options, const std::function<void(SourceEntry&&)>& each) {
    if (options.progress)
      reader_.set_progress([&](double fraction) { options.progress({seen_.size(), fraction, false}); });
    reader_.scan(
        options.corpus_paths,
        [&](SourceEntry&& entry) {
          auto [it, fresh] = seen_.emplace(entry.id, path_number(entry.path));
          if (!fresh) {
            report_.failed.push_back({entry.path, entry.line,
                                      "duplicate id '" + entry.id + "' (also in " + paths_[it->second] + ")"});
            return;
          }
          each(std::move(entry));
        },
        [&](const std::string& id, ReadError&& err) {
          if (id.empty()) {
            unsure_sources_.insert(schema::source_value(err.path));
          } else {
            seen_.emplace(id, path_number(err.path));
            unreadable_.push_back(id);
          }
          report_.failed.push_back(std::move(err));
        });
    if (options.progress) options.progress({seen_.size(), 1.0, true});
  }

  // Ids of sources that could not be read at all.
  const std::vector<std::string>& unreadable() const { return unreadable_; }

  // Whether a document no longer in the corpus may be removed. A source
  // with a line whose id could not be read keeps all its documents, since
  // the broken line may be any of them. `source`: the document's
  // schema::source_value.
  bool gone(const std::string& id, const std::string& source) const {
    return !seen_.count(id) && !unsure_sources_.count(source);
  }

  bool seen(const std::string& id) const { return seen_.count(id) != 0; }

  // Room for the ids of `documents` sources (those of the index, say).
  void expect(size_t documents) { seen_.reserve(documents); }

 private:
  // The number of `path` in paths_. Sources come file by file, so the
  // last one is the one asked for nearly always.
  uint32_t path_number(const std::string& path) {
    if (paths_.empty() || paths_.back() != path) paths_.push_back(path);
    return static_cast<uint32_t>(paths_.size() - 1);
  }

  CorpusReader reader_;
  IndexReport& report_;
  std::unordered_map<std::string, uint32_t> seen_;  // id -> its source, in paths_
  std::vector<std::string> paths_;
  std::unordered_set<std::string> unsure_sources_;  // as schema::source_value
  std::vector<std::string> unreadable_;
};

// Writes the records' dictionary into its file in `generation`
// (schema::kDataDictionaryFile), whole (replace_file), so that a search
// never maps part of one; nothing if the file already holds it, and none
// for an index without a dictionary.
void store_dictionary_file(const std::string& generation, const std::string& dictionary) {
  if (dictionary.empty()) return;
  const std::string path = generation + "/" + schema::kDataDictionaryFile;
  if (auto held = MappedFile::open(path); held && held->bytes() == dictionary) return;
  replace_file(path, dictionary);
}

// Writes the facet column (schema::kFacetColumnFile) of `generation`, a
// single database `db` holds open, unless the file there is current.
void store_facet_column(const std::string& generation, const Xapian::Database& db) {
  const std::string path = generation + "/" + schema::kFacetColumnFile;
  if (!FacetColumn::open(path, db)) FacetColumn::write(db, path);
}

// Brings an existing generation in line with the corpus: only changed
// sources are parsed and written. Each shard takes its changes in one
// transaction; with one shard (the usual case) the whole update is one
// atomic commit. With several, shards commit one after the other, and a
// crash in between leaves some shards updated: the next run finishes the
// job, since it compares every document's hash again.
void update_generation(std::vector<Xapian::WritableDatabase>& dbs, const IndexOptions& options,
                       const FileSystem& fs, const std::optional<std::string>& synonyms,
                       IndexReport& report) {
  TextNormalizer norm;
  IndexState state;
  for (size_t i = 0; i < dbs.size(); ++i) read_state(dbs[i], i, &state);
  CorpusPass pass(fs, norm, report);
  pass.expect(state.docs.size());
  // Every shard of a generation has the dictionaries of the first.
  FacetDictionary facets = FacetDictionary::load(dbs[0]);
  DocumentBuilder builder(norm, dbs[0].get_metadata(schema::kDataDictionaryKey), &facets);
  std::vector<SpellingDelta> spelling(dbs.size());

  size_t begun = 0;
  try {
    for (auto& db : dbs) {
      db.begin_transaction(true);
      ++begun;
    }
    pass.run(options, [&](SourceEntry&& entry) {
      auto old = state.docs.find(entry.id);
      if (old != state.docs.end() && old->second.hash == entry.hash) {
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
      if (old == state.docs.end()) {
        size_t shard = shard_of(doc.id, dbs.size());
        spelling[shard].add(xdoc);
        dbs[shard].add_document(xdoc);
        ++report.added;
      } else {
        auto& db = dbs[old->second.shard];
        spelling[old->second.shard].remove(db.get_document(old->second.docid));
        spelling[old->second.shard].add(xdoc);
        db.replace_document(old->second.docid, xdoc);
        ++report.updated;
      }
    });
    for (const auto& [id, indexed] : state.docs) {
      if (!pass.gone(id, *indexed.source)) continue;
      auto& db = dbs[indexed.shard];
      spelling[indexed.shard].remove(db.get_document(indexed.docid));
      db.delete_document(indexed.docid);
      ++report.removed;
    }
    for (size_t i = 0; i < dbs.size(); ++i) {
      spelling[i].apply(dbs[i]);
      facets.store(dbs[i], /*only_new=*/true);
      dbs[i].set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
      if (synonyms && dbs[i].get_metadata(schema::kSynonymsKey) != *synonyms) {
        dbs[i].set_metadata(schema::kSynonymsKey, *synonyms);
        report.synonyms_changed = true;
      }
    }
    for (auto& db : dbs) {
      db.commit_transaction();
      --begun;
    }
  } catch (...) {
    for (size_t i = dbs.size() - begun; i < dbs.size(); ++i) {
      try {
        dbs[i].cancel_transaction();
      } catch (const Xapian::Error&) {
      }
    }
    throw;
  }
  for (auto& db : dbs) report.documents += db.get_doccount();
  report.synonym_groups = Synonyms::deserialize(dbs[0].get_metadata(schema::kSynonymsKey)).groups().size();
}

// A bounded queue of sources from the corpus walk to the shard writers.
// The corpus walk is faster than the writers, so the queue is mostly full:
// a walk that finds it full waits until the writers have taken half of it,
// and then refills it in one go. (Woken at every free place, the walk took
// turns with the writers at every document: 155,000 context switches in
// a build of the 58,959 ACL abstracts, 1,400 with the half.)
class EntryQueue {
 public:
  explicit EntryQueue(size_t capacity) : capacity_(capacity) {}

  void push(SourceEntry&& e) {
    std::unique_lock lock(mu_);
    if (queue_.size() >= capacity_)
      not_full_.wait(lock, [&] { return queue_.size() <= capacity_ / 2 || aborted_; });
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
    // Each pop takes one, so the size passes the half exactly once while
    // a walk waits on a full queue.
    if (queue_.size() == capacity_ / 2) not_full_.notify_one();
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
  std::string synonyms;  // Synonyms::serialize()
  const std::string* data_dictionary = nullptr;
  FacetDictionary* facets = nullptr;  // shared by the writers of a build
  std::optional<Xapian::WritableDatabase> db;
  SpellingDelta spelling;  // words of the documents added (add_words), once all are in
  size_t added = 0;
  std::vector<ReadError> failed;
  std::vector<std::string> failed_ids;
  std::exception_ptr error;
};

// In a build of at least this many documents, a word found in only one
// document is left out of the spelling data: in a large corpus such words
// are mostly typos, run-together words and other noise, and they take
// three quarters of the spelling table (the ACL Anthology's is 3.2 MB
// without them, 12.4 MB with them; docs/performance.md). Smaller corpora
// keep every word, as each one there may be the only spelling of a topic.
constexpr size_t kSpellingPruneFrom = 5000;

void write_shard(ShardWriter& shard, EntryQueue& queue, const CorpusReader& reader) {
  try {
    TextNormalizer norm;
    DocumentBuilder builder(norm, *shard.data_dictionary, shard.facets);
    SpellingDelta& spelling = shard.spelling;
    SourceEntry entry;
    while (queue.pop(&entry)) {
      Document doc;
      ReadError err;
      if (!reader.parse(entry, &doc, &err)) {
        shard.failed.push_back(std::move(err));
        shard.failed_ids.push_back(entry.id);
        continue;
      }
      shard.db->add_document(builder.build(doc));
      ++shard.added;
    }
    spelling.add_words(*shard.db);
  } catch (...) {
    shard.error = std::current_exception();
    queue.abort();
  }
}

// Writes `words` (its part of the build's spelling data) and the metadata
// into a shard, and commits it. After every document of the build is in:
// each shard gets the build's whole facet dictionary.
void finish_shard(ShardWriter& shard, const SpellingDelta& words) {
  try {
    words.apply(*shard.db);
    shard.facets->store(*shard.db);
    shard.db->set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
    shard.db->set_metadata(schema::kSynonymsKey, shard.synonyms);
    shard.db->set_metadata(schema::kDataDictionaryKey, *shard.data_dictionary);
    shard.db->commit();
  } catch (...) {
    shard.error = std::current_exception();
  }
}

// Copies into `db` the documents of `previous` whose sources failed in this
// pass: a rebuild keeps their last good version as an update does.
// A previous generation that cannot be read (the damaged index a rebuild
// is repairing) gives nothing.
void carry_forward(const Xapian::Database& previous, const CorpusPass& pass,
                   const std::vector<ShardWriter>& shards, Xapian::WritableDatabase& db) {
  std::vector<std::string> ids = pass.unreadable();
  for (const ShardWriter& shard : shards) ids.insert(ids.end(), shard.failed_ids.begin(), shard.failed_ids.end());
  std::vector<Xapian::Document> docs;
  DataCodec codec(*shards[0].data_dictionary);
  try {
    // The stored data and the facet ids are written again with this
    // generation's dictionaries.
    DataCodec old_codec(previous.get_metadata(schema::kDataDictionaryKey));
    const bool old_ids = FacetDictionary::holds_ids(previous);
    const FacetDictionary old_facets = FacetDictionary::load(previous);
    const IndexState state = read_state(previous);
    for (const auto& [id, indexed] : state.docs)
      if (!pass.gone(id, *indexed.source) && !pass.seen(id)) ids.push_back(id);
    for (const std::string& id : ids) {
      Xapian::PostingIterator p = previous.postlist_begin(schema::kPrefixId + id);
      if (p == previous.postlist_end(schema::kPrefixId + id)) continue;
      // A copy that no longer reads `previous`, made while read errors
      // mean a damaged `previous`.
      Xapian::Document doc = previous.get_document(*p);
      Xapian::Document copy;
      const Document record = old_codec.decode(stored_record(doc));
      copy.add_value(schema::kSlotData, codec.encode(record));
      // Made again from the record's path: an older `previous` holds the
      // path itself.
      copy.add_value(schema::kSlotSource, schema::source_value(record.path));
      for (Xapian::valueno slot : {schema::kSlotId, schema::kSlotHash}) copy.add_value(slot, doc.get_value(slot));
      copy.add_value(schema::kSlotFacets, shards[0].facets->encode(facet_values(doc, old_ids, old_facets)));
      for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        copy.add_term(*t, t.get_wdf());
        for (auto pos = t.positionlist_begin(); pos != t.positionlist_end(); ++pos)
          copy.add_posting(*t, *pos, 0);
      }
      docs.push_back(std::move(copy));
    }
  } catch (const Xapian::DatabaseError&) {
    docs.clear();
  } catch (const Error&) {  // stored data that cannot be read
    docs.clear();
  }
  SpellingDelta spelling;
  for (const Xapian::Document& doc : docs) {
    spelling.add(doc);
    db.add_document(doc);
  }
  spelling.apply(db);
}

// Writes the whole corpus into a new generation at `path`. Each writer
// thread fills a shard of its own; Xapian's compaction then merges them
// into one database at `path`, or, with options.shards > 1, compacts each
// into `path`/shard-K under a stub file listing them. The corpus walk runs
// on the calling thread. Documents whose sources fail now are copied from
// `previous` when it is given.
void build_generation(const std::string& path, const IndexOptions& options, const FileSystem& fs,
                      const Xapian::Database* previous, unsigned out_shards,
                      const std::optional<std::string>& synonyms, IndexReport& report) {
  TextNormalizer norm;
  CorpusPass pass(fs, norm, report);

  // Synonyms that could not be read now stay as `previous` had them.
  std::string old_synonyms;
  try {
    if (previous) old_synonyms = previous->get_metadata(schema::kSynonymsKey);
  } catch (const Xapian::Error&) {
  }
  const std::string new_synonyms = synonyms ? *synonyms : old_synonyms;
  report.synonyms_changed = new_synonyms != old_synonyms;
  report.synonym_groups = Synonyms::deserialize(new_synonyms).groups().size();

  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::clamp(threads, 1u, 16u);
  if (out_shards > 1) threads = out_shards;

  std::vector<ShardWriter> shards(threads);
  std::string shard_dir = path + ".shards";
  std::filesystem::remove_all(shard_dir);
  std::filesystem::create_directories(shard_dir);
  // Xapian buffers this many documents per writer before flushing (its
  // default is 10,000). Its buffers are std::maps of every term and
  // position of every buffered document: past a few hundred documents they
  // only add cache misses. With 500, a build of the ACL abstracts took ~30%
  // less CPU time than with 10,000 and a writer 80 MB instead of 300 MB
  // (docs/performance.md). The variable is read when a database is
  // opened; a value the user set wins.
  setenv("XAPIAN_FLUSH_THRESHOLD", "500", 0);
  // The stored data's dictionary (DataCodec), made from the first
  // documents of the corpus: the writers start once it is made.
  std::string data_dictionary;
  // The build's facet ids, given by every writer (FacetDictionary).
  FacetDictionary facets;
  // The shards are scratch files, merged by the compaction below and then
  // removed, or removed when the run fails: they need no fsync. The
  // compaction writes the generation itself with Xapian's usual syncing,
  // and the stub names it only after that. (Not DB_DANGEROUS, which
  // updates blocks in place: on a full disk Xapian then reports that it
  // cannot cancel instead of the disk being full.)
  for (unsigned i = 0; i < threads; ++i) {
    shards[i].path = shard_dir + "/" + std::to_string(i);
    shards[i].synonyms = new_synonyms;
    shards[i].data_dictionary = &data_dictionary;
    shards[i].facets = &facets;
    shards[i].db = open_writer(shards[i].path, Xapian::DB_CREATE | Xapian::DB_NO_SYNC);
  }

  // Writers of a merged index share one queue. Writers of output shards
  // each get the documents shard_of() assigns them, as an update does, so
  // that every shard gets its share whichever thread is fastest.
  const bool by_id = out_shards > 1;
  std::vector<std::unique_ptr<EntryQueue>> queues;
  for (unsigned i = 0; i < (by_id ? threads : 1u); ++i)
    queues.push_back(std::make_unique<EntryQueue>(4096));
  std::vector<std::thread> workers;
  // Documents the stored data's dictionary is trained on (DataCodec): the
  // writers wait for it, so reading them and training is serial time
  // (~0.25 s on the ACL abstracts). More samples store the corpus in
  // less (2,000: +5%, 10,000: -3%) and take proportionally longer
  // (docs/performance.md).
  constexpr size_t kDictionarySample = 5000;
  std::vector<SourceEntry> held;            // read before the writers start
  auto push = [&](SourceEntry&& entry) {
    queues[by_id ? shard_of(entry.id, threads) : 0]->push(std::move(entry));
  };
  auto start = [&] {
    std::vector<Document> sample;
    for (const SourceEntry& e : held) {
      Document doc;
      ReadError err;
      if (pass.reader().parse(e, &doc, &err)) sample.push_back(std::move(doc));
    }
    data_dictionary = DataCodec::make_dictionary(sample);
    for (unsigned i = 0; i < threads; ++i)
      workers.emplace_back(write_shard, std::ref(shards[i]), std::ref(*queues[by_id ? i : 0]),
                           std::cref(pass.reader()));
    for (SourceEntry& e : held) push(std::move(e));
    held.clear();
  };
  try {
    pass.run(options, [&](SourceEntry&& entry) {
      if (!workers.empty()) return push(std::move(entry));
      held.push_back(std::move(entry));
      if (held.size() == kDictionarySample) start();
    });
    if (workers.empty()) start();
    for (auto& q : queues) q->close();
  } catch (...) {
    for (auto& q : queues) q->abort();
    for (auto& w : workers) w.join();
    std::filesystem::remove_all(shard_dir);
    throw;
  }
  for (auto& w : workers) w.join();
  auto check = [&] {
    for (auto& shard : shards) {
      if (shard.error) {
        std::filesystem::remove_all(shard_dir);
        std::rethrow_exception(shard.error);
      }
    }
  };
  check();
  // Spelling data and commits, each shard on a thread of its own. Shards
  // merged into one index each write a part of the build's words, each
  // word once with its count in the whole build. Output shards each keep
  // the counts of their own documents, which their updates change.
  std::vector<SpellingDelta> words(threads);
  {
    SpellingDelta all;
    size_t added = 0;
    for (auto& shard : shards) {
      added += shard.added;
      all.merge(shard.spelling);
    }
    const long min_documents = added >= kSpellingPruneFrom ? 2 : 1;
    for (unsigned i = 0; i < threads; ++i) {
      if (by_id) {
        words[i] = std::move(shards[i].spelling);
        words[i].prune(all, min_documents);
      } else {
        words[i] = all.part(i, threads, min_documents);
      }
      shards[i].spelling = SpellingDelta();
    }
  }
  // Before finish_shard: what it carries forward may give facet ids.
  if (previous) carry_forward(*previous, pass, shards, *shards[0].db);
  workers.clear();
  for (unsigned i = 0; i < threads; ++i)
    workers.emplace_back(finish_shard, std::ref(shards[i]), std::cref(words[i]));
  for (auto& w : workers) w.join();
  words.clear();
  check();
  for (auto& shard : shards) {
    report.added += shard.added;
    for (auto& f : shard.failed) report.failed.push_back(std::move(f));
    shard.db->close();
  }

  if (out_shards > 1) {
    std::filesystem::create_directories(path);
    std::string stub;
    for (unsigned i = 0; i < threads; ++i) {
      std::string name = "shard-" + std::to_string(i);
      Xapian::Database(shards[i].path).compact(path + "/" + name, 0, kBlockSize);
      stub += "auto " + name + "\n";
    }
    IndexLocation(path).write_stub(stub);
  } else {
    // Always compacted, one writer or several: a compact index is smaller
    // and faster to search.
    Xapian::Database all;
    for (auto& shard : shards) all.add_database(Xapian::Database(shard.path));
    all.compact(path, 0, kBlockSize);
    store_facet_column(path, Xapian::Database(path));
  }
  std::filesystem::remove_all(shard_dir);
  store_dictionary_file(path, data_dictionary);
  report.documents = Xapian::Database(path).get_doccount();
}

// The synonyms of options' files, merged and serialized; nullopt when one
// cannot be read (the index keeps the synonyms it has). Bad lines go to
// report.failed.
std::optional<std::string> read_synonyms(const IndexOptions& options, const FileSystem& fs,
                                         IndexReport& report) {
  TextNormalizer norm;
  Synonyms all;
  bool readable = true;
  for (const std::string& path : synonyms_paths(options)) {
    if (fs.stat(path) != FileSystem::Kind::kFile) {
      if (options.synonyms_paths.empty()) continue;  // a corpus without one
      throw Error(Error::Kind::kNotFound, "synonyms file '" + path + "' does not exist");
    }
    std::string text;
    std::string why = fs.read_file(path, &text);
    if (!why.empty()) {
      report.failed.push_back({path, 0, "cannot read file: " + why});
      readable = false;
      continue;
    }
    all.merge(Synonyms::parse(text, path, norm, &report.failed));
  }
  if (!readable) return std::nullopt;
  return all.serialize();
}

IndexReport run(const IndexOptions& options, const FileSystem& fs) {
  IndexLocation location(options.index_dir);
  // Held to the end, before the stub is read: see IndexLocation.
  WriterLock lock = options.lock_held ? WriterLock() : location.lock_for_writing();
  IndexReport report;
  const std::optional<std::string> synonyms = read_synonyms(options, fs, report);

  std::string current = location.current();
  if (current.empty() && location.exists() && !options.rebuild)
    // Damaged, or another program's: only an explicit rebuild replaces it.
    throw Error(Error::Kind::kCorrupt, "index at '" + options.index_dir + "' is damaged (its stub file " +
                                           location.stub_path() +
                                           " names no resdex generation): rebuild it with `resdex index --rebuild`");
  std::vector<Xapian::WritableDatabase> current_dbs;
  if (!current.empty() && options.rebuild) {
    // Only to hold the locks and to keep the last good version of broken
    // sources: a damaged current generation must not stop the rebuild that
    // repairs it.
    try {
      for (const std::string& shard : location.shards(current))
        current_dbs.push_back(open_writer(shard, Xapian::DB_OPEN));
    } catch (const Error&) {
      throw;
    } catch (const Xapian::Error&) {
      current_dbs.clear();
    }
  } else if (!current.empty()) {
    for (const std::string& shard : location.shards(current))
      current_dbs.push_back(open_writer(shard, Xapian::DB_OPEN));
    std::string version = current_dbs[0].get_metadata(schema::kVersionKey);
    if (version != std::to_string(schema::kVersion)) {
      report.rebuild_reason = "the index was written with schema version " +
                              (version.empty() ? std::string("unknown") : version) +
                              " and this resdex uses " + std::to_string(schema::kVersion) +
                              "; rebuilding it";
    } else if (options.shards != 0 && options.shards != current_dbs.size()) {
      report.rebuild_reason = "the index has " + std::to_string(current_dbs.size()) +
                              " shard(s) and " + std::to_string(options.shards) +
                              " were asked for; rebuilding it";
    }
  }

  if (!current_dbs.empty() && !options.rebuild && report.rebuild_reason.empty()) {
    update_generation(current_dbs, options, fs, synonyms, report);
    // A generation written before the files existed gets them here.
    store_dictionary_file(current, current_dbs[0].get_metadata(schema::kDataDictionaryKey));
    if (current_dbs.size() == 1) store_facet_column(current, current_dbs[0]);
    for (auto& db : current_dbs) db.close();
    // What a killed rebuild left behind.
    location.remove_stale();
    return report;
  }

  // A new generation. The current one stays locked (by current_dbs) until
  // the stub points at the new one, so no other writer slips in between.
  unsigned shards = options.shards ? options.shards
                                   : std::max<unsigned>(1, static_cast<unsigned>(current_dbs.size()));
  std::string next = location.prepare_next();
  std::optional<Xapian::Database> previous;
  if (!current_dbs.empty()) {
    previous.emplace();
    for (auto& db : current_dbs) previous->add_database(db);
  }
  try {
    build_generation(next, options, fs, previous ? &*previous : nullptr, shards, synonyms, report);
    location.switch_to(next);
  } catch (...) {
    // The stub still names the current generation: drop the unfinished
    // one, which may hold most of a full disk.
    std::error_code ec;
    std::filesystem::remove_all(next, ec);
    std::filesystem::remove_all(next + ".shards", ec);
    throw;
  }
  previous.reset();
  for (auto& db : current_dbs) db.close();
  location.remove_stale();
  report.rebuilt = !current.empty();
  return report;
}

// Also when the failed write is nested in another error ("Modifications
// failed (... No space left on device), and ...").
bool no_space(const Xapian::Error& e) {
  return e.get_description().find(std::strerror(ENOSPC)) != std::string::npos;
}

Error disk_full(const IndexOptions& options) {
  return Error(Error::Kind::kIo, "no space left on device while writing the index at '" +
                                     options.index_dir +
                                     "': the index is as it was before this run; free some "
                                     "space and run `resdex index` again");
}

IndexReport run_once(const IndexOptions& options, const FileSystem& fs) {
  try {
    return run(options, fs);
  } catch (const Xapian::DatabaseLockError&) {
    // Another program holding Xapian's lock on a generation.
    throw Error(Error::Kind::kLocked, "another process is updating the index at '" +
                                          options.index_dir + "'; try again when it has finished");
  } catch (const Xapian::Error& e) {
    if (no_space(e)) throw disk_full(options);
    throw;
  } catch (const std::filesystem::filesystem_error& e) {
    if (e.code() == std::errc::no_space_on_device) throw disk_full(options);
    throw;
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::kIo && std::strstr(e.what(), std::strerror(ENOSPC)))
      throw disk_full(options);
    throw;
  }
}

// run_once, again and again while another process holds the index and
// options.wait allows.
IndexReport run_waiting(const IndexOptions& options, const FileSystem& fs) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + options.wait_timeout;
  std::chrono::milliseconds pause(10);
  for (;;) {
    try {
      return run_once(options, fs);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kLocked || !options.wait) throw;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) {
        char waited[32];
        std::snprintf(waited, sizeof waited, "%g", static_cast<double>(options.wait_timeout.count()) / 1000);
        throw Error(Error::Kind::kLocked, std::string("gave up after waiting ") + waited +
                                              " s: another process is still updating the index at '" +
                                              options.index_dir + "'");
      }
      std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
  }
}

}  // namespace

std::vector<std::string> synonyms_paths(const IndexOptions& options) {
  if (!options.synonyms_paths.empty()) return options.synonyms_paths;
  std::vector<std::string> out;
  for (const std::string& root : options.corpus_paths) {
    // A directory, or a root that does not exist (the run then fails);
    // not a single file.
    if (is_jsonl_path(root) || (root.size() > 3 && root.compare(root.size() - 3, 3, ".md") == 0))
      continue;
    std::string dir = root;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    out.push_back(dir + "/" + schema::kSynonymsFile);
  }
  return out;
}

IndexReport update_index(const IndexOptions& options, const FileSystem& fs) {
  try {
    return run_waiting(options, fs);
  } catch (const Xapian::DatabaseCorruptError& e) {
    throw Error(Error::Kind::kCorrupt, "index at '" + options.index_dir + "' is damaged (" +
                                           e.get_description() +
                                           "): rebuild it with `resdex index --rebuild`");
  } catch (const Xapian::DatabaseOpeningError& e) {
    throw Error(Error::Kind::kCorrupt, "index at '" + options.index_dir + "' cannot be opened (" +
                                           e.get_description() +
                                           "): rebuild it with `resdex index --rebuild`");
  } catch (const Xapian::DatabaseError& e) {
    // Reading a damaged table, or a failing disk.
    throw Error(Error::Kind::kIo, "cannot update the index at '" + options.index_dir + "' (" +
                                      e.get_description() +
                                      "): if it is damaged, rebuild it with `resdex index --rebuild`");
  } catch (const Xapian::Error& e) {
    throw Error(Error::Kind::kIo,
                "cannot update the index at '" + options.index_dir + "': " + e.get_description());
  } catch (const std::filesystem::filesystem_error& e) {
    throw Error(Error::Kind::kIo, "cannot update the index at '" + options.index_dir + "': " + e.what());
  }
}

}  // namespace resdex
