# fixmuxctl: the operator's tool for a running fixmux over DPDK telemetry
# (docs/operations.md). A plain C program: no DPDK library needed to speak the socket protocol.
add_executable(fixmuxctl ${CMAKE_CURRENT_SOURCE_DIR}/tools/fixmuxctl/fixmuxctl.c)
