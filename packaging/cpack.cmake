# Debian package of baton-percipio: /usr/bin/baton-percipio and its man page, runtime Depends from
# dpkg-shlibdeps. Build it with scripts/package (a Release build, then `cpack -G DEB`).
# Included at the end of the top-level CMakeLists.txt, once the binary's target exists.

if(NOT TARGET baton-percipio)
  return()
endif()

include(GNUInstallDirs)
set(BP_PACKAGE_COMPONENT baton-percipio)

install(TARGETS baton-percipio RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${BP_PACKAGE_COMPONENT})

# The man page is written by hand in troff; Debian wants it gzipped, reproducibly (-n: no name or time).
set(BP_MAN_SOURCE ${PROJECT_SOURCE_DIR}/packaging/baton-percipio.1)
set(BP_MAN_GZ ${PROJECT_BINARY_DIR}/packaging/baton-percipio.1.gz)
add_custom_command(OUTPUT ${BP_MAN_GZ}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND sh -c "gzip -9 -n -c '${BP_MAN_SOURCE}' > '${BP_MAN_GZ}'"
  DEPENDS ${BP_MAN_SOURCE}
  COMMENT "Compressing the baton-percipio(1) man page"
  VERBATIM)
add_custom_target(bp_man_page ALL DEPENDS ${BP_MAN_GZ})
install(FILES ${BP_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${BP_PACKAGE_COMPONENT})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME baton-percipio)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "baton-percipio")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Baton connector for Skillsoft Percipio")
set(CPACK_PACKAGE_DESCRIPTION
  "Syncs Skillsoft Percipio users, courses and course completions into a Baton .c1z file,\
 once or on an interval, with Prometheus metrics and health endpoints.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Only our component: other install() rules in the tree (if any appear) stay out of the package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};${BP_PACKAGE_COMPONENT};/")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # baton-percipio_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "baton-percipio maintainers <baton-percipio@users.noreply.github.com>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# TLS to Percipio verifies against the system CA store.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates)

include(CPack)
