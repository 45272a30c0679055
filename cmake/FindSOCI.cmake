# FindSOCI: Debian's libsoci-dev ships no CMake config, so locate headers and libraries.
# Components: core is implied; sqlite3, postgresql.  Imported targets: SOCI::core,
# SOCI::sqlite3, SOCI::postgresql.
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_core_LIBRARY NAMES soci_core)
set(SOCI_core_FOUND FALSE)
if(SOCI_INCLUDE_DIR AND SOCI_core_LIBRARY)
  set(SOCI_core_FOUND TRUE)
endif()

foreach(comp IN LISTS SOCI_FIND_COMPONENTS)
  find_library(SOCI_${comp}_LIBRARY NAMES soci_${comp})
  set(SOCI_${comp}_FOUND FALSE)
  if(SOCI_${comp}_LIBRARY)
    set(SOCI_${comp}_FOUND TRUE)
    if(comp STREQUAL "sqlite3")
      find_package(SQLite3 QUIET)
      if(NOT SQLite3_FOUND)
        set(SOCI_${comp}_FOUND FALSE)
      endif()
    elseif(comp STREQUAL "postgresql")
      find_package(PostgreSQL QUIET)
      if(NOT PostgreSQL_FOUND)
        find_path(SOCI_PQ_INCLUDE_DIR libpq-fe.h PATH_SUFFIXES postgresql)
        find_library(SOCI_PQ_LIBRARY NAMES pq)
        if(NOT SOCI_PQ_INCLUDE_DIR OR NOT SOCI_PQ_LIBRARY)
          set(SOCI_${comp}_FOUND FALSE)
        endif()
      endif()
    endif()
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI REQUIRED_VARS SOCI_INCLUDE_DIR SOCI_core_LIBRARY HANDLE_COMPONENTS)

if(SOCI_core_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES IMPORTED_LOCATION "${SOCI_core_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
                                              INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
endif()
if(SOCI_sqlite3_FOUND AND NOT TARGET SOCI::sqlite3)
  add_library(SOCI::sqlite3 UNKNOWN IMPORTED)
  set_target_properties(SOCI::sqlite3 PROPERTIES IMPORTED_LOCATION "${SOCI_sqlite3_LIBRARY}"
                                                 INTERFACE_LINK_LIBRARIES "SOCI::core;SQLite::SQLite3")
endif()
if(SOCI_postgresql_FOUND AND NOT TARGET SOCI::postgresql)
  add_library(SOCI::postgresql UNKNOWN IMPORTED)
  if(PostgreSQL_FOUND)
    set_target_properties(SOCI::postgresql PROPERTIES IMPORTED_LOCATION "${SOCI_postgresql_LIBRARY}"
                                                      INTERFACE_LINK_LIBRARIES "SOCI::core;PostgreSQL::PostgreSQL")
  else()
    set_target_properties(SOCI::postgresql PROPERTIES IMPORTED_LOCATION "${SOCI_postgresql_LIBRARY}"
                                                      INTERFACE_INCLUDE_DIRECTORIES "${SOCI_PQ_INCLUDE_DIR}"
                                                      INTERFACE_LINK_LIBRARIES "SOCI::core;${SOCI_PQ_LIBRARY}")
  endif()
endif()
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_core_LIBRARY SOCI_sqlite3_LIBRARY SOCI_postgresql_LIBRARY)
