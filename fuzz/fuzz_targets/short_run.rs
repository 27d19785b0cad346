//! Any scenario that validates, run for at most ten simulated seconds within a 64 MiB budget:
//! the run ends (or stops at its limit) without a panic, and records are conserved.
#![no_main]

use esmsim::scenario::Dur;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(loaded) = esmsim::parse_scenario("fuzz.json".as_ref(), text, &[]) else { return };
    // Capped so that each input takes milliseconds; a capped scenario may no longer validate
    // (sample_interval longer than the run), which is then simply skipped.
    let mut s = loaded.scenario;
    let cap = Dur::parse("10s");
    if s.duration > cap {
        s.duration = cap;
        s.sample_interval = s.sample_interval.min(cap);
    }
    let Ok(compiled) = esmsim::config::compile(&s) else { return };
    let limits = esmsim::Limits { memory_bytes: 64 << 20 };
    let (result, ()) = esmsim::SimulationBuilder::new(&compiled.config).build().try_run(&limits, |_| {});
    if let Ok(report) = result {
        let r = &report.summary.records;
        let resolved = r.succeeded + r.to_destination + r.discarded + r.lost_to_retention + r.pending_at_end;
        assert_eq!(r.produced, resolved, "records not conserved");
    }
});
