//! Issue 11's goal for `scenarios/bench-steady.json` (36 M records in one simulated hour): at
//! least 150 M simulated records per second on one core, in release mode (README, "Performance").
//!
//! `cargo bench --bench steady` reports the median time per run and the throughput in
//! simulated records ("elements") per second, with the default arrival streams (`1h`,
//! `per_partition` since v0.2.0) and with v0.1's `arrival_streams: per_producer`
//! (`1h-per-producer`).
//!
//! The `floor` group measures, on the same machine in the same session, the least any drawing of
//! Poisson arrivals with these generators costs per record: a `wyrand` draw, an exponential
//! draw (`rand_distr`'s ziggurat), and an arrival instant (the exponential gap added up, mapped
//! onto the clock, pushed to a buffer). The ratio of bench-steady's time per record to the last
//! is load-independent where the times are not (README, "Performance").

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esmsim::{SimulationBuilder, load_scenario};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use wyrand::WyRand;

fn bench_steady(c: &mut Criterion) {
    let mut group = c.benchmark_group("bench-steady");
    for (name, sets) in [("1h", vec![]), ("1h-per-producer", vec!["arrival_streams=per_producer".to_string()])] {
        let loaded = load_scenario(Path::new("scenarios/bench-steady.json"), &sets).expect("bench scenario");
        let config = loaded.config;
        let produced = SimulationBuilder::new(&config).build().run().0.summary.records.produced;
        group.sample_size(10).measurement_time(Duration::from_secs(12)).throughput(Throughput::Elements(produced));
        group.bench_function(name, |b| b.iter(|| SimulationBuilder::new(&config).build().run().0));
    }
    group.finish();
}

/// Draws per iteration of the floor benchmarks.
const FLOOR_DRAWS: u64 = 1 << 20;

fn bench_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(FLOOR_DRAWS));
    group.bench_function("wyrand-u64", |b| {
        let mut rng = WyRand::new(1);
        b.iter(|| (0..FLOOR_DRAWS).fold(0u64, |sum, _| sum.wrapping_add(rng.next_u64())))
    });
    group.bench_function("exponential", |b| {
        let mut rng = WyRand::new(1);
        b.iter(|| {
            let mut local = rng.clone();
            let sum = (0..FLOOR_DRAWS).map(|_| Distribution::<f64>::sample(&Exp1, &mut local)).sum::<f64>();
            rng = local;
            sum
        })
    });
    // One partition of bench-steady: a mean gap of 24 of the producer's records, 100 µs apart,
    // drawn a run of `RUN` at a time into a buffer that stays in cache (a chunk of bench-steady
    // holds about 1,400 arrivals per partition).
    const RUN: u64 = 1024;
    group.bench_function("arrival-instant", |b| {
        let (mut rng, mut instants) = (WyRand::new(1), Vec::with_capacity(RUN as usize));
        let (mean_gap, ns_per_unit) = (black_box(24.0), black_box(100_000.0));
        b.iter(|| {
            // The generator in a local, as the simulation keeps it: not reloaded around each push.
            let (mut local, mut units, mut last) = (rng.clone(), 0.0, 0);
            for _ in 0..FLOOR_DRAWS / RUN {
                instants.clear();
                for _ in 0..RUN {
                    units += Distribution::<f64>::sample(&Exp1, &mut local) * mean_gap;
                    instants.push((units * ns_per_unit) as i64);
                }
                last = black_box(&instants)[RUN as usize - 1];
            }
            rng = local;
            last
        })
    });
    group.finish();
}

criterion_group!(benches, bench_steady, bench_floor);
criterion_main!(benches);
