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

# queuectl::plugin: what a plugin library builds against — the queuectl headers (plugin
# ABI), Boost.DLL (header-only), libdl, hidden visibility so that only the exported
# factory is visible, and the warnings above. queuectl_add_plugin() links it; a project
# that makes its MODULE library itself links it too (docs/plugins.md).
if(NOT TARGET queuectl::plugin)
  find_package(Boost 1.74 REQUIRED)
  add_library(queuectl::plugin INTERFACE IMPORTED)
  target_link_libraries(queuectl::plugin INTERFACE queuectl::queuectl Boost::headers ${CMAKE_DL_LIBS})
  target_compile_definitions(queuectl::plugin INTERFACE BOOST_DLL_USE_STD_FS)
  target_compile_options(queuectl::plugin INTERFACE ${QUEUECTL_PLUGIN_WARNING_FLAGS}
    $<$<CXX_COMPILER_ID:GNU,Clang>:-fvisibility=hidden -fvisibility-inlines-hidden>)
endif()

function(queuectl_add_plugin name)
  cmake_parse_arguments(P "INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "queuectl_add_plugin(${name}): SOURCES is required")
  endif()
  set(target queuectl_plugin_${name})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE queuectl::plugin ${P_LIBS})
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
