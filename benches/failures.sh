#!/usr/bin/env bash
# Issue 11's failure-path cases against the failure-free run of the same traffic (outside CI; see
# README, "Performance"). bench-steady's traffic (24 partitions, 10,000 records/s) read by 24
# provisioned pollers, with about one record in 100,000 poison, two retries and an S3 on-failure
# destination (which gets each failed batch with its payload), then the same with bisect.
#
#   benches/failures.sh                  # 10 simulated minutes, 3 CPU-time runs per case
#   DURATION=1h RUNS=5 benches/failures.sh
#
# Prints CPU time (median of RUNS, /usr/bin/time) and callgrind instructions per case, each also
# as a ratio to the failure-free run. Set SKIP_CALLGRIND=1 to skip the instruction counts.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10m}"
RUNS="${RUNS:-3}"
SCENARIO=scenarios/bench-steady.json
cargo build --release --quiet
bin="$PWD/target/release/esmsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
common=(--set "duration=$DURATION" --set 'esm.scaling={"mode":"provisioned","min_pollers":24,"max_pollers":24}'
  --no-charts --threads 1)
poison=(--set failures.poison_rate=1e-5 --set esm.maximum_retry_attempts=2
  --set 'esm.on_failure_destination={"kind":"s3"}')

base_cpu="" base_ir=""
# measure NAME ARGS...: the median CPU time of RUNS runs, then one run under callgrind.
measure() {
  local name="$1"; shift
  local cpus=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%U %S' -o "$work/time" "$bin" run "$SCENARIO" "${common[@]}" "$@" --out "$work/$name" \
      >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    cpus+=("$(awk '{ printf "%.3f", $1 + $2 }' "$work/time")")
  done
  local cpu
  cpu="$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
  local ir="-"
  if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$SCENARIO" "${common[@]}" "$@" \
      --out "$work/$name-cg" >/dev/null 2>"$work/cg.err"
    ir="$(grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*$')"
  fi
  base_cpu="${base_cpu:-$cpu}" base_ir="${base_ir:-$ir}"
  local to_destination
  to_destination="$(grep -o '"to_destination": *[0-9]*' "$work/$name/summary.json" | grep -o '[0-9]*$')"
  awk -v name="$name" -v cpu="$cpu" -v ir="$ir" -v bc="$base_cpu" -v bi="$base_ir" -v d="$to_destination" 'BEGIN {
    irs = (ir == "-") ? "-" : sprintf("%.1f M", ir / 1e6); iratio = (ir == "-") ? "-" : sprintf("%.2f", ir / bi)
    printf "%-22s %8.2f %6.2f   %-12s %-6s %s\n", name, cpu, cpu / bc, irs, iratio, d
  }'
}

printf "%-22s %8s %6s   %-12s %-6s %s\n" case cpu_s ratio Ir ratio to_destination
measure failure-free
measure poison-s3 "${poison[@]}"
measure poison-s3-bisect "${poison[@]}" --set esm.bisect_batch_on_function_error=true
