# queuectl_add_plugin(NAME SOURCES a.cpp ... [LIBS x y] [OUTPUT_DIRECTORY dir] [INSTALL])
#
# Builds an executor plugin the host can load as `--plugin NAME`: a MODULE library named
# libqueuectl_NAME.so with hidden visibility (only the exported factory and ABI symbols
# are visible), linked against the queuectl headers and Boost.DLL. Works from the source
# tree and from an installed package (find_package(queuectl)).
#
# Hooks are virtual functions the host calls: one declared with a slightly different
# signature (a `check` without `const`) would hide the real hook and never be called, so
# hiding a virtual is an error; missing `override` is a warning (docs/plugins.md).
set(QUEUECTL_PLUGIN_WARNING_FLAGS "")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(QUEUECTL_PLUGIN_WARNING_FLAGS -Werror=overloaded-virtual -Wsuggest-override)
endif()
function(queuectl_add_plugin name)
  cmake_parse_arguments(P "INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "queuectl_add_plugin(${name}): SOURCES is required")
  endif()
  set(target queuectl_plugin_${name})
  add_library(${target} MODULE ${P_SOURCES})
  find_package(Boost 1.74 REQUIRED)
  target_link_libraries(${target} PRIVATE queuectl::queuectl Boost::headers ${CMAKE_DL_LIBS} ${P_LIBS})
  target_compile_definitions(${target} PRIVATE BOOST_DLL_USE_STD_FS)
  target_compile_options(${target} PRIVATE ${QUEUECTL_PLUGIN_WARNING_FLAGS})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME queuectl_${name}
    PREFIX lib
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  endif()
  if(P_INSTALL)
    include(GNUInstallDirs)
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/queuectl/plugins)
  endif()
endfunction()
