# The libFuzzer targets and how CTest runs them (label fuzz), shared by the
# fuzz build (tests/fuzz/CMakeLists.txt, NS8M_FUZZ=ON) and by a normal build
# given NS8M_FUZZ_BUILD_DIR (scripts/test.sh: the fuzzers then run in its
# CTest, beside the cluster tests).
set(NS8M_FUZZ_TARGETS esmithdb rsync ns8task profile options)
# Seconds of fuzzing per target: 5 x (40 s + about 3 s of start and seed replay)
# stay under the 4 minutes CI gives them.
set(NS8M_FUZZ_SECONDS 40 CACHE STRING "Seconds each libFuzzer target runs in CTest")

# ns8m_add_fuzz_tests(BINARY_DIR): fuzz.<target> runs BINARY_DIR/fuzz_<target>
# over a working corpus in the build tree seeded from tests/fuzz/corpus/<target>
# (read only); a crash fails the test and leaves its input in
# <build>/fuzz-artifacts/<target>/.
function(ns8m_add_fuzz_tests bindir)
  foreach(t IN LISTS NS8M_FUZZ_TARGETS)
    add_test(NAME fuzz.${t}
             COMMAND /bin/sh ${PROJECT_SOURCE_DIR}/tests/fuzz/run.sh ${bindir}/fuzz_${t}
                     ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${t} ${PROJECT_BINARY_DIR}/fuzz-artifacts/${t}
                     ${NS8M_FUZZ_SECONDS})
    math(EXPR timeout "${NS8M_FUZZ_SECONDS} + 120")
    set_tests_properties(fuzz.${t} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
  endforeach()
endfunction()
