# Run at every build (cmake -P): writes the commit the sources are at into OUT, a one-line header,
# and touches it only when the text changes, so that a new commit recompiles one file and a
# rebuild without one recompiles nothing.
# Only lara's own repository: sources vendored inside another one would record its commit.
execute_process(COMMAND git rev-parse --show-toplevel WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
get_filename_component(source_real "${SOURCE_DIR}" REALPATH)
if(NOT failed AND top)
  get_filename_component(top "${top}" REALPATH)
endif()
set(commit unknown)
if(NOT failed AND "${top}" STREQUAL "${source_real}")
  execute_process(COMMAND git describe --always --dirty --abbrev=7 WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(failed OR NOT commit)
    set(commit unknown)
  endif()
endif()
set(text "#define LARA_COMMIT \"${commit}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
