# starling_test(NAME SOURCES... LIBS ... [COST n] [LABELS l...]): one gtest binary registered
# with CTest. Tests find the repository through STARLING_SOURCE_DIR and the shared suites beside
# it in ../shared. COST marks slow tests so that a parallel ctest starts them first; the label
# `concurrent` marks the tests that CI runs again under TSan. Nothing when STARLING_TESTS is off.
function(starling_test name)
  if(NOT STARLING_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "COST" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_COST)
    set(ARG_COST 0)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "STARLING_SOURCE_DIR=${PROJECT_SOURCE_DIR}" COST ${ARG_COST}
               LABELS "${ARG_LABELS}")
endfunction()

# starling_fuzz(NAME SOURCE LIBS...): a libFuzzer target when STARLING_FUZZ is on.
function(starling_fuzz name source)
  if(STARLING_FUZZ)
    add_executable(${name} ${source})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${ARGN})
  endif()
endfunction()

# starling_bench(NAME SOURCE LIBS...): a Google Benchmark binary.
function(starling_bench name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN} benchmark::benchmark)
endfunction()
