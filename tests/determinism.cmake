# Runs shipped scenarios twice with the same seed at messages level and
# compares the traces byte for byte; runs one with two seeds and requires
# different digests.
file(MAKE_DIRECTORY ${WORK})
file(GLOB files ${SCENARIOS}/*.json)
list(SORT files)
foreach(file ${files})
  get_filename_component(name ${file} NAME_WE)
  foreach(round a b)
    execute_process(COMMAND ${RAFTSIM} run --quiet ${file} --trace ${WORK}/${name}.${round}.jsonl
                            --trace-level messages
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc GREATER 1)
      message(FATAL_ERROR "${name}: raftsim exited with ${rc}")
    endif()
  endforeach()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${name}.a.jsonl ${WORK}/${name}.b.jsonl
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${name}: two runs with the same seed gave different traces")
  endif()
  file(SIZE ${WORK}/${name}.a.jsonl size)
  if(size LESS 100)
    message(FATAL_ERROR "${name}: the trace is suspiciously small (${size} bytes)")
  endif()
  message(STATUS "${name}: identical traces (${size} bytes)")
endforeach()
list(GET files 0 first)
foreach(seed 1 2)
  execute_process(COMMAND ${RAFTSIM} run --quiet ${first} --seed ${seed}
                  OUTPUT_VARIABLE out ERROR_QUIET)
  string(REGEX MATCH "digest=[0-9a-f]+" digest_${seed} "${out}")
endforeach()
if(NOT digest_1 OR digest_1 STREQUAL digest_2)
  message(FATAL_ERROR "seeds 1 and 2 gave digests '${digest_1}' and '${digest_2}'")
endif()
message(STATUS "seeds 1 and 2: ${digest_1} vs ${digest_2}")
