# cmake -DSRC=<console/> -DDEST=<build>/console -DSTAMP=<file> -P copy_console.cmake
# Mirrors the console's sources and the vendored xterm.js files into DEST (files only written
# when they differ; files that are no longer sources are removed), then touches STAMP.

cmake_policy(VERSION 3.25)
if(NOT SRC OR NOT DEST OR NOT STAMP OR EXISTS "${DEST}/CMakeFiles")
  message(FATAL_ERROR "copy_console.cmake: needs SRC, DEST and STAMP; DEST must hold only the assets")
endif()

set(vendor
    "@xterm/xterm/lib/xterm.js=xterm.js"
    "@xterm/xterm/css/xterm.css=xterm.css"
    "@xterm/addon-fit/lib/addon-fit.js=addon-fit.js")

set(missing "")
foreach(pair IN LISTS vendor)
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 from)
  if(NOT EXISTS "${SRC}/node_modules/${from}")
    list(APPEND missing "${SRC}/node_modules/${from}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR
          "console: the vendored xterm.js files are missing (${missing}).\n"
          "Run `make deps` (scripts/install-deps.sh runs `npm ci --prefix console`).")
endif()

file(GLOB_RECURSE sources RELATIVE "${SRC}" "${SRC}/index.html" "${SRC}/favicon.svg"
     "${SRC}/css/*.css" "${SRC}/js/*.js")
function(copy_one from to)
  get_filename_component(dir "${to}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${from}" "${to}" ONLY_IF_DIFFERENT)
endfunction()

set(wanted "")
foreach(rel IN LISTS sources)
  copy_one("${SRC}/${rel}" "${DEST}/${rel}")
  list(APPEND wanted "${DEST}/${rel}")
endforeach()
foreach(pair IN LISTS vendor)
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 from)
  list(GET parts 1 to)
  copy_one("${SRC}/node_modules/${from}" "${DEST}/vendor/${to}")
  list(APPEND wanted "${DEST}/vendor/${to}")
endforeach()

file(GLOB_RECURSE present "${DEST}/*")
foreach(f IN LISTS present)
  if(NOT f IN_LIST wanted)
    file(REMOVE "${f}")
  endif()
endforeach()
file(TOUCH "${STAMP}")
