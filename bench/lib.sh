# Shared by the bench scripts (sourced).

# context_switches PID: the process's context switches so far, voluntary and not, summed over its
# threads (/proc, so no perf is needed). Threads that already ended are not counted.
context_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
