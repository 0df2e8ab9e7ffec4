// Catch2's runner. Its implementation (catch.hpp, CATCH_CONFIG_MAIN) instantiates std::regex for
// Matchers::Matches, and GCC 12 at -O1 with -fsanitize=address,undefined (the sanitizer build of
// .ci/run) reports -Wmaybe-uninitialized inside libstdc++'s <regex> there; silenced for this
// third-party code only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
