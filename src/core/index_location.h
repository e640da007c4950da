// Where an index lives on disk and how a new generation replaces the old.
//
// An index directory holds a Xapian stub file, XAPIANDB, naming the current
// generation ("auto db-3"), and the generation directories themselves.
// Readers open the directory and Xapian follows the stub. A rebuild writes
// db-<N+1> beside the current one and then renames a new stub over the old
// one, so a reader always sees one whole generation, old or new.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/error.h"

namespace resdex {

// The writer lock of an index directory, held while the object lives: an
// flock(2) on the directory itself, so it leaves no file behind and is
// released when its process dies, kill -9 included.
class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(WriterLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

 private:
  friend class IndexLocation;
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Replaces the file at `path` with `bytes`, whole: they are written to
// `path` + ".tmp", synced and renamed over it, so that a reader finds the
// old file or the new one, never part of one (the temporary file is
// removed on failure). Throws Error(kIo): "cannot write" naming the
// temporary file when it cannot be created, "cannot update" naming `path`
// when it cannot be written or renamed.
void replace_file(const std::string& path, std::string_view bytes);

class IndexLocation {
 public:
  explicit IndexLocation(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string stub_path() const { return dir_ + "/XAPIANDB"; }

  // True if the stub exists.
  bool exists() const;

  // Path of the current generation named by the stub, or "" if none.
  std::string current() const;

  // Path of the generation named by `stub_text` (a stub's text, as
  // open_reader gives it), or "" if it names none (a stub of remote
  // shards, say).
  std::string generation_dir(const std::string& stub_text) const;

  // The stub's text, or "" if there is none.
  std::string stub_text() const;

  // Takes the directory's writer lock, creating the directory if needed.
  // Throws Error(kLocked) if another process holds it. Every writer takes
  // it before it reads the stub, and keeps it until it is done, so that no
  // two runs ever write the same index. (Xapian's own lock on each
  // database is taken too, and left alone.)
  WriterLock lock_for_writing() const;

  // The Xapian databases of a generation: the generation itself, or, for a
  // sharded one, the local databases its own stub lists.
  std::vector<std::string> shards(const std::string& generation) const;

  // Writes `text` as this directory's stub, atomically (a temporary file,
  // fsync, rename).
  void write_stub(const std::string& text) const;

  // A fresh, empty path for the next generation (leftovers of an earlier
  // run that crashed before switching are removed).
  std::string prepare_next() const;

  // Points the stub at `generation` atomically (write a temporary file,
  // fsync, rename).
  void switch_to(const std::string& generation) const;

  // Removes generation directories the stub does not name (with the
  // db-N.shards work directories and the stub's temporary file a killed
  // run may leave behind). Only for the holder of the writer lock.
  void remove_stale() const;

  // Opens the index for reading. Throws Error(kNotFound) with the way to
  // build it when there is none, Error(kCorrupt) when it cannot be read.
  // If opening fails because a writer switched the stub to a new
  // generation meanwhile (and removed the old one), it opens the new one.
  // `*stub` (if given) receives the stub text of the generation opened.
  Xapian::Database open_reader(std::string* stub = nullptr) const;

  // The Error for a Xapian error met while `doing` something ("search",
  // "read") with this index: Error(kIo) naming the remote shards for a
  // network error (a stub line whose xapian-tcpsrv cannot be reached;
  // rebuilding would not help), Error(kCorrupt) with `resdex index
  // --rebuild` as the way out for anything else.
  Error read_error(const std::string& doing, const Xapian::Error& e) const;

 private:
  std::string dir_;
};

}  // namespace resdex
