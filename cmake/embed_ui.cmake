# Builds the web UI (ui/) with npm and writes its files into a C++ source that embeds them.
# Run as a script: cmake -DUI_DIR=... -DWORK_DIR=... -DOUTPUT=... -DSTAMP=... -DNPM=...
# -P embed_ui.cmake. OUTPUT is rewritten only when it changes (so an unchanged UI recompiles
# nothing); STAMP is touched every time.
#
# The UI is built in a copy under WORK_DIR, so the source tree is never written to and build
# trees never share node_modules. npm ci runs only when package-lock.json changed.
foreach(var UI_DIR WORK_DIR OUTPUT STAMP NPM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_ui.cmake: ${var} is not set")
  endif()
endforeach()

set(src "${WORK_DIR}/app")
set(dist "${WORK_DIR}/dist")
file(MAKE_DIRECTORY "${src}")
file(COPY "${UI_DIR}/" DESTINATION "${src}"
     PATTERN node_modules EXCLUDE PATTERN dist EXCLUDE)

set(stamp "${src}/node_modules/.package-lock.json")
if(NOT EXISTS "${stamp}" OR "${UI_DIR}/package-lock.json" IS_NEWER_THAN "${stamp}")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY "${src}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "npm ci failed in ${src} (exit ${rc})")
  endif()
endif()
execute_process(COMMAND "${NPM}" exec --no -- vite build --outDir "${dist}" --emptyOutDir
                        --logLevel warn
                WORKING_DIRECTORY "${src}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vite build failed in ${src} (exit ${rc})")
endif()

file(GLOB_RECURSE files RELATIVE "${dist}" "${dist}/*")
list(SORT files)
set(table "")
set(i 0)
foreach(f IN LISTS files)
  file(READ "${dist}/${f}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" bytes "${hex}")
  string(APPEND table "    {\"${f}\", {\"${bytes}\", ${size}}},\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  message(FATAL_ERROR "the UI build in ${dist} produced no files")
endif()

set(content "// Generated from the build of ui/ by cmake/embed_ui.cmake. Do not edit.
#include \"service/ui.h\"

// Each file is one string literal, longer than the standard's minimum limit.
#pragma GCC diagnostic ignored \"-Woverlength-strings\"

namespace starling::service {
namespace {

constexpr UiAsset kAssets[] = {
${table}};
}  // namespace

std::span<const UiAsset> EmbeddedUiAssets() { return kAssets; }

}  // namespace starling::service
")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
file(TOUCH "${STAMP}")
