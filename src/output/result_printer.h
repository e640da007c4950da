// Output formatters. Commands describe what they print once, through this
// interface; --json picks the JSON printer, otherwise text.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "core/document.h"
#include "core/indexer.h"
#include "core/search_result.h"

namespace resdex {

class ResultPrinter {
 public:
  virtual ~ResultPrinter() = default;
  virtual void search(const SearchResult& result) = 0;
  virtual void document(const Document& doc) = 0;
  virtual void index_report(const IndexReport& report) = 0;
};

struct TextStyle {
  bool color = false;  // ANSI colour and bold for highlights and names
};

std::unique_ptr<ResultPrinter> make_text_printer(std::FILE* out, TextStyle style);

// Each call prints exactly one JSON object and a newline.
std::unique_ptr<ResultPrinter> make_json_printer(std::FILE* out);

// What the JSON printer prints for `result`, newline included: for the web
// API, whose answers are those of `resdex search --json`.
std::string search_json(const SearchResult& result);

}  // namespace resdex
