# Script mode: configure subdir_project (which add_subdirectory()s the queuectl source
# tree), build it and run its programs. Any failure is fatal.
#   -DQUEUECTL=<source dir> -DSOURCE=<subdir_project> -DWORK=<scratch dir>
#   -DGENERATOR=… -DCXX=… [-DLAUNCHER=ccache]
#   [-DCORE_ONLY=ON: SOCI disabled, core target only; then also checks that configuring
#    queuectl itself as the top project without SOCI stops with a message naming libsoci-dev]
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
file(REMOVE_RECURSE ${WORK})
set(_args -DQUEUECTL_SOURCE_DIR=${QUEUECTL} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
if(LAUNCHER)
  list(APPEND _args -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
if(CORE_ONLY)
  list(APPEND _args -DCMAKE_DISABLE_FIND_PACKAGE_SOCI=ON -DWITH_SQLITE=OFF)
endif()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK} -G ${GENERATOR} ${_args})
run(${CMAKE_COMMAND} --build ${WORK} -j1)
run(${WORK}/memory_jobs)
if(NOT CORE_ONLY)
  run(${WORK}/sqlite_jobs ${WORK}/subdir.db)
endif()
if(CORE_ONLY)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${QUEUECTL} -B ${WORK}/top_level -G ${GENERATOR}
                          -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_DISABLE_FIND_PACKAGE_SOCI=ON
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "libsoci-dev")
    message(FATAL_ERROR "top-level configure without SOCI should fail naming libsoci-dev (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "top-level configure without SOCI fails as expected:\n${err}")
endif()
