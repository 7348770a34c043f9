# Script tests of hugepage_setup/hugepages.sh (tests/hugepage_setup/test_hugepages.sh).
# They live in tests/fixcodec/ only because tests/CMakeLists.txt includes the *.cmake files of
# the library modules' test folders, and hugepage_setup/ is a shell module without a library;
# nothing here depends on fixcodec. They need root (exit 77 = skipped otherwise) and share the
# host's hugepage state, so they hold one resource lock and never run at the same time.
foreach(case check_changes_nothing reserve_is_idempotent refuses_non_root bind_missing_device
             bind_rejects_bad_input)
  add_test(NAME hugepage_setup/${case}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/hugepage_setup/test_hugepages.sh ${case})
  set_tests_properties(hugepage_setup/${case} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 60 RESOURCE_LOCK fixmux_hugepages LABELS hugepage_setup)
endforeach()
