#!/usr/bin/env bash
# Where a short profiled run's start-up goes (docs/benchmarks.md, "Start-up cost of a short
# run"): the scalability driver's engine, 10,000 ticks bare, profiled and bare again in one
# process under a global subscriber, the first 1,024 ticks cut at 1, 64, 100 and 164 (the first
# window, the warm-up, the window after it). Each configuration runs in its own process,
# interleaved, REPS times; medians of the profiled part less the mean of the two bare runs of
# the same process, and the main thread's minor page faults in the part.
#
#   bash benches/startup_cost.sh            # 15 repetitions, ~3 minutes
#   REPS=5 bash benches/startup_cost.sh
#
# Configurations: default (the process's first profiled run); second_run (one profiled run
# before the measured one); third_run (two before it: the thread's histograms exist already); sigfig2 (`significant_figures(2)`: 35 KB histograms instead of
# 270 KB); warmup0 (`warmup_ticks(0)`); no_resources (no resource sampler thread).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${REPS:-15}
nice -n 10 cargo build --release --example startup_cost >/dev/null 2>&1 \
    || { echo "could not build the startup_cost example" >&2; exit 1; }
bin=${CARGO_TARGET_DIR:-target}/release/examples/startup_cost
declare -A args=(
    [default]=""
    [second_run]="--profiled-before 10000 --runs-before 1"
    [third_run]="--profiled-before 10000 --runs-before 2"
    [sigfig2]="--significant-figures 2"
    [warmup0]="--warmup-ticks 0"
    [no_resources]="--no-resources"
)
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$reps"); do
    for config in default second_run third_run sigfig2 warmup0 no_resources; do
        # shellcheck disable=SC2086
        "$bin" 10000 --cuts 1,64,100,164 ${args[$config]} | awk -v c="$config" '
            $3 == "ticks" { t[$1 " " $2] = $6; f[$1 " " $2] = $10 }
            END {
                n = split("first 1-1 2-64 65-100 101-164 165-1024 rest", seg, " ")
                for (i = 1; i <= n; i++) {
                    s = seg[i]
                    printf "%s %s %.1f %d\n", c, s, t["profiled " s] - (t["bare " s] + t["bare2 " s]) / 2, f["profiled " s]
                }
            }' >>"$rows"
    done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-13s %-9s %14s %8s\n' config ticks "extra µs (med)" faults
for config in default second_run third_run sigfig2 warmup0 no_resources; do
    for s in first 1-1 2-64 65-100 101-164 165-1024 rest; do
        awk -v c="$config" -v s="$s" '$1 == c && $2 == s { print $3, $4 }' "$rows" | sort -n \
            | awk -v c="$config" -v s="$s" '{ x[NR] = $1; f[NR] = $2 }
                END { m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
                      printf "%-13s %-9s %14.1f %8d\n", c, s, m, f[int((NR + 1) / 2)] }'
    done
done
