# install() rules and the package config that makes find_package(queuectl) work.
include(CMakePackageConfigHelpers)
set(QUEUECTL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/queuectl)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/queuectl DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(_queuectl_targets queuectl_core)
if(TARGET queuectl_sqlite)  # configured with SOCI (CMakeLists.txt)
  list(APPEND _queuectl_targets queuectl_sqlite)
endif()
if(TARGET queuectl_postgresql)
  list(APPEND _queuectl_targets queuectl_postgresql)
endif()
install(TARGETS ${_queuectl_targets} EXPORT queuectlTargets)
install(EXPORT queuectlTargets NAMESPACE queuectl:: DESTINATION ${QUEUECTL_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/queuectlConfig.cmake.in
  ${PROJECT_BINARY_DIR}/queuectlConfig.cmake INSTALL_DESTINATION ${QUEUECTL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/queuectlConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/queuectlConfig.cmake ${PROJECT_BINARY_DIR}/queuectlConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindSOCI.cmake ${PROJECT_SOURCE_DIR}/cmake/FindRapidJSON.cmake
              ${PROJECT_SOURCE_DIR}/cmake/QueuectlPlugin.cmake
        DESTINATION ${QUEUECTL_CMAKE_DIR})
