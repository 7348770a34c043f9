# Extra link needs of dataplane code and the dataplane's programs.
# dp_port_ring_pair() uses rte_eth_from_rings(), which lives in the net_ring PMD library
# (not part of pkg-config's libdpdk link line in the shared build).
if(TARGET fixmux_dataplane)
  target_link_libraries(fixmux_dataplane PUBLIC rte_net_ring)
endif()
