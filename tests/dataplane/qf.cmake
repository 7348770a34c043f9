# QuickFIX C++ peers of fixmux (tests/dataplane/qf/): fixmux-qf-user (an initiator logging on
# as a configured user, sending orders, recording every ExecutionReport) and fixmux-qf-venue
# (an acceptor with a FileStore that acknowledges and fills), and the crash/recovery scenarios
# run with them against the DPDK process on two net_tap ports in a private namespace.
# Root only (skip 77 otherwise), serial, label "e2e".
if(TARGET PkgConfig::QUICKFIX)
  foreach(prog user venue)
    add_executable(fixmux-qf-${prog} ${CMAKE_CURRENT_LIST_DIR}/qf/qf_${prog}.cpp)
    target_link_libraries(fixmux-qf-${prog} PRIVATE PkgConfig::QUICKFIX pthread)
    # QuickFIX 1.14's headers use dynamic exception specifications, which C++17 removed.
    set_target_properties(fixmux-qf-${prog} PROPERTIES CXX_STANDARD 14 CXX_EXTENSIONS ON)
    target_compile_options(fixmux-qf-${prog} PRIVATE -Wno-deprecated -Wno-pedantic)
  endforeach()
endif()

if(TARGET PkgConfig::QUICKFIX AND TARGET fixmux AND TARGET fixmux-passwd)
  # kill9-venue: the venue killed with SIGKILL in the middle of the flow, fixmux's Logout held
  # back from the users so that orders cross it; each such order must be answered (the reject
  # is kept for the user's next Logon) — it was lost before the fix in ctl_mux_fwd.c.
  foreach(scenario kill9 kill9-pending kill9-delivery logout-mid-flow venue-gaps reset
                   reset-flow kill9-venue)
    add_test(NAME fixmux_qf/${scenario}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/qf/run_qf.sh
                     $<TARGET_FILE:fixmux> $<TARGET_FILE:fixmux-passwd>
                     $<TARGET_FILE:fixmux-qf-user> $<TARGET_FILE:fixmux-qf-venue> ${scenario})
    set_tests_properties(fixmux_qf/${scenario} PROPERTIES
        RUN_SERIAL TRUE LABELS e2e TIMEOUT 90 SKIP_RETURN_CODE 77)
  endforeach()
endif()

# The accounting itself, on hand-made logs: it catches each fault the scenarios look for.
add_test(NAME fixmux_qf/check_accounts
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/qf/test_check_accounts.py)
set_tests_properties(fixmux_qf/check_accounts PROPERTIES LABELS e2e TIMEOUT 60)
