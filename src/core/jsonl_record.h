// Reading one line of a JSONL corpus (BEIR layout and the like): one JSON
// object with `_id`, `title`, `text` and optional metadata.
#pragma once

#include <string_view>

#include "core/document.h"

namespace resdex {

class TextNormalizer;

// Parses one JSONL line into *doc (all fields but path and hash). Field
// mapping: `_id` (string or integer, required) -> id; `title`; `text`
// (or `abstract`) -> text; `authors` (list or string) -> name, joined with
// ", "; `affiliations` or `institutions` -> institutions (canonicalised);
// `areas` or `venues` -> areas; `year` (integer or digits) -> year; `type`
// (default "abstract"); `department`. Other keys are ignored; a key given
// twice counts with its last value. A UTF-8 byte order mark before the
// object is skipped. On failure returns false with err->reason set: not
// JSON ("not valid JSON: <what> at column <byte column from 1>"; numbers
// beyond a double and \u escapes of half a surrogate pair included), not
// an object, no `_id`, a field of the wrong JSON type, invalid UTF-8.
bool parse_jsonl_record(std::string_view line, const TextNormalizer& norm, Document* doc,
                        ReadError* err);

// The `_id` of a line that parse_jsonl_record rejected, if one can be read;
// "" otherwise. Lets the indexer keep that document's last good version.
std::string jsonl_record_id(std::string_view line);

}  // namespace resdex
