# Fails when an app reaches past basic_queue to its storage (docs/architecture.md: the apps
# use the queue's members only, so a storage capability is written once, in the queue).
# Usage: cmake -DAPPS=<source>/apps -P no_storage_in_apps.cmake
cmake_minimum_required(VERSION 3.20)
file(GLOB_RECURSE sources "${APPS}/*.cpp" "${APPS}/*.hpp")
set(found "")
foreach(f IN LISTS sources)
  file(STRINGS "${f}" lines REGEX "storage\\(\\)")
  foreach(l IN LISTS lines)
    string(STRIP "${l}" l)
    list(APPEND found "${f}: ${l}")
  endforeach()
endforeach()
if(found)
  list(JOIN found "\n" msg)
  message(FATAL_ERROR "apps call storage() (use basic_queue's members):\n${msg}")
endif()
list(LENGTH sources n)
message(STATUS "no storage() call in ${n} app sources")
