//! Exponential draws, bit for bit those of `rand_distr`'s `Exp1`, with its common case inline
//! and its rare case out of line.
//!
//! `Exp1` is a ziggurat: a draw takes one 64-bit word, picks one of 256 layers from its low
//! byte and a uniform from its high bits, and is done when the point falls inside the layer's
//! box, about 97.8 % of the time. The rest (a wedge or the tail) calls `exp` or `ln`. Inlined
//! into a drawing loop, those calls make the compiler keep the loop's running sum in memory
//! across them, so every arrival waits for a store and a load of the one before: that chain,
//! not the instructions, bounded bench-steady. Here the box test is inline, and the rest goes
//! back to the word before and draws with `Exp1` itself, in a function marked cold, so the
//! answer and the generator's state after are `Exp1`'s in every case.
//!
//! The layers' widths are `Exp1`'s own, read off it once: given a generator that returns a word
//! whose uniform bits are all 0, `Exp1` answers `2^-53 × x[i]` for layer `i` (exact: a power of
//! two). Layers 0 to 254 settle in their box at that word. Layer 255's box test compares with
//! `x[256]`, which is 0 (`rand_distr`'s table ends there), so it never settles inline: its width
//! is read through the wedge test instead, which the next word, all ones, passes. A test holds
//! the two to the same answers and generator states over millions of draws.

use rand::TryRng;
use rand_distr::{Distribution, Exp1};
use std::convert::Infallible;
use wyrand::WyRand;

/// The uniform of a word whose high bits are 0: `1 − (1 − ε/2) = 2^-53`.
const SMALLEST_UNIFORM: f64 = f64::EPSILON / 2.0;

/// `Exp1`'s draw, with the box test inline (see the module documentation).
#[derive(Clone, Debug)]
pub struct ExpDraw {
    /// The layers' widths, `x[i + 1] < x[i]`, `x[256]` 0 (see above).
    x: [f64; 257],
}

impl Default for ExpDraw {
    fn default() -> Self {
        let mut x = [0.0; 257];
        for (layer, width) in x.iter_mut().enumerate().take(256) {
            let mut words = Words { first: Some(layer as u64), then: u64::MAX };
            *width = Distribution::<f64>::sample(&Exp1, &mut words) / SMALLEST_UNIFORM;
        }
        ExpDraw { x }
    }
}

impl ExpDraw {
    #[inline(always)]
    pub fn sample(&self, rng: &mut WyRand) -> f64 {
        let before = rng.clone();
        if let Some(x) = self.in_box(rng.rand()) {
            return x;
        }
        let (x, after) = rare(before);
        *rng = after;
        x
    }

    /// `Exp1`'s answer to `word` when the box test settles it.
    #[inline(always)]
    fn in_box(&self, word: u64) -> Option<f64> {
        let layer = (word & 0xff) as usize;
        // As `Exp1` makes it: the high 52 bits as a float in [1, 2), less 1 − ε/2.
        let uniform = f64::from_bits((word >> 12) | (1023 << 52)) - (1.0 - SMALLEST_UNIFORM);
        let x = uniform * self.x[layer];
        (x < self.x[layer + 1]).then_some(x)
    }
}

/// The draw the box test did not settle: `Exp1`'s, from the word before, and the generator
/// after it. (The generator goes in and out by value: lent by reference, it would live in
/// memory rather than a register through the whole drawing loop.)
#[cold]
#[inline(never)]
fn rare(mut rng: WyRand) -> (f64, WyRand) {
    let x = Distribution::<f64>::sample(&Exp1, &mut rng);
    (x, rng)
}

/// A generator that returns `first` once, then `then` for ever: with layer `i` in the first
/// word's low byte and 0 above, `Exp1` answers from layer `i` (see the module documentation).
struct Words {
    first: Option<u64>,
    then: u64,
}

impl TryRng for Words {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.first.take().unwrap_or(self.then) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.first.take().unwrap_or(self.then))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.then as u8);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_exactly_what_exp1_draws_and_leaves_the_generator_where_exp1_does() {
        let fast = ExpDraw::default();
        // The widths shrink, from the base layer's to 0.
        assert!(fast.x.windows(2).all(|w| w[1] < w[0]), "{:?}", &fast.x[250..]);
        assert_eq!(fast.x[256], 0.0);
        let (mut rare, mut draws) = (0u32, 0u32);
        for seed in 0..20u64 {
            let (mut a, mut b) = (WyRand::new(seed), WyRand::new(seed));
            for _ in 0..100_000 {
                let expected = Distribution::<f64>::sample(&Exp1, &mut a);
                let before = b.clone();
                let got = fast.sample(&mut b);
                assert_eq!(got.to_bits(), expected.to_bits(), "seed {seed}");
                assert_eq!(a.rand(), b.rand(), "seed {seed}: the generators part");
                // (Both took the word compared above; count the draws the box test left.)
                rare += u32::from(fast.in_box(before.clone().rand()).is_none());
                draws += 1;
            }
        }
        // About 1.8 % of draws leave the boxes of layers 0 to 254, and layer 255 (no box) is
        // 1 in 256 more.
        let share = f64::from(rare) / f64::from(draws);
        assert!((0.019..0.026).contains(&share), "{share}");
    }
}
