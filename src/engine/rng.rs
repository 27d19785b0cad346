//! Seeded random streams. One root seed; each component draws from its own ChaCha8 stream, so
//! adding a producer or changing a function setting does not reshuffle anyone else's draws.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The independent random streams of a run. Producers take `Producer(i)`; per-record facts use
/// [`mix64`] instead of a stream so that they depend only on (seed, partition, offset).
#[derive(Clone, Copy, Debug)]
pub enum StreamId {
    ProducerArrivals(u32),
    ProducerPartitioning(u32),
    ProducerSizes(u32),
    FunctionDuration,
    ColdStartInit,
}

impl StreamId {
    fn number(self) -> u64 {
        match self {
            StreamId::FunctionDuration => 1,
            StreamId::ColdStartInit => 2,
            StreamId::ProducerArrivals(i) => (1 << 32) | i as u64,
            StreamId::ProducerPartitioning(i) => (2 << 32) | i as u64,
            StreamId::ProducerSizes(i) => (3 << 32) | i as u64,
        }
    }
}

pub type RngStream = ChaCha8Rng;

/// The stream `id` of the run with root seed `seed`.
pub fn stream(seed: u64, id: StreamId) -> RngStream {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id.number());
    rng
}

/// A well-mixed 64-bit hash of a few words (SplitMix64 finaliser, chained). Used for per-record
/// and per-attempt random facts that must not depend on event order.
pub fn mix64(words: &[u64]) -> u64 {
    mix64_more(0x9E37_79B9_7F4A_7C15, words)
}

/// Continues `mix64` of some words with more: `mix64_more(mix64(&[a, b]), &[c]) ==
/// mix64(&[a, b, c])`, so that a prefix shared by many hashes (seed, salt, partition) is mixed
/// once.
#[inline]
pub fn mix64_more(mut h: u64, words: &[u64]) -> u64 {
    for &w in words {
        h ^= w;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

/// The bound `b` such that `unit_f64(h) < p` exactly when `h >> 11 < b`: the comparison done in
/// integers, without converting each hash to a float. Exact: `unit_f64(h)` is `(h >> 11)`
/// times 2^-53 with no rounding, so it is below `p` when `h >> 11` is below `p` times 2^53
/// (also exact), i.e. below its ceiling.
pub fn unit_bound(p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 { 0 } else { (p * (1u64 << 53) as f64).ceil().min((1u64 << 53) as f64) as u64 }
}

/// Maps a hash to a uniform float in [0, 1).
pub fn unit_f64(hash: u64) -> f64 {
    (hash >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_hash_continues_from_its_prefix() {
        // One word 0: the finaliser of twice the golden constant, i.e. the second output of
        // SplitMix64 seeded with 0 (its published sequence: 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4).
        assert_eq!(mix64(&[0]), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(mix64_more(mix64(&[1, 2]), &[3, 4]), mix64(&[1, 2, 3, 4]));
        assert_eq!(mix64_more(mix64(&[]), &[7]), mix64(&[7]));
    }

    #[test]
    fn the_integer_bound_agrees_with_the_float_comparison() {
        let unit = (1u64 << 53) as f64;
        // Probabilities on the 2^-53 grid, just off it, and the ends.
        let probabilities = [
            0.0,
            1.0,
            0.5,
            5e-5,
            1e-5,
            0.3,
            3.0 / unit,
            3.5 / unit,
            f64::from_bits((3.0 / unit).to_bits() + 1),
            1.5,
            -0.1,
            1e-300,
        ];
        let mut hashes: Vec<u64> = (0..20_000u64).map(|i| mix64(&[i])).collect();
        // Hashes whose top 53 bits are just below, at and above each grid point 3.
        hashes.extend([2u64 << 11, 3 << 11, (3 << 11) | 0x7ff, 4 << 11, u64::MAX, 0]);
        for &p in &probabilities {
            let bound = unit_bound(p);
            for &h in &hashes {
                assert_eq!(unit_f64(h) < p, h >> 11 < bound, "p {p}, h {h:#x}");
            }
        }
        assert_eq!((unit_bound(3.0 / unit), unit_bound(3.5 / unit), unit_bound(1.0)), (3, 4, 1 << 53));
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, StreamId::ProducerArrivals(0));
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, StreamId::ProducerArrivals(0));
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, StreamId::ProducerArrivals(1));
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn mix64_spreads_neighbouring_inputs() {
        let mean = (0..10_000u64).map(|o| unit_f64(mix64(&[1, 0, o]))).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
