#!/usr/bin/env bash
# Instructions per tick of the overhead bench's small tick (a `tick` span around 8 component
# spans of deterministic work, ~2,000 instructions bare), per configuration, counted by
# callgrind: a busy machine does not move them. Each configuration runs in its own process under
# a global subscriber at two tick counts; the difference cancels set-up and teardown.
#
#   bash benches/instructions.sh                      # every configuration, ~20 minutes
#   bash benches/instructions.sh bare tickprof_default
#
# With RUSTFLAGS="--cfg tickprof_counting_allocator" (and a CARGO_TARGET_DIR of its own) the
# bench runs with tickprof's CountingAllocator installed: the difference is what reading the
# allocation counters costs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
bench=$(cargo bench --bench overhead --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*overhead[^"]*\)".*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "could not build the overhead bench" >&2; exit 1; }
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(bare tickprof_idle stack stack_profiled tickprof_count_only \
    tickprof_default registry_identity tickprof_full)
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-22s %14s\n' configuration instr/tick
for config in "${configs[@]}"; do
    # Every span recorded costs ~15× more: fewer ticks keep the run short.
    case $config in registry_identity|tickprof_full*) n1=100000 ;; *) n1=1000000 ;; esac
    n2=$((3 * n1))
    a=$(instructions "$bench" --child "$config" small "$n1")
    b=$(instructions "$bench" --child "$config" small "$n2")
    awk -v c="$config" -v a="$a" -v b="$b" -v n="$((n2 - n1))" \
        'BEGIN { printf "%-22s %14.1f\n", c, (b - a) / n }'
done
