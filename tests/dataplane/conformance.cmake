# The QuickFIX acceptance scenarios (fix42, fix44, fix50sp2) over the wire against fixmux's
# client side, with fixmux-venue-sim in echo mode behind it (issue 5 §4, docs/conformance.md).
# One ctest test per scenario file, conformance/<version>/<scenario>, all sharing one fixmux
# and one simulator in one private network namespace: the fixture test conformance/setup
# starts them, conformance/cleanup removes everything (ctest runs it even after failures, and
# adds both when only some scenarios are selected with -R). Root only (77 = skipped otherwise);
# serial; label "e2e".
#
# The scenarios are run by the venue simulator's own over-the-wire acceptance runner
# (tests/control/venue_sim/test_acceptance_wire.c, pointed at fixmux by
# FIXMUX_ACCEPTANCE_PEER), built here a second time with this file's list of scenarios.
option(FIXMUX_CONFORMANCE_SLOW_SCENARIOS
       "Also run the real-time scenarios 4a and 6 (heartbeat intervals) against fixmux" OFF)

# Scenarios that cannot pass through a multiplexer by design, each with its reason in
# docs/conformance.md ("Excluded scenarios"). Never listed here: a scenario that fails
# because of a bug (that one fails loudly until it is fixed).
set(FIXMUX_CONFORMANCE_EXCLUDED
    # 19b: the echo must carry PossResend(97=Y). fixmux forwards the order under its own header
    # (97 is not copied: the order was never sent on the venue session, so it is no possible
    # resend there) and writes its own header toward the user, so the echo arrives without it.
    fix42/19b_PossResendMessageThatHasNotBeenSent
    fix44/19b_PossResendMessageThatHasNotBeenSent
    fix50sp2/19b_PossResendMessageThatHasNotBeenSent
)

set(_conf_vsim ${CMAKE_SOURCE_DIR}/tests/control/venue_sim)
if(TARGET fixmux AND TARGET fixmux-venue-sim AND EXISTS ${_conf_vsim}/test_acceptance_wire.c)
  set(_conf_cases "")
  set(_conf_tests "")
  foreach(_ver fix42 fix44 fix50sp2)
    file(GLOB _files CONFIGURE_DEPENDS "${FIXMUX_QUICKFIX_REF}/definitions/${_ver}/*.def")
    list(SORT _files)
    foreach(_f ${_files})
      get_filename_component(_name ${_f} NAME_WE)
      if(NOT FIXMUX_CONFORMANCE_SLOW_SCENARIOS AND _name MATCHES "^(4a|6)_")
        continue()
      endif()
      if("${_ver}/${_name}" IN_LIST FIXMUX_CONFORMANCE_EXCLUDED)
        continue()
      endif()
      string(APPEND _conf_cases "SCENARIO(${_ver}, ${_name})\n")
      list(APPEND _conf_tests "${_ver}/${_name}")
    endforeach()
  endforeach()
  set(_conf_gen ${CMAKE_CURRENT_BINARY_DIR}/conformance_gen)
  file(CONFIGURE OUTPUT "${_conf_gen}/vsim_acceptance_cases.inc" CONTENT "${_conf_cases}")

  # Not a fixmux_add_test program: its tests only make sense inside the fixture's namespace.
  add_executable(conformance_scenarios ${_conf_vsim}/test_acceptance_wire.c
                 ${_conf_vsim}/vsim_client.c)
  target_include_directories(conformance_scenarios PRIVATE ${_conf_vsim} ${_conf_gen})
  target_link_libraries(conformance_scenarios PRIVATE fixmux_control fixcodec
                        PkgConfig::CRITERION)
  target_compile_definitions(conformance_scenarios PRIVATE
      FIXMUX_QUICKFIX_REF="${FIXMUX_QUICKFIX_REF}" FIXMUX_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
      VSIM_BIN="$<TARGET_FILE:fixmux-venue-sim>")

  # One namespace and work directory per build tree, so that two build trees can run the
  # suite at the same time.
  string(MD5 _conf_hash "${CMAKE_BINARY_DIR}")
  string(SUBSTRING "${_conf_hash}" 0 8 _conf_hash)
  set(_conf_ns fmx-conf-${_conf_hash})
  set(_conf_work ${CMAKE_CURRENT_BINARY_DIR}/conformance_run)
  set(_conf_sh ${CMAKE_CURRENT_LIST_DIR}/conformance/conformance.sh)

  add_test(NAME conformance/setup
           COMMAND bash ${_conf_sh} start ${_conf_work} ${_conf_ns}
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-venue-sim>)
  add_test(NAME conformance/cleanup COMMAND bash ${_conf_sh} stop ${_conf_work} ${_conf_ns})
  set_tests_properties(conformance/setup PROPERTIES FIXTURES_SETUP fixmux_conformance
      RUN_SERIAL TRUE LABELS e2e TIMEOUT 60 SKIP_RETURN_CODE 77)
  set_tests_properties(conformance/cleanup PROPERTIES FIXTURES_CLEANUP fixmux_conformance
      RUN_SERIAL TRUE LABELS e2e TIMEOUT 60 SKIP_RETURN_CODE 77)
  foreach(_t ${_conf_tests})
    string(REPLACE "/" ";" _parts "${_t}")
    list(GET _parts 0 _ver)
    list(GET _parts 1 _name)
    add_test(NAME conformance/${_t}
             COMMAND bash ${_conf_sh} run ${_conf_work} ${_conf_ns}
                     $<TARGET_FILE:conformance_scenarios> ${_ver} ${_name})
    set_tests_properties(conformance/${_t} PROPERTIES FIXTURES_REQUIRED fixmux_conformance
        RUN_SERIAL TRUE LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
  endforeach()
endif()
