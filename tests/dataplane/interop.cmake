# Interop tests: fixmux-dp-echo (the stack over net_tap) against the Linux kernel's TCP in a
# private network namespace, hostile segments from scapy, a tshark check of a capture.
# Root only (they skip with 77 otherwise); serial, since they share the CPU with the kernel
# peers; label "interop" (ctest -L interop / -LE interop). See docs/tcp.md.
if(TARGET fixmux-dp-echo)
  set(FIXMUX_INTEROP_CASES
      server_clients server_large server_reset client_active client_passive
      faults_server faults_client faults_bursts tshark hostile af_packet memif)
  foreach(case ${FIXMUX_INTEROP_CASES})
    add_test(NAME interop/${case}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/interop/run_case.sh ${case}
                     $<TARGET_FILE:fixmux-dp-echo>)
    set_tests_properties(interop/${case} PROPERTIES
        RUN_SERIAL TRUE LABELS interop TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
endif()
