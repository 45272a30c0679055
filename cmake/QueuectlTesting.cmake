# Helpers for the test suite: one shared Boost.Test main, and a one-line way to add a test.
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)

if(NOT TARGET queuectl_test_main)
  add_library(queuectl_test_main STATIC ${PROJECT_SOURCE_DIR}/tests/support/test_main.cpp)
  target_link_libraries(queuectl_test_main PUBLIC Boost::unit_test_framework)
  target_compile_definitions(queuectl_test_main PUBLIC BOOST_TEST_DYN_LINK)
  target_include_directories(queuectl_test_main PUBLIC ${PROJECT_SOURCE_DIR}/tests/support)
endif()

# queuectl_add_test(NAME SOURCES a.cpp ... [LIBS x y] [LABELS l] [TIMEOUT s])
# LABELS defaults to 'library' (run again under the sanitizers); end-to-end tests use 'e2e'.
function(queuectl_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE queuectl_test_main ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name} --log_level=message)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT})
  if(NOT T_LABELS)
    set(T_LABELS library)  # library tests also run in the sanitizer builds
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
endfunction()
