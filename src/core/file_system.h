// The file-system operations the corpus reader needs, behind an interface so
// that tests can run the incremental indexing logic on an in-memory tree.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace resdex {

// Lines of a file, read in constant memory.
class LineReader {
 public:
  virtual ~LineReader() = default;
  // The next line without its '\n' (a trailing '\r' is kept). Returns false
  // at the end. Throws Error(kIo) on a read error.
  virtual bool next(std::string* line) = 0;
  // How much of the input has been read, 0..1; negative when unknown
  // (standard input).
  virtual double fraction() const { return -1; }
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  enum class Kind { kMissing, kFile, kDirectory };
  virtual Kind stat(const std::string& path) const = 0;

  // Regular files below `dir` (recursively, sorted, as paths starting with
  // `dir`) whose names end in `suffix`. Hidden files and directories (a name
  // starting with '.') are skipped.
  virtual std::vector<std::string> list_files(const std::string& dir,
                                              const std::string& suffix) const = 0;

  // Reads the whole file into *contents. Returns "" on success, otherwise
  // the reason (e.g. "Permission denied").
  virtual std::string read_file(const std::string& path, std::string* contents) const = 0;

  // Opens a file for reading line by line: "-" is standard input, and
  // gzip-compressed files are decompressed. Throws Error(kIo) if the file
  // cannot be opened.
  virtual std::unique_ptr<LineReader> open_lines(const std::string& path) const = 0;
};

// The real file system (std::filesystem and POSIX reads).
class DiskFileSystem : public FileSystem {
 public:
  Kind stat(const std::string& path) const override;
  std::vector<std::string> list_files(const std::string& dir,
                                      const std::string& suffix) const override;
  std::string read_file(const std::string& path, std::string* contents) const override;
  std::unique_ptr<LineReader> open_lines(const std::string& path) const override;
};

// An in-memory tree for tests: files by path; directories are implied by
// the paths of the files in them.
class MemoryFileSystem : public FileSystem {
 public:
  void write(const std::string& path, const std::string& contents) { files_[path] = contents; }
  void remove(const std::string& path) { files_.erase(path); }

  Kind stat(const std::string& path) const override;
  std::vector<std::string> list_files(const std::string& dir,
                                      const std::string& suffix) const override;
  std::string read_file(const std::string& path, std::string* contents) const override;
  std::unique_ptr<LineReader> open_lines(const std::string& path) const override;

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace resdex
