#!/usr/bin/env bash
# Issue 11's starting point against today (outside CI; see README, "Performance", "Against v0.1").
# Builds v0.1 (43efe6f, version 0.1.0) in a git worktree under target/, then runs both binaries on
# the same cases in the same session, interleaved, so that the machine's speed that day cancels
# out of the ratios.
#
#   benches/v01.sh                   # 9 rounds of bench-steady's hour, one run of each other case
#   RUNS=5 SKIP_SLOW=1 benches/v01.sh   # without the on-demand case (a minute of v0.1's CPU)
#
# Prints CPU time (user + system, getrusage) for each binary and the ratio; bench-steady's is the
# median of RUNS. Today's binary runs with --threads 1, since v0.1 has no second thread. Then
# bench-steady's instructions per record under callgrind, the 180-second run less the 60-second
# one so that start-up is left out (SKIP_CALLGRIND=1 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-9}"
V01=43efe6f
cargo build --release --quiet
now="$PWD/target/release/esmsim"
tree="$PWD/target/v01-worktree"
if [[ ! -x "$tree/target/release/esmsim" ]]; then
  [[ -d "$tree" ]] || git worktree add --detach "$tree" "$V01" >/dev/null
  (cd "$tree" && cargo build --release --quiet)
fi
v01="$tree/target/release/esmsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# cpu BIN ARGS...: one run of `BIN run ARGS...`; prints its CPU seconds.
cpu() {
  local bin="$1"; shift
  local threads=()
  [[ "$bin" == "$now" ]] && threads=(--threads 1)
  python3 benches/cpu_time.py "$bin" run "$@" "${threads[@]}" --no-charts --out "$work/out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

row() { awk -v name="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%-44s %10.3f %10.3f %8.1fx\n", name, a, b, a / b }'; }

printf "%-44s %10s %10s %9s\n" case "v0.1 cpu_s" "now cpu_s" faster
for _ in $(seq "$RUNS"); do
  cpu "$v01" scenarios/bench-steady.json >> "$work/steady-v01"
  cpu "$now" scenarios/bench-steady.json >> "$work/steady-now"
done
row "bench-steady, 1 h (median of $RUNS)" "$(median < "$work/steady-v01")" "$(median < "$work/steady-now")"

scale=(scenarios/internet-scale.json --set producers.0.rate=100000 --set duration=60s)
ten_pollers=(--set 'esm.scaling={"mode":"provisioned","min_pollers":10,"max_pollers":10}')
one_poller=(scenarios/internet-scale.json --set topic.partitions=10000 --set producers.0.rate=10000
  --set 'esm.scaling={"mode":"provisioned","min_pollers":1,"max_pollers":1}' --set duration=1m)
# case NAME ARGS...: one run of each binary.
case_row() { local name="$1"; shift; row "$name" "$(cpu "$v01" "$@")" "$(cpu "$now" "$@")"; }
case_row "one poller, 10,000 partitions, 1 min" "${one_poller[@]}"
case_row "10 partitions, 100k records/s, 60 s" "${scale[@]}" --set topic.partitions=10
case_row "100,000 partitions, 100k records/s, 60 s" "${scale[@]}" --set topic.partitions=100000
case_row "the same on 10 pollers" "${scale[@]}" --set topic.partitions=100000 "${ten_pollers[@]}"
if [[ -z "${SKIP_SLOW:-}" ]]; then
  case_row "internet-scale on demand from 1 poller, 120 s" scenarios/internet-scale.json \
    --set 'esm.scaling={"mode":"on_demand"}' --set duration=120s
fi

# per_record BIN: bench-steady's instructions per record, 180 simulated seconds less 60.
per_record() {
  local bin="$1" threads=() d
  [[ "$bin" == "$now" ]] && threads=(--threads 1)
  for d in 60 180; do
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run scenarios/bench-steady.json \
      --set "duration=${d}s" "${threads[@]}" --no-charts --out "$work/cg-$d" >/dev/null 2>"$work/cg-$d.err"
  done
  awk -v a="$(collected "$work/cg-60.err")" -v b="$(collected "$work/cg-180.err")" \
    -v ra="$(produced "$work/cg-60")" -v rb="$(produced "$work/cg-180")" 'BEGIN { printf "%.1f", (b - a) / (rb - ra) }'
}
collected() { grep -o 'Collected : [0-9]*' "$1" | grep -o '[0-9]*$'; }
produced() { grep -o '"produced": *[0-9]*' "$1/summary.json" | grep -o '[0-9]*$'; }

if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
  row "bench-steady: instructions per record" "$(per_record "$v01")" "$(per_record "$now")"
fi
