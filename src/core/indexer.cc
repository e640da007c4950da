#include "core/indexer.h"

#include <filesystem>
#include <optional>
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
};

// id -> what the index holds for it, read from the id and hash value
// streams (no document is loaded).
std::unordered_map<std::string, Indexed> read_state(const Xapian::Database& db) {
  std::unordered_map<std::string, Indexed> state;
  std::unordered_map<Xapian::docid, std::string> hashes;
  for (auto v = db.valuestream_begin(schema::kSlotHash); v != db.valuestream_end(schema::kSlotHash); ++v)
    hashes.emplace(v.get_docid(), *v);
  for (auto v = db.valuestream_begin(schema::kSlotId); v != db.valuestream_end(schema::kSlotId); ++v)
    state.emplace(*v, Indexed{v.get_docid(), hashes[v.get_docid()]});
  return state;
}

std::string stored_version(const Xapian::Database& db) {
  return db.get_metadata(schema::kVersionKey);
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

// Writes the corpus into `db` inside one transaction. With `state` empty
// (a new generation) every document is added.
void apply(Xapian::WritableDatabase& db, const IndexOptions& options, const FileSystem& fs,
           const TextNormalizer& norm, IndexReport& report) {
  auto state = read_state(db);
  std::unordered_map<std::string, std::string> seen;  // id -> path of its source
  DocumentBuilder builder(norm, &db);
  CorpusReader reader(fs, norm);

  db.begin_transaction(true);
  try {
    reader.scan(
        options.corpus_paths,
        [&](SourceEntry&& entry) {
          auto [it, fresh] = seen.emplace(entry.id, entry.path);
          if (!fresh) {
            report.failed.push_back(
                {entry.path, 0, "duplicate id '" + entry.id + "' (also in " + it->second + ")"});
            return;
          }
          auto old = state.find(entry.id);
          if (old != state.end() && old->second.hash == entry.hash) {
            ++report.unchanged;
            return;
          }
          Document doc;
          ReadError err;
          if (!reader.parse(entry, &doc, &err)) {
            report.failed.push_back(std::move(err));
            return;
          }
          db.replace_document(schema::kPrefixId + doc.id, builder.build(doc));
          ++(old == state.end() ? report.added : report.updated);
        },
        [&](const std::string& id, ReadError&& err) {
          seen.emplace(id, err.path);
          report.failed.push_back(std::move(err));
        });
    for (const auto& [id, indexed] : state) {
      if (seen.count(id)) continue;
      db.delete_document(indexed.docid);
      ++report.removed;
    }
    db.set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
    db.commit_transaction();
  } catch (...) {
    db.cancel_transaction();
    throw;
  }
  report.documents = db.get_doccount();
}

IndexReport run(const IndexOptions& options, const FileSystem& fs) {
  TextNormalizer norm;
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
    std::string version = stored_version(*current_db);
    if (!options.rebuild && version != std::to_string(schema::kVersion)) {
      report.rebuild_reason = "the index was written with schema version " +
                              (version.empty() ? std::string("unknown") : version) +
                              " and this resdex uses " + std::to_string(schema::kVersion) +
                              "; rebuilding it";
    }
  }

  if (current_db && !options.rebuild && report.rebuild_reason.empty()) {
    apply(*current_db, options, fs, norm, report);
    current_db->close();
    return report;
  }

  // A new generation. The current one stays locked (by current_db) until
  // the stub points at the new one, so no other writer slips in between.
  std::string next = location.prepare_next();
  {
    Xapian::WritableDatabase db = open_writer(next, Xapian::DB_CREATE);
    apply(db, options, fs, norm, report);
    db.close();
  }
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
  }
}

}  // namespace resdex
