// Where an index lives on disk and how a new generation replaces the old.
//
// An index directory holds a Xapian stub file, XAPIANDB, naming the current
// generation ("auto db-3"), and the generation directories themselves.
// Readers open the directory and Xapian follows the stub. A rebuild writes
// db-<N+1> beside the current one and then renames a new stub over the old
// one, so a reader always sees one whole generation, old or new.
#pragma once

#include <string>
#include <vector>

#include <xapian.h>

namespace resdex {

class IndexLocation {
 public:
  explicit IndexLocation(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string stub_path() const { return dir_ + "/XAPIANDB"; }

  // True if the stub exists.
  bool exists() const;

  // Path of the current generation named by the stub, or "" if none.
  std::string current() const;

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

  // Removes generation directories the stub does not name.
  void remove_stale() const;

  // Opens the index for reading. Throws Error(kNotFound) with the way to
  // build it when there is none, Error(kCorrupt) when it cannot be read.
  Xapian::Database open_reader() const;

 private:
  std::string dir_;
};

}  // namespace resdex
