# Helpers shared by every module's CMakeLists.txt.

# Where the QuickFIX reference data lives (scenarios, dictionaries); overridable.
# The project is normally checked out beside shared/ (../shared); a clone elsewhere (CI) finds
# the workplace copy in /work/shared.
set(_qf_default "${CMAKE_SOURCE_DIR}/../shared/reference/quickfix")
if(NOT EXISTS "${_qf_default}" AND EXISTS "/work/shared/reference/quickfix")
  set(_qf_default "/work/shared/reference/quickfix")
endif()
set(FIXMUX_QUICKFIX_REF "${_qf_default}" CACHE PATH
    "QuickFIX acceptance scenarios and FIX dictionaries")
if(NOT EXISTS "${FIXMUX_QUICKFIX_REF}/definitions")
  message(WARNING "FIXMUX_QUICKFIX_REF=${FIXMUX_QUICKFIX_REF} has no definitions/: the acceptance "
                  "tests will report it")
endif()

# fixmux_add_test(NAME name SOURCES ... [LIBS ...] [ENV k=v ...] [TIMEOUT s] [LABELS ...])
# Builds a Criterion test program and registers each of its tests with ctest on its own,
# so ctest's summary line counts individual tests (discovered after build with --list).
function(fixmux_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;ENV;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CRITERION)
  target_compile_definitions(${T_NAME} PRIVATE
      FIXMUX_QUICKFIX_REF="${FIXMUX_QUICKFIX_REF}"
      FIXMUX_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set(ctest_file "${CMAKE_CURRENT_BINARY_DIR}/${T_NAME}_tests.cmake")
  string(REPLACE ";" "\\;" env_escaped "${T_ENV}")
  add_custom_command(TARGET ${T_NAME} POST_BUILD
      COMMAND ${CMAKE_COMMAND}
          -D BIN=$<TARGET_FILE:${T_NAME}> -D OUT=${ctest_file} -D PREFIX=${T_NAME}
          -D TIMEOUT=${T_TIMEOUT} "-D ENV=${env_escaped}" "-D LABELS=${T_LABELS}"
          -P ${CMAKE_SOURCE_DIR}/cmake/criterion_discover.cmake
      BYPRODUCTS ${ctest_file} VERBATIM)
  # ctest reads the list through a wrapper, so a program that was not built shows up as one
  # failing test instead of breaking ctest for everyone.
  set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/${T_NAME}_include.cmake")
  file(WRITE ${wrapper}
      "if(EXISTS [=[${ctest_file}]=])\n"
      "  include([=[${ctest_file}]=])\n"
      "else()\n"
      "  add_test([=[${T_NAME}/NOT_BUILT]=] false)\n"
      "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${wrapper})
endfunction()
