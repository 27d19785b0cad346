#!/usr/bin/env bash
# Issue 11's scale cases, release build, one run each (outside CI; see README, "Performance").
#
#   benches/scale.sh                 # 10 -> 100,000 partitions at 100,000 records/s, then internet-scale
#   RATE=50000 DURATION=30s benches/scale.sh
#   POLLERS=10 benches/scale.sh      # the same partition counts read by 10 pollers
#   STREAMS=per_producer benches/scale.sh    # arrival_streams: per_producer (v0.1's default)
#   THREADS=2 SKIP_CALLGRIND=1 benches/scale.sh   # run --threads 2: arrivals drawn on a second thread
#
# For every case it prints the CPU time and peak memory of a full run (/usr/bin/time; CPU time,
# not wall time, because the machine is shared) and the instructions of a short slice under
# callgrind (load-independent, so comparable between machines' busy and idle hours). Cases:
# scenarios/internet-scale.json (provisioned, 200 pollers) with the partition count varied at a
# fixed total rate, and the shipped scenario itself (10,000 partitions, 1,000,000 records/s).
# Set SKIP_CALLGRIND=1 to skip the slices (callgrind is about 50x slower than a plain run).
# POLLERS=N fixes the provisioned poller count (200 as shipped), and with it the batches: 10
# pollers at 100,000 records/s fill every batch to its 500 records, at any partition count, so
# the rows differ only in partitions (the model effect of smaller batches taken out).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-100000}"           # records/s across the topic, the same for every partition count
DURATION="${DURATION:-60s}"      # simulated time of each full run
SLICE="${SLICE:-2s}"             # simulated time of each callgrind slice
PARTITIONS="${PARTITIONS:-10 100 1000 10000 100000}"
SCENARIO=scenarios/internet-scale.json
POLLERS="${POLLERS:-}"
STREAMS="${STREAMS:-}"           # arrival_streams (per_partition, the default, or per_producer)
THREADS="${THREADS:-1}"          # run --threads: 1 so that CPU time and instructions are the run's own

cargo build --release --quiet
bin="$PWD/target/release/esmsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# measure NAME ARGS...: one full run, then a callgrind slice of the same case.
measure() {
  local name="$1"; shift
  [[ -z "$STREAMS" ]] || set -- "$@" --set "arrival_streams=$STREAMS"
  /usr/bin/time -f '%U %S %e %M' -o "$work/time" "$bin" run "$@" --threads "$THREADS" --no-charts --out "$work/$name" \
    >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r user sys wall rss_kb <"$work/time"
  local produced
  produced="$(grep -o '"produced": *[0-9]*' "$work/$name/summary.json" | grep -o '[0-9]*$')"
  local instructions="-" per_record_ir="-"
  if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$@" --threads "$THREADS" --set "duration=$SLICE" \
      --no-charts --out "$work/$name-slice" >/dev/null 2>"$work/cg.err"
    instructions="$(grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*$')"
    local slice_produced
    slice_produced="$(grep -o '"produced": *[0-9]*' "$work/$name-slice/summary.json" | grep -o '[0-9]*$')"
    per_record_ir="$(awk -v i="$instructions" -v n="$slice_produced" 'BEGIN { printf "%.0f", i / n }')"
    instructions="$(awk -v i="$instructions" 'BEGIN { printf "%.1f M", i / 1e6 }')"
  fi
  awk -v name="$name" -v u="$user" -v s="$sys" -v w="$wall" -v kb="$rss_kb" -v n="$produced" \
    -v ir="$instructions" -v pir="$per_record_ir" 'BEGIN {
      printf "%-24s %14d %9.2f %9.2f %8.1f %10.1f   %-12s %s\n", name, n, u + s, w, kb / 1024, (u + s) * 1e9 / n, ir, pir
    }'
}

printf "%-24s %14s %9s %9s %8s %10s   %-12s %s\n" case records cpu_s wall_s rss_mb ns/record "Ir(slice)" Ir/record
pollers=()
if [[ -n "$POLLERS" ]]; then
  pollers=(--set "esm.scaling={\"mode\":\"provisioned\",\"min_pollers\":$POLLERS,\"max_pollers\":$POLLERS}")
fi
for n in $PARTITIONS; do
  measure "p$n-r$RATE${POLLERS:+-pollers$POLLERS}" "$SCENARIO" --set "topic.partitions=$n" --set "producers.0.rate=$RATE" \
    --set "duration=$DURATION" "${pollers[@]}"
done
[[ -n "$POLLERS" ]] || measure "internet-scale" "$SCENARIO"
