// The error type of the core library. Xapian, ICU, YAML and JSON exceptions
// are caught where the library calls them and rethrown as resdex::Error with
// a message a user can act on; the CLI prints what() and picks the exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace resdex {

class Error : public std::runtime_error {
 public:
  enum class Kind {
    kUsage,       // a bad option value or argument
    kNotFound,    // a missing index, document or corpus path
    kLocked,      // another process is writing the index
    kCorrupt,     // an index that cannot be read
    kIo,          // a file-system failure
  };
  Error(Kind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace resdex
