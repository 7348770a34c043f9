# fixmux: the appliance process (dataplane/fixmux_main/, kept out of the fixmux_dataplane glob
# on purpose: it is a program, not library code). Links the dataplane (DPDK ports, stack,
# poll loop) and the control plane (configuration, multiplexer). docs/architecture.md,
# "The fixmux process".
if(TARGET fixmux_dataplane AND TARGET fixmux_control)
  file(GLOB FIXMUX_MAIN_SOURCES CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/fixmux_main/*.c)
  add_executable(fixmux ${FIXMUX_MAIN_SOURCES})
  target_include_directories(fixmux PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fixmux_main)
  target_link_libraries(fixmux PRIVATE fixmux_dataplane fixmux_control m)
  target_compile_options(fixmux PRIVATE -Wno-pedantic) # DPDK headers
endif()
