# A small fuzz campaign with canonical/raft behind the adapter
# (docs/canonical.md). Failing seeds are expected (each kind is explained
# there); what must not happen is nondeterminism, a generated document the
# loader refuses, or the process dying (a library abort): exit 0 or 1 only.
# START (default 0) is the first seed.
file(MAKE_DIRECTORY ${OUT})
if(NOT DEFINED START)
  set(START 0)
endif()
execute_process(
  COMMAND ${RAFTSIM} fuzz --impl canonical --start ${START} --seeds ${SEEDS} --jobs 2 --check-determinism
          --out ${OUT} --results ${OUT}/results.jsonl
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 AND NOT rc EQUAL 1)
  message(FATAL_ERROR "fuzz --impl canonical exited with ${rc}: ${err}")
endif()
file(READ ${OUT}/results.jsonl results)
string(REGEX MATCHALL "\n" lines "${results}")
list(LENGTH lines n)
if(NOT n EQUAL ${SEEDS})
  message(FATAL_ERROR "expected ${SEEDS} result lines, found ${n}")
endif()
foreach(bad nondeterminism invalid_scenario)
  string(FIND "${results}" "\"${bad}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "a seed failed with ${bad}:\n${out}")
  endif()
endforeach()
