# fixmux end to end (tests/dataplane/fixmux_e2e/): the appliance over two net_tap ports in a
# private network namespace, with the venue simulator and Python FIX users on kernel TCP.
# Root only (skips with 77 otherwise); serial (it shares the CPU with its kernel peers);
# label "e2e". The configuration-error checks need neither root nor devices; the net_null
# run (--duration, stats file, an unknown port) needs root for the EAL but no namespace.
if(TARGET fixmux AND TARGET fixmux-venue-sim AND TARGET fixmux-passwd)
  # two-ports: the canonical topology; one-port: one device and one stack for both sides.
  # security: the same set-up, running only the protection phase (flood, logon storm).
  # two-lcores: two-ports with the sides on lcore 1 and the multiplexer on lcore 0 (EAL -l 0,1).
  foreach(mode two-ports one-port security two-lcores)
    add_test(NAME fixmux_e2e/users_${mode}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmux_e2e/run_e2e.sh
                     $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-venue-sim>
                     $<TARGET_FILE:fixmux-passwd> ${mode})
    set_tests_properties(fixmux_e2e/users_${mode} PROPERTIES
        RUN_SERIAL TRUE LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
  endforeach()
  add_test(NAME fixmux_e2e/config_errors
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmux_e2e/config_errors.sh
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-passwd>)
  set_tests_properties(fixmux_e2e/config_errors PROPERTIES LABELS e2e TIMEOUT 60)
  add_test(NAME fixmux_e2e/null_ports
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmux_e2e/null_ports.sh
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-passwd>)
  set_tests_properties(fixmux_e2e/null_ports PROPERTIES
      LABELS e2e TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
# many_users: 300 users at once, on a routed client network (client_gateway), each with an
# order and its ExecutionReport.
if(TARGET fixmux AND TARGET fixmux-venue-sim)
  add_test(NAME fixmux_e2e/many_users
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmux_e2e/many_users.sh
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-venue-sim> 300)
  set_tests_properties(fixmux_e2e/many_users PROPERTIES
      RUN_SERIAL TRUE LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
  # the same with the client side on lcore 0 beside the multiplexer and the venue side on
  # lcore 1 (idle sleep there)
  add_test(NAME fixmux_e2e/many_users_two_lcores
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fixmux_e2e/many_users.sh
                   $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-venue-sim> 300
                   0,1 client:0,venue:1,control:0 sleep)
  set_tests_properties(fixmux_e2e/many_users_two_lcores PROPERTIES
      RUN_SERIAL TRUE LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
