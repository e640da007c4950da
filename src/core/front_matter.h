// Reading one Markdown document: YAML front matter between '---' lines,
// then a Markdown body that is reduced to plain text for indexing and
// display.
#pragma once

#include <string>
#include <string_view>

#include "core/document.h"

namespace resdex {

class TextNormalizer;

// Parses the bytes of one Markdown file. On success fills *doc (all fields
// but id, path and hash, which belong to the caller) and returns true. On
// failure returns false and sets err->line and err->reason: no or
// unterminated front matter, malformed YAML, a missing or empty `name` or
// `type`, an unknown type, a list field that is not a list of strings, a
// group without `title` or `institutions`, invalid UTF-8, a binary file, an
// empty file. Institutions are canonicalised (schema::canonical_institution).
bool parse_markdown_document(std::string_view contents, const TextNormalizer& norm,
                             Document* doc, ReadError* err);

// The text of a Markdown body without its markup: paragraphs, headings and
// list items separated by blank lines, soft breaks as spaces, link text
// kept and link targets dropped, raw HTML kept as text. Throws
// Error(kIo) if the Markdown library (md4c) cannot be loaded.
std::string markdown_to_text(std::string_view markdown);

}  // namespace resdex
