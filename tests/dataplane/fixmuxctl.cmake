# fixmuxctl against a running fixmux (tests/dataplane/fixmuxctl/): every command's table and
# JSON, and the run-time changes by their effect. Root only (skips with 77 otherwise); serial;
# label "e2e".
if(TARGET fixmux AND TARGET fixmux-venue-sim AND TARGET fixmux-passwd AND TARGET fixmuxctl)
  add_test(NAME fixmuxctl/commands
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmuxctl/run_fixmuxctl.sh
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-venue-sim>
                   $<TARGET_FILE:fixmux-passwd> $<TARGET_FILE:fixmuxctl>)
  set_tests_properties(fixmuxctl/commands PROPERTIES
      RUN_SERIAL TRUE LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()

# fixmux's latency histogram (dataplane/fixmux_main/fmx_lat.c), a unit test.
if(TARGET fixmux AND FIXMUX_TESTS)
  fixmux_add_test(NAME test_fixmux_lat_hist
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixmuxctl/test_lat_hist.c
                          ${CMAKE_SOURCE_DIR}/dataplane/fixmux_main/fmx_lat.c
                  LIBS fixmux_dataplane fixmux_control m)
  target_include_directories(test_fixmux_lat_hist PRIVATE ${CMAKE_SOURCE_DIR}/dataplane/fixmux_main)
  target_compile_options(test_fixmux_lat_hist PRIVATE -Wno-pedantic) # DPDK headers
endif()
