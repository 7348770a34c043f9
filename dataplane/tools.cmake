# Extra link needs of dataplane code and the dataplane's programs.
# dp_port_ring_pair() uses rte_eth_from_rings(), which lives in the net_ring PMD library
# (not part of pkg-config's libdpdk link line in the shared build).
if(TARGET fixmux_dataplane)
  target_link_libraries(fixmux_dataplane PUBLIC rte_net_ring)
endif()

# fixmux-dp-echo: echo server/client on the stack, used by the interop tests
# (tests/dataplane/interop/) and for trying the stack against Linux by hand.
if(TARGET fixmux_dataplane)
  add_executable(fixmux-dp-echo ${CMAKE_CURRENT_SOURCE_DIR}/tools/dp_echo.c)
  target_link_libraries(fixmux-dp-echo PRIVATE fixmux_dataplane)
  target_compile_options(fixmux-dp-echo PRIVATE -Wno-pedantic) # DPDK headers
endif()
