# FindRapidJSON: RapidJSON (header-only) as the imported target RapidJSON::RapidJSON.
# Debian's rapidjson-dev ships a RapidJSONConfig.cmake (in /usr/share/cmake/RapidJSON)
# that sets only RAPIDJSON_INCLUDE_DIRS and defines no target, so this module asks that
# config (or any other RapidJSON config) for its include directory, falls back to a plain
# header search, and makes the target itself. Installed beside queuectlConfig.cmake, so
# that find_dependency(RapidJSON) there gives consumers the same target.
find_package(RapidJSON CONFIG QUIET)
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h
          HINTS ${RAPIDJSON_INCLUDE_DIRS} ${RapidJSON_INCLUDE_DIRS} ${RapidJSON_INCLUDE_DIR})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RapidJSON REQUIRED_VARS RAPIDJSON_INCLUDE_DIR)

if(RapidJSON_FOUND AND NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  set_target_properties(RapidJSON::RapidJSON PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${RAPIDJSON_INCLUDE_DIR}")
endif()
mark_as_advanced(RAPIDJSON_INCLUDE_DIR)
