#!/usr/bin/env bash
# Issue 11's side-by-side run (outside CI; see README, "Performance"): bench-steady simulated by
# esmsim (both `arrival_streams`) and by the SimPy reference model benches/simpy/bench_steady.py,
# each over SEEDS seeds.
#
#   benches/simpy.sh                       # 10 simulated minutes, seeds 1..5
#   DURATION=3600 SEEDS=3 benches/simpy.sh
#
# DURATION is in simulated seconds. The first run makes a venv in target/simpy-venv with
# simpy 4.1.2 from PyPI. Speed is CPU time (user + system, /usr/bin/time, because the machine
# is shared) summed over the seeds, against the records produced over the seeds. The statistics
# (mean batch size, mean of the sampled lag in timeseries.csv, median latency) are means over
# the seeds, with the standard error of that mean beside them: one 10-minute run's mean lag
# rests on 60 samples and wanders by about 1.5 %, so the seeds bring the noise well under the
# 3 % the comparison allows. Each esmsim statistic is also given as its difference to SimPy's.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-600}"
SEEDS="${SEEDS:-5}"
SCENARIO=scenarios/bench-steady.json
venv=target/simpy-venv
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet simpy==4.1.2
fi
cargo build --release --quiet
bin="$PWD/target/release/esmsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# timed OUT_PREFIX CMD...: runs CMD and appends its CPU seconds to OUT_PREFIX.cpu.
timed() {
  local prefix="$1"; shift
  /usr/bin/time -f '%U %S' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  awk '{ printf "%.3f\n", $1 + $2 }' "$work/time" >>"$prefix.cpu"
}

for seed in $(seq "$SEEDS"); do
  timed "$work/simpy" "$venv/bin/python" benches/simpy/bench_steady.py --duration "$DURATION" --seed "$seed"
  mv "$work/out" "$work/simpy-$seed.json"
  for streams in per_producer per_partition; do
    timed "$work/$streams" "$bin" run "$SCENARIO" --threads 1 --seed "$seed" --set "duration=${DURATION}s" \
      --set "arrival_streams=$streams" --no-charts --out "$work/$streams-$seed"
  done
done

"$venv/bin/python" - "$work" "$SEEDS" "$DURATION" <<'EOF'
import csv, json, statistics, sys
work, seeds, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def cpu(name):
    return sum(float(line) for line in open(f"{work}/{name}.cpu"))

def simpy_run(seed):
    r = json.load(open(f"{work}/simpy-{seed}.json"))
    return r["records"]["produced"], r["batches"]["mean_records"], r["mean_lag_records"], r["latency_ms"]["p50"]

def esmsim_run(streams, seed):
    out = f"{work}/{streams}-{seed}"
    s = json.load(open(f"{out}/summary.json"))
    lags = [float(row["lag_records"]) for row in csv.DictReader(open(f"{out}/timeseries.csv"))]
    return s["records"]["produced"], s["batches"]["mean_records"], sum(lags) / len(lags), s["latency_ms"]["p50"]

def summarise(name, runs):
    columns = list(zip(*runs))
    stats = [(statistics.mean(c), statistics.stdev(c) / len(c) ** 0.5 if len(c) > 1 else 0.0) for c in columns[1:]]
    return name, sum(columns[0]), cpu(name), stats

rows = [summarise("simpy", [simpy_run(s) for s in range(1, seeds + 1)])]
rows += [summarise(m, [esmsim_run(m, s) for s in range(1, seeds + 1)]) for m in ("per_producer", "per_partition")]
base_rate = rows[0][1] / rows[0][2]
base_stats = [m for m, _ in rows[0][3]]
print(f"bench-steady, {duration} simulated seconds, seeds 1..{seeds}; statistics: mean over seeds"
      + (" ± standard error" if seeds > 1 else "") + " (difference to SimPy)")
print(f"{'model':<22} {'records':>11} {'cpu_s':>8} {'records/cpu_s':>14} {'ratio':>7}   "
      f"{'mean batch':<26} {'mean lag':<26} {'p50 latency ms'}")
for name, records, seconds, stats in rows:
    rate = records / seconds
    label = "SimPy 4.1.2" if name == "simpy" else f"esmsim {name}"
    cells = []
    for (mean, se), base in zip(stats, base_stats):
        diff = "" if name == "simpy" else f" ({(mean / base - 1) * 100:+.2f} %)"
        spread = f" ± {se:.2f}" if seeds > 1 else ""
        cells.append(f"{mean:.2f}{spread}{diff}")
    print(f"{label:<22} {records:>11,} {seconds:>8.2f} {rate:>14,.0f} {rate / base_rate:>7.1f}   "
          + "".join(f"{c:<26} " for c in cells).rstrip())
EOF
