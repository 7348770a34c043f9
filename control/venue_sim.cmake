# fixmux-venue-sim: the venue simulator (docs/venue-sim.md). Kernel sockets, not on the fast
# path. The pure parts (command line, bodies and normal form, order book, price feed) form a
# small library that the unit tests link without a session layer.
set(_vsim_dir ${CMAKE_CURRENT_SOURCE_DIR}/tools/venue_sim)
add_library(fixmux_vsim_core STATIC
    ${_vsim_dir}/vsim_cli.c ${_vsim_dir}/vsim_body.c ${_vsim_dir}/vsim_book.c
    ${_vsim_dir}/vsim_feed.c)
target_include_directories(fixmux_vsim_core PUBLIC ${_vsim_dir})
target_link_libraries(fixmux_vsim_core PUBLIC fixmux_control fixcodec)

add_executable(fixmux-venue-sim ${_vsim_dir}/vsim_main.c ${_vsim_dir}/vsim_app.c)
target_link_libraries(fixmux-venue-sim PRIVATE fixmux_vsim_core fixmux_control fixcodec)

# Its tests live in tests/control/venue_sim/ and are registered here, where the simulator's
# target is known: the wire test starts the built executable as a child process.
set(_vsim_tests ${CMAKE_SOURCE_DIR}/tests/control/venue_sim)
if(FIXMUX_TESTS AND EXISTS ${_vsim_tests}/test_wire.c)
  fixmux_add_test(NAME test_control_venue_sim_logic
                  SOURCES ${_vsim_tests}/test_logic.c
                  LIBS fixmux_vsim_core TIMEOUT 60)
  fixmux_add_test(NAME test_control_venue_sim
                  SOURCES ${_vsim_tests}/test_wire.c ${_vsim_tests}/vsim_client.c
                  LIBS fixmux_control fixcodec TIMEOUT 60)
  target_include_directories(test_control_venue_sim PRIVATE ${_vsim_tests})
  target_compile_definitions(test_control_venue_sim PRIVATE
      VSIM_BIN="$<TARGET_FILE:fixmux-venue-sim>")
  add_dependencies(test_control_venue_sim fixmux-venue-sim)
endif()

# The QuickFIX acceptance scenarios over the wire against the simulator in echo mode: one
# Criterion test per scenario file (the list is generated when CMake configures). Over a real
# connection the clock is real: 4a and 6 wait out heartbeat intervals (12 s and 34 s each), so
# they are built only with -DFIXMUX_VSIM_SLOW_SCENARIOS=ON (docs/venue-sim.md).
option(FIXMUX_VSIM_SLOW_SCENARIOS "Also run the real-time scenarios 4a and 6 over the wire" OFF)
if(FIXMUX_TESTS AND EXISTS ${_vsim_tests}/test_acceptance_wire.c)
  set(_vsim_cases "")
  foreach(_ver fix42 fix44 fix50sp2)
    file(GLOB _files CONFIGURE_DEPENDS "${FIXMUX_QUICKFIX_REF}/definitions/${_ver}/*.def")
    list(SORT _files)
    foreach(_f ${_files})
      get_filename_component(_name ${_f} NAME_WE)
      if(NOT FIXMUX_VSIM_SLOW_SCENARIOS AND _name MATCHES "^(4a|6)_")
        continue()
      endif()
      string(APPEND _vsim_cases "SCENARIO(${_ver}, ${_name})\n")
    endforeach()
  endforeach()
  set(_vsim_gen ${CMAKE_CURRENT_BINARY_DIR}/vsim_gen)
  file(CONFIGURE OUTPUT "${_vsim_gen}/vsim_acceptance_cases.inc" CONTENT "${_vsim_cases}")
  fixmux_add_test(NAME test_control_venue_sim_acceptance
                  SOURCES ${_vsim_tests}/test_acceptance_wire.c ${_vsim_tests}/vsim_client.c
                  LIBS fixmux_control fixcodec TIMEOUT 60)
  target_include_directories(test_control_venue_sim_acceptance PRIVATE ${_vsim_tests}
                             ${_vsim_gen})
  target_compile_definitions(test_control_venue_sim_acceptance PRIVATE
      VSIM_BIN="$<TARGET_FILE:fixmux-venue-sim>")
  add_dependencies(test_control_venue_sim_acceptance fixmux-venue-sim)
endif()
