// English stop words, dropped from queries (never from the index, so that
// phrases with them still match).
#pragma once

#include <string_view>

namespace resdex {

// True if `folded_word` (lower case, no accents) is an English stop word:
// the Snowball project's English list.
bool is_stopword(std::string_view folded_word);

}  // namespace resdex
