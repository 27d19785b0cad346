//! Scenario text, and `--set` assignments after a NUL byte (one per further NUL), through
//! parsing and validation: any input gives a scenario or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let scenario = parts.next().unwrap_or_default();
    let sets: Vec<String> = parts.map(str::to_string).collect();
    if let Err(e) = esmsim::parse_scenario("fuzz.json".as_ref(), scenario, &sets) {
        // The CLI prints this after `error: `; it must stay one line.
        assert!(!esmsim::text::one_line(&e.to_string()).contains('\n'));
    }
});
