// Linked into resdex, unit_tests and e2e_tests in a RESDEX_SANITIZE build
// (docs/reliability.md). The e2e tests start resdex with a small fixed
// environment, so ASAN_OPTIONS set for ctest never reaches it; and several
// tests expect resdex to exit with 1, the sanitizers' default exit code. So
// the defaults live in the binaries: leak checking on, and a sanitizer
// report exits with 86, which no test expects. ASAN_OPTIONS, UBSAN_OPTIONS
// and LSAN_OPTIONS in the environment still override these, flag by flag.
// (For the same reason LSAN_OPTIONS in ctest's ENVIRONMENT would not reach
// resdex: the suppressions file is named here instead.)
extern "C" const char* __asan_default_options() { return "detect_leaks=1:exitcode=86"; }
// Leaks that cannot be fixed in resdex, each with its reason: tests/lsan.supp.
extern "C" const char* __lsan_default_options() { return "suppressions=" RESDEX_LSAN_SUPPRESSIONS; }
extern "C" const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:exitcode=86";
}
