# The committed dictionary tables must be exactly what fixcodec/dict/gen_dict.py generates from
# the FIX XML dictionaries (so nobody edits generated code by hand, and the generator stays
# deterministic).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME fixcodec_dict_tables_match_generator
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/fixcodec/dict/gen_dict.py --check
                   --spec ${FIXMUX_QUICKFIX_REF}/spec)
  set_tests_properties(fixcodec_dict_tables_match_generator PROPERTIES TIMEOUT 120)
endif()
