// FUZZ_CHECK: an invariant the fuzz targets assert whatever the build type
// (assert() is gone under NDEBUG). A failure prints the condition and
// aborts, which libFuzzer reports as a crash with its reproducer.
#ifndef RUNBOT_TESTS_FUZZ_FUZZ_CHECK_H_
#define RUNBOT_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

#endif  // RUNBOT_TESTS_FUZZ_FUZZ_CHECK_H_
