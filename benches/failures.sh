#!/usr/bin/env bash
# Issue 11's failure-path cases against the failure-free run of the same traffic (outside CI; see
# README, "Performance"). bench-steady's traffic (24 partitions, 10,000 records/s) read by 24
# provisioned pollers, with about one record in 100,000 poison, two retries and an S3 on-failure
# destination (which gets each failed batch with its payload), then the same with bisect.
#
#   benches/failures.sh                  # 10 simulated minutes, 3 CPU-time rounds
#   DURATION=1h RUNS=9 SKIP_CALLGRIND=1 benches/failures.sh
#
# Prints each case's CPU time (user + system, the median of RUNS) and callgrind instructions,
# each also as a ratio to the failure-free run. The CPU runs are interleaved, a round of the three
# cases at a time, so that the machine's load drifts alike for all three; the times come from
# getrusage, to the microsecond (/usr/bin/time counts hundredths, a twentieth of a 1 h run). Set
# SKIP_CALLGRIND=1 to skip the instruction counts.
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
cases=(failure-free poison-s3 poison-s3-bisect)

# args CASE: the case's settings.
args() {
  case "$1" in
    failure-free) ;;
    poison-s3) printf '%s\n' "${poison[@]}" ;;
    poison-s3-bisect) printf '%s\n' "${poison[@]}" --set esm.bisect_batch_on_function_error=true ;;
  esac
}

# cpu CASE: runs the case once and prints its CPU seconds.
cpu() {
  local extra
  mapfile -t extra < <(args "$1")
  python3 benches/cpu_time.py "$bin" run "$SCENARIO" "${common[@]}" "${extra[@]}" --out "$work/$1"
}

# instructions CASE: one run under callgrind.
instructions() {
  local extra
  mapfile -t extra < <(args "$1")
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$SCENARIO" "${common[@]}" "${extra[@]}" \
    --out "$work/$1-cg" >/dev/null 2>"$work/cg.err"
  grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*$'
}

for _ in $(seq "$RUNS"); do
  for c in "${cases[@]}"; do cpu "$c" >> "$work/$c.cpu"; done
done

printf "%-22s %8s %6s   %-12s %-6s %s\n" case cpu_s ratio Ir ratio to_destination
base_cpu="" base_ir=""
for c in "${cases[@]}"; do
  cpu_s="$(sort -n "$work/$c.cpu" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
  ir="-"
  [[ -z "${SKIP_CALLGRIND:-}" ]] && ir="$(instructions "$c")"
  base_cpu="${base_cpu:-$cpu_s}" base_ir="${base_ir:-$ir}"
  to_destination="$(grep -o '"to_destination": *[0-9]*' "$work/$c/summary.json" | grep -o '[0-9]*$')"
  awk -v name="$c" -v cpu="$cpu_s" -v ir="$ir" -v bc="$base_cpu" -v bi="$base_ir" -v d="$to_destination" 'BEGIN {
    irs = (ir == "-") ? "-" : sprintf("%.1f M", ir / 1e6); iratio = (ir == "-") ? "-" : sprintf("%.2f", ir / bi)
    printf "%-22s %8.3f %6.2f   %-12s %-6s %s\n", name, cpu, cpu / bc, irs, iratio, d
  }'
done
