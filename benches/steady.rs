//! The performance goal of the README's "Performance" section: `scenarios/bench-steady.json`
//! (36 M records in one simulated hour) at ≥ 50 M simulated records per second on one core, in
//! release mode.
//!
//! `cargo bench --bench steady` reports the median time per run and the throughput in
//! simulated records ("elements") per second, with the default arrival streams (`1h`,
//! `per_partition` since v0.2.0) and with v0.1's `arrival_streams: per_producer`
//! (`1h-per-producer`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esmsim::{SimulationBuilder, load_scenario};
use std::path::Path;
use std::time::Duration;

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

criterion_group!(benches, bench_steady);
criterion_main!(benches);
