//! A bit per value that grows at the back, with the position of the k-th set bit: the planner's
//! matched records and a candidate set's free partitions (each counts 0 or 1) at O(1) per
//! change, where a Fenwick tree costs O(log n); also the partitions a sample visits, by
//! [`Bits::ones`]. A search reads the words from the first that may
//! hold a set bit, so it costs the words up to its answer: the planner asks for the first
//! matched record and the `batch_size`-th, and the records before them that hold no bit
//! (removed, or in a batch) are mostly in words passed over.

use std::cell::Cell;

/// Bits `0..len()`, 64 to a word.
#[derive(Clone, Debug, Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
    /// Bits set.
    ones: u64,
    /// No word before this one holds a set bit (moved on by searches, which read only).
    first_word: Cell<usize>,
}

impl Bits {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many bits are set.
    pub fn count_ones(&self) -> u64 {
        self.ones
    }

    pub fn clear(&mut self) {
        self.words.clear();
        (self.len, self.ones) = (0, 0);
        self.first_word.set(0);
    }

    /// Replaces every bit by `bits`, in O(n).
    pub fn rebuild(&mut self, bits: impl IntoIterator<Item = bool>) {
        self.clear();
        bits.into_iter().for_each(|bit| self.push(bit));
    }

    /// Appends `bit` as the last one.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        if self.len % 64 == 0 {
            self.words.push(0);
        }
        self.words[self.len / 64] |= u64::from(bit) << (self.len % 64);
        if bit {
            self.first_word.set(self.first_word.get().min(self.len / 64));
        }
        self.ones += u64::from(bit);
        self.len += 1;
    }

    /// The bit at `index`.
    #[cfg(any(test, debug_assertions))]
    pub fn get(&self, index: usize) -> bool {
        self.words[index / 64] & (1 << (index % 64)) != 0
    }

    /// Sets the bit at `index` to `bit`.
    #[inline]
    pub fn set(&mut self, index: usize, bit: bool) {
        let word = &mut self.words[index / 64];
        let mask = 1 << (index % 64);
        let was = *word & mask != 0;
        if bit {
            *word |= mask;
            self.first_word.set(self.first_word.get().min(index / 64));
        } else {
            *word &= !mask;
        }
        self.ones = self.ones + u64::from(bit) - u64::from(was);
    }

    /// The positions of the set bits, in order: O(set bits + len / 64).
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            std::iter::successors((word != 0).then_some(word), |&rest| Some(rest & (rest - 1)).filter(|&r| r != 0))
                .map(move |rest| w * 64 + rest.trailing_zeros() as usize)
        })
    }

    /// The position of the `k`-th set bit (`k` at least 1); `None` when fewer are set.
    pub fn nth_set(&self, k: u64) -> Option<usize> {
        debug_assert!(k >= 1, "the 0th set bit");
        if k > self.ones {
            return None;
        }
        let mut first = self.first_word.get();
        while self.words.get(first).is_some_and(|&w| w == 0) {
            first += 1;
        }
        self.first_word.set(first);
        let mut rest = k;
        for (i, &word) in self.words.iter().enumerate().skip(first) {
            let ones = u64::from(word.count_ones());
            if ones >= rest {
                return Some(i * 64 + nth_in_word(word, rest as u32));
            }
            rest -= ones;
        }
        None
    }
}

/// The position of the `k`-th set bit of `word`, which has at least `k` (from 1).
fn nth_in_word(mut word: u64, k: u32) -> usize {
    for _ in 1..k {
        word &= word - 1;
    }
    word.trailing_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_kth_set_bit_and_lists_the_set_ones_as_bits_change() {
        let mut bits = Bits::default();
        let mut values: Vec<bool> = Vec::new();
        let mut x: u64 = 11;
        for step in 0..700u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bit = (x >> 40) % 3 == 0;
            if step % 3 == 2 && !values.is_empty() {
                let i = (x >> 20) as usize % values.len();
                values[i] = bit;
                bits.set(i, bit);
            } else {
                values.push(bit);
                bits.push(bit);
            }
            let ones: Vec<usize> = (0..values.len()).filter(|&i| values[i]).collect();
            for k in 1..=ones.len() as u64 + 1 {
                assert_eq!(bits.nth_set(k), ones.get(k as usize - 1).copied(), "k {k} of {values:?}");
            }
            assert_eq!(bits.len(), values.len());
            assert_eq!(bits.count_ones(), ones.len() as u64);
            assert_eq!(bits.ones().collect::<Vec<_>>(), ones, "the set positions of {values:?}");
            assert!((0..values.len()).all(|i| bits.get(i) == values[i]));
        }
        let mut rebuilt = Bits::default();
        rebuilt.rebuild(values.iter().copied());
        assert_eq!(rebuilt.words, bits.words);
    }
}
