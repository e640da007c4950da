// A document as read from the corpus, before it becomes a Xapian document.
#pragma once

#include <string>
#include <vector>

namespace resdex {

struct Document {
  std::string id;     // unique: the path below the corpus root without ".md"
  std::string type;   // one of schema::kTypes
  std::string name;   // the person (or the area's / course's name)
  std::string title;
  std::vector<std::string> institutions;  // canonical short names
  std::string department;
  std::vector<std::string> areas;
  int year = 0;       // publication year; 0 if unknown
  std::string text;   // plain text of the body, Markdown markup removed
  std::string path;   // source file as given on the command line
  std::string hash;   // content hash of the source bytes (hex)
};

// A document that could not be read. `line` is 1-based; 0 when the problem
// is not tied to a line (an unreadable file).
struct ReadError {
  std::string path;
  int line = 0;
  std::string reason;
};

}  // namespace resdex
