# The session layer's tests: the acceptance runner gets one Criterion test per QuickFIX
# scenario file (generated list), and the scenario runner is shared with the initiator tests.
set(_defs "${FIXMUX_QUICKFIX_REF}/definitions")
set(_inc_dir "${CMAKE_CURRENT_BINARY_DIR}/acceptance_gen")
set(_cases "")
foreach(_ver fix42 fix44 fix50sp2)
  file(GLOB _files CONFIGURE_DEPENDS "${_defs}/${_ver}/*.def")
  list(SORT _files)
  foreach(_f ${_files})
    get_filename_component(_name ${_f} NAME_WE)
    string(APPEND _cases "SCENARIO(${_ver}, ${_name})\n")
  endforeach()
endforeach()
if(_cases STREQUAL "")
  message(WARNING "QuickFIX scenarios not found under ${_defs}: the acceptance tests will fail")
endif()
file(CONFIGURE OUTPUT "${_inc_dir}/acceptance_cases.inc" CONTENT "${_cases}")

set(_runner ${CMAKE_CURRENT_SOURCE_DIR}/control/scenarios/runner.c)
foreach(_t test_control_acceptance test_control_session_initiator)
  if(TARGET ${_t})
    target_sources(${_t} PRIVATE ${_runner})
    target_include_directories(${_t} PRIVATE ${_inc_dir} ${CMAKE_CURRENT_SOURCE_DIR}/control)
  endif()
endforeach()

# test_control_session counts allocations (the hot path must not allocate).
if(TARGET test_control_session)
  target_link_options(test_control_session PRIVATE
      -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
endif()
