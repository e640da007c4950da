// A file mapped read-only into memory.
//
// For index files a search reads only in part, once per process: the
// records' compression dictionary (schema::kDataDictionaryFile). Mapping it
// costs a few system calls; reading it, through Xapian's metadata or
// read(2), copies every byte into pages the process then has to fault in.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace resdex {

class MappedFile {
 public:
  // The file at `path` mapped, or nullptr if it cannot be: missing, not a
  // regular file, empty, or not readable. Callers treat that as "no file".
  //
  // The mapping shows the file's bytes as long as nobody truncates it in
  // place (reading past a truncated end raises SIGBUS). resdex never does:
  // it writes such files whole and renames them into place.
  static std::shared_ptr<const MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}

  void* data_;
  size_t size_;
};

}  // namespace resdex
