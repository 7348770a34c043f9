# The configuration loader needs libinih (INI parsing) and libxcrypt (password hashes).
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
target_link_libraries(fixmux_control PUBLIC PkgConfig::INIH crypt)
add_executable(fixmux-passwd ${CMAKE_CURRENT_SOURCE_DIR}/tools/fixmux_passwd.c)
target_link_libraries(fixmux-passwd PRIVATE fixmux_control)
