# What `cmake --install` puts where, the man pages it installs, and the Debian
# package `nyxd` that CPack makes of it (`cpack -G DEB` in the build tree, or
# the `package` target). Installed: nyxd, nyxctl, the configuration, the
# systemd unit, the sysusers.d entry, man pages and bash completions; never a
# library, header, test or benchmark. scripts/test-package builds and checks
# the package.

# nyxd.service and the maintainer scripts name /usr/sbin/nyxd, /etc/nyx and
# /var/lib/nyx: the install is laid out for prefix /usr, so that is the
# default here. Under /usr GNUInstallDirs puts the configuration in /etc
# (CMAKE_INSTALL_FULL_SYSCONFDIR), not in usr/etc.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix (nyxd.service expects /usr)" FORCE)
endif()
include(GNUInstallDirs)

set(_nyx_packaging ${PROJECT_SOURCE_DIR}/packaging)
set(_nyx_config_dir ${CMAKE_INSTALL_FULL_SYSCONFDIR}/nyx)

install(TARGETS nyxd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS nyxctl DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/nyxd.example.toml
  DESTINATION ${_nyx_config_dir} RENAME nyxd.toml)
# Not CMAKE_INSTALL_LIBDIR: that is lib/<multiarch> on Debian, and systemd
# reads units and sysusers.d entries from lib/.
install(FILES ${_nyx_packaging}/nyxd.service DESTINATION lib/systemd/system)
install(FILES ${_nyx_packaging}/nyx.sysusers DESTINATION lib/sysusers.d RENAME nyx.conf)
install(FILES ${_nyx_packaging}/nyxctl.bash-completion
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME nyxctl)
install(FILES ${_nyx_packaging}/nyxd.bash-completion
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME nyxd)

# Man pages, made with pandoc at build time from the docs themselves: nyxd(8)
# from docs/nyxd.md, nyxctl(1) from docs/cli.md, nyxd.toml(5) from the
# example configuration. Their header carries the version, not a date, so a
# rebuild gives the same bytes; gzip -n leaves out the name and time too.
find_program(NYX_PANDOC pandoc)
if(NYX_PANDOC)
  set(_nyx_man_dir ${PROJECT_BINARY_DIR}/man)
  file(MAKE_DIRECTORY ${_nyx_man_dir})
  set(_nyx_man_pages)

  # nyx_man_page(NAME SECTION MARKDOWN WHATIS SEE_ALSO): man/NAME.SECTION and
  # its .gz, installed into man<SECTION>.
  function(nyx_man_page name section markdown whatis see_also)
    set(page ${_nyx_man_dir}/${name}.${section})
    string(TOUPPER ${name} title)
    add_custom_command(OUTPUT ${page} ${page}.gz
      COMMAND ${NYX_PANDOC} --standalone --from markdown --to man
        --lua-filter ${_nyx_packaging}/man-page.lua
        -M title=${title} -M section=${section} -M name=${name} -M whatis=${whatis}
        -M see-also=${see_also} -M "header=Nyx Manual" -M "footer=Nyx ${PROJECT_VERSION}"
        -M hyphenate=false -V adjusting=l
        -o ${page} ${markdown}
      COMMAND gzip -9 -n -k -f ${page}
      DEPENDS ${markdown} ${_nyx_packaging}/man-page.lua
      COMMENT "Man page ${name}(${section})"
      VERBATIM)
    install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    set(_nyx_man_pages ${_nyx_man_pages} ${page}.gz PARENT_SCOPE)
  endfunction()

  add_custom_command(OUTPUT ${_nyx_man_dir}/nyxd.toml.md
    COMMAND ${_nyx_packaging}/toml-to-markdown
      ${PROJECT_SOURCE_DIR}/docs/nyxd.example.toml ${_nyx_man_dir}/nyxd.toml.md
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/nyxd.example.toml ${_nyx_packaging}/toml-to-markdown
    COMMENT "Markdown of nyxd.example.toml for nyxd.toml(5)"
    VERBATIM)

  nyx_man_page(nyxd 8 ${PROJECT_SOURCE_DIR}/docs/nyxd.md
    "the Nyx anonymity network node" "nyxctl(1), nyxd.toml(5), systemd.service(5)")
  nyx_man_page(nyxctl 1 ${PROJECT_SOURCE_DIR}/docs/cli.md
    "control a Nyx node, manage keys and directories, run a local network"
    "nyxd(8), nyxd.toml(5)")
  nyx_man_page(nyxd.toml 5 ${_nyx_man_dir}/nyxd.toml.md
    "configuration of the Nyx node daemon" "nyxd(8), nyxctl(1)")
  add_custom_target(man ALL DEPENDS ${_nyx_man_pages})
else()
  message(STATUS "pandoc not found: no man pages, and install and packaging stop "
                 "(scripts/install-deps installs pandoc)")
  install(CODE "message(FATAL_ERROR \"pandoc was not found when configuring, so the man pages \
were not made: run scripts/install-deps, then configure again\")")
endif()

# The Debian package. Debian already has a package `nyx` (a Tor monitor), so
# this one is `nyxd`; it carries nyxctl too.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nyxd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Nyx developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Nyx anonymity network node")
set(CPACK_PACKAGE_DESCRIPTION
  "Nyx relays a connection through three nodes over UDP, in fixed-size cells \
under three layers of encryption, so that no single node learns both who \
connects and where to. This package holds the node daemon nyxd (a SOCKS5 \
client, relay or exit, by configuration) with its systemd unit, and the \
command-line client nyxctl. The node is not started until configured.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # nyxd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps finds the libraries' packages (libsodium23, libfmt9, ...);
# the maintainer scripts need a way to make the user and userdel.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser, passwd")
# dpkg keeps an operator's edits to a conffile on upgrade and removes it only
# on purge; CPack does not mark files in /etc by itself.
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${_nyx_config_dir}/nyxd.toml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/packaging/conffiles
  ${_nyx_packaging}/postinst ${_nyx_packaging}/prerm ${_nyx_packaging}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
