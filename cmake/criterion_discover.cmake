# Run at build time: ask a Criterion program for its tests (--list) and write one add_test()
# per test, so ctest runs and counts each of them. Output of --list looks like:
#   suite: 3 tests
#   ├── name_a
#   └── name_b
execute_process(COMMAND ${BIN} --list OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BIN} --list failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(content "")
set(suite "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ ]+): [0-9]+ tests?$")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^[^a-zA-Z0-9_]+ ([A-Za-z0-9_]+)$")
    set(name "${CMAKE_MATCH_1}")
    string(APPEND content
      "add_test([=[${PREFIX}/${suite}/${name}]=] [=[${BIN}]=] [=[--filter=${suite}/${name}]=] --jobs=1 --verbose)\n"
      "set_tests_properties([=[${PREFIX}/${suite}/${name}]=] PROPERTIES TIMEOUT ${TIMEOUT}"
      " SKIP_REGULAR_EXPRESSION [=[\\[SKIP\\] ${suite}::${name}: ]=]"
      " FAIL_REGULAR_EXPRESSION [=[Synthesis: Tested: 0 \\| Passing: 0 \\| Failing: 0 \\| Crashing: 0]=]")
    if(ENV)
      string(APPEND content " ENVIRONMENT [=[${ENV}]=]")
    endif()
    if(LABELS)
      string(APPEND content " LABELS [=[${LABELS}]=]")
    endif()
    string(APPEND content ")\n")
  endif()
endforeach()
if(content STREQUAL "")
  message(FATAL_ERROR "${BIN} lists no tests")
endif()
file(WRITE ${OUT} "${content}")
