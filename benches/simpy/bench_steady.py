#!/usr/bin/env python3
"""A SimPy reference model of esmsim's scenarios/bench-steady.json (outside CI; see
benches/simpy.sh and README, "Performance").

Written from esmsim's documented semantics, not from its code paths, so that the two can check
each other:

- A producer draws Poisson arrivals at 10,000 records/s and sends each record (1 KiB value,
  16-byte key) to a partition chosen uniformly at random among 24.
- One batcher per partition (the `parallelization_factor` model has no pollers): a partition has
  at most one batch outstanding. A batch flushes at the first of: `batch_size` records waiting;
  its oldest record has waited `batching_window` since it arrived; the next record would push
  the payload past the limit. It then holds every record arrived by that instant, up to both
  limits. Records arriving while the batch is out wait; when it has been committed the next
  batch is planned at once by the same rules (so it may flush at once).
- A gate of `factor` slots (10): at most that many partitions have a batch in flight; a flushed
  batch waiting for a slot is served first come, first served and is formed when it gets one
  (so records arriving meanwhile join it).
- The function: an execution environment is reused most recently released first; with none idle
  a new one starts cold (300 ms init, esmsim's default). An invocation takes init + 10 ms +
  50 us per record; the batch's offsets commit when it ends (no failures in this scenario).
- Lag (esmsim's `lag_records` in timeseries.csv): records arrived before a sample instant and
  not yet committed, summed over partitions, every 10 s (the last sample at the end of the run);
  `mean_lag_records` is the mean of those samples, as esmsim's tests and README compute it.

Time is integer nanoseconds, as in esmsim. Throttling, retries and retention are not modelled:
bench-steady never reaches them (10 environments at most against a limit of 1,000, no failures,
7-day retention).

    python3 bench_steady.py --duration 600 --seed 1
"""

import argparse
import json
import random
import time
from collections import deque

import simpy

NS_PER_S = 1_000_000_000
MS_NS = 1_000_000
US_NS = 1_000

# scenarios/bench-steady.json, with esmsim's defaults for the fields it leaves out.
PARTITIONS = 24
RATE_PER_S = 10_000
RECORD_BYTES = 1024
KEY_BYTES = 16
BATCH_SIZE = 500
WINDOW_NS = 500 * MS_NS
FACTOR = 10
MAX_PAYLOAD_BYTES = 6_291_456
PAYLOAD_ENVELOPE_BYTES = 512
PAYLOAD_RECORD_OVERHEAD_BYTES = 128
BASE_NS = 10 * MS_NS
PER_RECORD_NS = 50 * US_NS
COLD_INIT_NS = 300 * MS_NS
IDLE_EXPIRY_NS = 600 * NS_PER_S
SAMPLE_NS = 10 * NS_PER_S
LATENCY_BUCKET_NS = 10 * US_NS


def base64_bytes(n):
    """Bytes of n bytes in base64, padded to whole 4-character groups."""
    return (n + 2) // 3 * 4


# Every record has the same size here, so the payload limit is a record count.
RECORD_PAYLOAD_BYTES = base64_bytes(KEY_BYTES) + base64_bytes(RECORD_BYTES) + PAYLOAD_RECORD_OVERHEAD_BYTES
RECORDS_PER_PAYLOAD = (MAX_PAYLOAD_BYTES - PAYLOAD_ENVELOPE_BYTES) // RECORD_PAYLOAD_BYTES
# A batch flushes early when it is full, or when one more record would not fit in the payload.
FLUSH_COUNT = min(BATCH_SIZE, RECORDS_PER_PAYLOAD + 1)


class Stats:
    def __init__(self):
        self.produced = 0
        self.succeeded = 0
        self.invocations = 0
        self.cold_starts = 0
        self.batches = 0
        self.batched_records = 0
        self.flushed_by = {"size": 0, "window": 0, "payload": 0}
        self.lag_samples = []
        self.latency_sum_ns = 0
        self.latency_buckets = {}

    def committed(self, arrival_ns, now_ns):
        latency_ns = now_ns - arrival_ns
        self.latency_sum_ns += latency_ns
        bucket = latency_ns // LATENCY_BUCKET_NS
        self.latency_buckets[bucket] = self.latency_buckets.get(bucket, 0) + 1

    def latency_p50_ms(self):
        """The median record's latency, to a bucket's width (its middle)."""
        seen, half = 0, (self.succeeded + 1) // 2
        for bucket in sorted(self.latency_buckets):
            seen += self.latency_buckets[bucket]
            if seen >= half:
                return (bucket + 0.5) * LATENCY_BUCKET_NS / MS_NS
        return None


class Partition:
    """A partition's uncommitted records (their arrival times), and its batcher's wake-up."""

    def __init__(self, env):
        self.env = env
        self.log = deque()
        self.wanted = None  # (records, event): wake the batcher once this many records wait

    def append(self, arrival_ns):
        self.log.append(arrival_ns)
        if self.wanted is not None and len(self.log) >= self.wanted[0]:
            self.wanted[1].succeed()
            self.wanted = None

    def until_holding(self, records):
        event = self.env.event()
        self.wanted = (records, event)
        return event

    def arrived_before(self, at_ns):
        """Uncommitted records that arrived before `at_ns` (a sample comes before its instant)."""
        n = len(self.log)
        while n and self.log[n - 1] >= at_ns:
            n -= 1
        return n


class Environments:
    """Lambda execution environments: the most recently released idle one is reused; with none
    idle a new one starts cold. Idle ones expire after IDLE_EXPIRY_NS."""

    def __init__(self):
        self.idle = []  # (released_ns, environment), oldest release first
        self.created = 0

    def acquire(self, now_ns):
        """An environment and the init time its invocation starts with."""
        self.idle = [(at, e) for at, e in self.idle if now_ns - at <= IDLE_EXPIRY_NS]
        if self.idle:
            return self.idle.pop()[1], 0
        self.created += 1
        return self.created, COLD_INIT_NS

    def release(self, now_ns, environment):
        self.idle.append((now_ns, environment))


def producer(env, partitions, rng, stats, end_ns):
    """Poisson arrivals, each to a partition chosen uniformly at random."""
    ns_per_record = NS_PER_S / RATE_PER_S
    cursor_ns = 0.0
    while True:
        cursor_ns += rng.expovariate(1.0) * ns_per_record
        if cursor_ns >= end_ns:
            return
        yield env.timeout(int(cursor_ns) - env.now)
        partitions[rng.randrange(PARTITIONS)].append(env.now)
        stats.produced += 1


def batcher(env, partition, gate, environments, stats):
    """One partition's batches, one at a time: wait for the flush, then for a gate slot, then
    invoke the function and commit."""
    while True:
        if not partition.log:
            yield partition.until_holding(1)
        deadline_ns = partition.log[0] + WINDOW_NS
        if len(partition.log) < FLUSH_COUNT and env.now < deadline_ns:
            yield partition.until_holding(FLUSH_COUNT) | env.timeout(deadline_ns - env.now)
            partition.wanted = None
        with gate.request() as slot:
            yield slot
            records = form_batch(partition, stats)
            environment, init_ns = environments.acquire(env.now)
            stats.cold_starts += init_ns > 0
            yield env.timeout(init_ns + BASE_NS + PER_RECORD_NS * records)
            environments.release(env.now, environment)
            stats.invocations += 1
            for _ in range(records):
                stats.committed(partition.log.popleft(), env.now)
            stats.succeeded += records


def form_batch(partition, stats):
    """The batch formed now: every record arrived by now, up to the batch size and the payload
    limit; counts it and what flushed it."""
    waiting = len(partition.log)
    wanted = min(waiting, BATCH_SIZE)
    records = min(wanted, RECORDS_PER_PAYLOAD)
    if records < wanted:
        reason = "payload"
    elif records == BATCH_SIZE:
        reason = "size"
    else:
        reason = "window"
    stats.flushed_by[reason] += 1
    stats.batches += 1
    stats.batched_records += records
    return records


def sampler(env, partitions, stats):
    """The lag at every sample instant before the end (the one at the end is taken after the
    run)."""
    while True:
        yield env.timeout(SAMPLE_NS)
        stats.lag_samples.append(sum(p.arrived_before(env.now) for p in partitions))


def simulate(duration_s, seed):
    end_ns = int(duration_s * NS_PER_S)
    env = simpy.Environment()
    rng = random.Random(seed)
    stats = Stats()
    partitions = [Partition(env) for _ in range(PARTITIONS)]
    gate = simpy.Resource(env, capacity=FACTOR)
    environments = Environments()
    env.process(producer(env, partitions, rng, stats, end_ns))
    for partition in partitions:
        env.process(batcher(env, partition, gate, environments, stats))
    env.process(sampler(env, partitions, stats))
    # SimPy stops before the events of `until`: the state the last sample (at the end) sees.
    env.run(until=end_ns)
    stats.lag_samples.append(sum(p.arrived_before(end_ns) for p in partitions))
    pending_age_ns = sum(end_ns - a for p in partitions for a in p.log)
    return stats, sum(len(p.log) for p in partitions), pending_age_ns, end_ns


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="simulated seconds (default 600)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cpu_start = time.process_time()
    stats, pending, pending_age_ns, end_ns = simulate(args.duration, args.seed)
    cpu_seconds = time.process_time() - cpu_start
    samples = stats.lag_samples
    # Little's law: the time-averaged lag is the records' total time uncommitted over the run.
    time_mean_lag = (stats.latency_sum_ns + pending_age_ns) / end_ns
    report = {
        "model": "simpy " + simpy.__version__,
        "seed": args.seed,
        "simulated_seconds": end_ns / NS_PER_S,
        "records": {"produced": stats.produced, "succeeded": stats.succeeded, "pending_at_end": pending},
        "invocations": {"total": stats.invocations, "cold_starts": stats.cold_starts},
        "batches": {
            "count": stats.batches,
            "mean_records": stats.batched_records / stats.batches if stats.batches else 0.0,
            "flushed_by_size": stats.flushed_by["size"],
            "flushed_by_window": stats.flushed_by["window"],
            "flushed_by_payload": stats.flushed_by["payload"],
        },
        "mean_lag_records": sum(samples) / len(samples) if samples else 0.0,
        "lag_samples": len(samples),
        "time_mean_lag_records": time_mean_lag,
        "latency_ms": {
            "p50": stats.latency_p50_ms(),
            "mean": stats.latency_sum_ns / stats.succeeded / MS_NS if stats.succeeded else None,
        },
        "cpu_seconds": round(cpu_seconds, 3),
        "records_per_cpu_second": round(stats.produced / cpu_seconds) if cpu_seconds else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
