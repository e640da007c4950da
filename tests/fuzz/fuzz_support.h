// Shared by the libFuzzer targets: a check that aborts (so that libFuzzer
// reports the input) and the normalizer, built once per process.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "core/text_normalizer.h"

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

namespace resdex::fuzz {

inline const TextNormalizer& normalizer() {
  static const TextNormalizer n;
  return n;
}

}  // namespace resdex::fuzz
