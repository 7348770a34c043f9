# The README demo, short: the summary must show orders acknowledged and filled, prices, quotes
# and drop copies delivered, every user logged on and out cleanly, fixmux and the venue
# simulator exiting 0 (dataplane/demo.sh's exit status). Runs on the binaries of this build.
if(TARGET fixmux AND TARGET fixmux-venue-sim AND TARGET fixmux-passwd AND TARGET fixmuxctl)
  add_test(NAME demo/short_run
           COMMAND bash ${CMAKE_SOURCE_DIR}/dataplane/demo.sh --duration 5)
  set_tests_properties(demo/short_run PROPERTIES
      ENVIRONMENT "FIXMUX_DEMO_PREBUILT=${CMAKE_BINARY_DIR}"
      RUN_SERIAL TRUE LABELS "e2e" TIMEOUT 180
      PASS_REGULAR_EXPRESSION "everyone logged on, traded and logged out")
endif()
