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
# STEADY=6s adds a second, longer slice and reports the instructions per record between the two
# (start-up and the first chunk left out).
#
# Model effects apart: at a fixed total rate, more partitions put more partitions in each batch
# (one at 10 partitions on 10 pollers, nearly 500 at 100,000), and each of those is a segment to
# form, an offset to commit and a release to plan. A traced run of the slice counts them
# (segments/batch, segments/record), and the last column splits the cost per record into the
# first row's (the fewest partitions, nearly no segments) plus a cost per segment:
# Ir/segment = (Ir/record - first row's) / (segments/record - first row's).
# POLLERS=N fixes the provisioned poller count (200 as shipped), and with it the batches: 10
# pollers at 100,000 records/s fill every batch to its 500 records, at any partition count, so
# the rows differ only in partitions (the model effect of smaller batches taken out).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-100000}"           # records/s across the topic, the same for every partition count
DURATION="${DURATION:-60s}"      # simulated time of each full run
SLICE="${SLICE:-2s}"             # simulated time of each callgrind slice
STEADY="${STEADY:-}"             # a longer slice: instructions per record between the two
PARTITIONS="${PARTITIONS:-10 100 1000 10000 100000}"
SCENARIO=scenarios/internet-scale.json
POLLERS="${POLLERS:-}"
STREAMS="${STREAMS:-}"           # arrival_streams (per_partition, the default, or per_producer)
THREADS="${THREADS:-1}"          # run --threads: 1 so that CPU time and instructions are the run's own

cargo build --release --quiet
bin="$PWD/target/release/esmsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# instructions OUT ARGS...: a callgrind run of ARGS writing to OUT; prints "instructions records".
instructions() {
  local out="$1"; shift
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$@" --threads "$THREADS" \
    --no-charts --out "$out" >/dev/null 2>"$work/cg.err"
  echo "$(grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*$') $(produced "$out")"
}

produced() { grep -o '"produced": *[0-9]*' "$1/summary.json" | grep -o '[0-9]*$'; }

# ns DURATION: a duration such as 2s, 500ms or 1m in nanoseconds.
ns() { awk -v d="$1" 'BEGIN { u = d ~ /ms$/ ? 1e6 : d ~ /m$/ ? 6e10 : 1e9; sub(/[a-z]+$/, "", d); printf "%.0f", d * u }'; }

# segments TRACE FROM_NS: "batches segments records" of the batches formed from FROM_NS on.
segments() {
  awk -v from="$2" '/"event":"batch_formed"/ {
    match($0, /"t_ns":[0-9]+/); if (substr($0, RSTART + 7, RLENGTH - 7) + 0 < from) next
    b++; seg += gsub(/"partition":/, "&"); match($0, /"records":[0-9]+/); rec += substr($0, RSTART + 10, RLENGTH - 10)
  } END { print b + 0, seg + 0, rec + 0 }' "$1"
}

# The first row's instructions and segments per record: the per-segment split's baseline.
base_ir="" base_spr=""

# measure NAME ARGS...: one full run, then a callgrind slice (or two) and a traced slice of the
# same case.
measure() {
  local name="$1"; shift
  [[ -z "$STREAMS" ]] || set -- "$@" --set "arrival_streams=$STREAMS"
  /usr/bin/time -f '%U %S %e %M' -o "$work/time" "$bin" run "$@" --threads "$THREADS" --no-charts --out "$work/$name" \
    >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r user sys wall rss_kb <"$work/time"
  local n; n="$(produced "$work/$name")"
  # Segments (a partition's run of records in a batch) of the batches formed in the slice, or
  # between the two slices' ends with STEADY.
  local traced="$SLICE" from_ns=0 batches segments batched
  [[ -z "$STEADY" ]] || { traced="$STEADY"; from_ns="$(ns "$SLICE")"; }
  "$bin" run "$@" --threads "$THREADS" --set "duration=$traced" --no-charts --out "$work/$name-trace" \
    --trace "$work/trace.jsonl" >/dev/null
  read -r batches segments batched < <(segments "$work/trace.jsonl" "$from_ns")
  local ir="-" pir="-"
  if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
    local i1 n1 i2 n2
    read -r i1 n1 < <(instructions "$work/$name-slice" "$@" --set "duration=$SLICE")
    ir="$(awk -v i="$i1" 'BEGIN { printf "%.1f M", i / 1e6 }')"
    pir="$(awk -v i="$i1" -v n="$n1" 'BEGIN { printf "%.0f", i / n }')"
    if [[ -n "$STEADY" ]]; then
      read -r i2 n2 < <(instructions "$work/$name-steady" "$@" --set "duration=$STEADY")
      pir="$(awk -v a="$i1" -v b="$i2" -v m="$n1" -v n="$n2" 'BEGIN { printf "%.0f", (b - a) / (n - m) }')"
    fi
  fi
  awk -v name="$name" -v u="$user" -v s="$sys" -v w="$wall" -v kb="$rss_kb" -v n="$n" -v ir="$ir" -v pir="$pir" \
    -v b="$batches" -v seg="$segments" -v rec="$batched" -v bir="$base_ir" -v bspr="$base_spr" 'BEGIN {
      spb = b > 0 ? seg / b : 0; spr = rec > 0 ? seg / rec : 0
      per_segment = (pir != "-" && bir != "" && spr > bspr) ? sprintf("%.0f", (pir - bir) / (spr - bspr)) : "-"
      printf "%-24s %14d %9.2f %9.2f %8.1f %10.1f   %-12s %9s %12.1f %12.4f %10s\n",
        name, n, u + s, w, kb / 1024, (u + s) * 1e9 / n, ir, pir, spb, spr, per_segment
    }'
  if [[ -z "$base_ir" && "$pir" != "-" ]]; then
    base_ir="$pir"
    base_spr="$(awk -v seg="$segments" -v rec="$batched" 'BEGIN { print (rec > 0 ? seg / rec : 0) }')"
  fi
}

printf "%-24s %14s %9s %9s %8s %10s   %-12s %9s %12s %12s %10s\n" case records cpu_s wall_s rss_mb ns/record \
  "Ir(slice)" Ir/record segments/batch segments/rec Ir/segment
pollers=()
if [[ -n "$POLLERS" ]]; then
  pollers=(--set "esm.scaling={\"mode\":\"provisioned\",\"min_pollers\":$POLLERS,\"max_pollers\":$POLLERS}")
fi
for n in $PARTITIONS; do
  measure "p$n-r$RATE${POLLERS:+-pollers$POLLERS}" "$SCENARIO" --set "topic.partitions=$n" --set "producers.0.rate=$RATE" \
    --set "duration=$DURATION" "${pollers[@]}"
done
[[ -n "$POLLERS" ]] || measure "internet-scale" "$SCENARIO"
