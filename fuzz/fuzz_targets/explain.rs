//! `explain` over arbitrary trace lines: the first 12 bytes choose the partition and offset,
//! the rest is the trace. Any input gives a story or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let partition = u32::from_le_bytes(data[..4].try_into().unwrap()) % 4;
    let offset = u64::from_le_bytes(data[4..12].try_into().unwrap()) % 1024;
    let Ok(trace) = std::str::from_utf8(&data[12..]) else { return };
    let _ = esmsim::explain::explain(trace, partition, offset);
});
