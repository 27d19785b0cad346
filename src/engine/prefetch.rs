//! Cache prefetch hints. At large scale the run is bound by memory latency: each batch, plan
//! and commit visits tens of partitions whose headers and logs other pollers' work has evicted,
//! and each visit's loads depend on one another. Asking for the lines first lets the misses
//! overlap. Hints change no result.

/// Asks the CPU to start loading the cache line holding `address` into L2: a batch's
/// prefetches (hundreds of lines) would not all fit in L1. A hint only: it reads nothing the
/// program sees, and on other architectures it does nothing.
#[inline(always)]
pub fn prefetch<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and has no effect on memory, whatever the address; the
    // SSE target feature it requires is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(address.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Prefetches every cache line of `value` (a partition's header spans several).
#[inline(always)]
pub fn prefetch_value<T>(value: &T) {
    let start: *const u8 = (value as *const T).cast();
    (0..std::mem::size_of::<T>()).step_by(64).for_each(|offset| prefetch(start.wrapping_add(offset)));
}

/// Prefetches the lines of `values`: up to `max_lines` from the front, and the last one.
#[inline(always)]
pub fn prefetch_slice<T>(values: &[T], max_lines: usize) {
    let start: *const u8 = values.as_ptr().cast();
    let bytes = std::mem::size_of_val(values);
    (0..bytes).step_by(64).take(max_lines).for_each(|offset| prefetch(start.wrapping_add(offset)));
    if let Some(last) = values.last() {
        prefetch(last);
    }
}
