//! A first-in first-out buffer kept in one contiguous slice: a partition's log. Records are
//! appended at the back and consumed from the front, and every read and search is over a plain
//! slice. (A `VecDeque` wraps around its buffer, so each read works out where an index lies and
//! each search runs over two slices: 6 % of the instructions of the run's thread at
//! `internet-scale`.)
//!
//! Consumed records leave a gap at the front. When the buffer has no room left at the back, the
//! live records move to its start; it also grows (doubles) if the gap was under half of what is
//! live, so that a move costs at most two records per record appended, and the buffer stays
//! under three times what is live when it grows, as a `VecDeque`'s stays under two (the memory
//! budget, `sim/limits.rs`, counts three times each record held for that). Growing to exactly
//! twice what is live instead was tried: the lagging case took 10 % more CPU time and 2 % more
//! memory (more frequent growth, and buffers of sizes the allocator reuses less well).

use std::ops::Index;

#[derive(Clone, Debug)]
pub struct LogBuffer<T> {
    buf: Vec<T>,
    /// Records consumed from the front of `buf`: the live ones are `buf[head..]`.
    head: usize,
}

impl<T> Default for LogBuffer<T> {
    fn default() -> Self {
        LogBuffer { buf: Vec::new(), head: 0 }
    }
}

impl<T: Copy> LogBuffer<T> {
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.buf[self.head..]
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.len() == self.head
    }

    /// Records the buffer holds in memory, consumed ones included.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    #[inline]
    pub fn front(&self) -> Option<&T> {
        self.as_slice().first()
    }

    #[inline]
    pub fn back(&self) -> Option<&T> {
        self.as_slice().last()
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.as_slice().get(i)
    }

    #[inline]
    pub fn push(&mut self, value: T) {
        if self.buf.len() == self.buf.capacity() {
            self.make_room(1);
        }
        self.buf.push(value);
    }

    /// Appends `values` in order, in one growth of the buffer at most.
    #[inline]
    pub fn extend(&mut self, values: impl ExactSizeIterator<Item = T>) {
        if self.buf.capacity() - self.buf.len() < values.len() {
            self.make_room(values.len());
        }
        self.buf.extend(values);
    }

    /// Makes room for `additional` more records at once, no more (a backlog of known size).
    pub fn reserve_exact(&mut self, additional: usize) {
        self.close_gap();
        self.buf.reserve_exact(additional);
    }

    /// Consumes the first `n` records.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.len(), "consumed {n} of {} records", self.len());
        self.head += n;
        if self.head == self.buf.len() {
            // Empty: the next records start at the front, no move needed.
            self.buf.clear();
            self.head = 0;
        }
    }

    #[cold]
    fn make_room(&mut self, additional: usize) {
        let (gap, live) = (self.head, self.len());
        self.close_gap();
        if gap < live / 2 {
            // The move gained too little: grow too, at least doubling.
            self.buf.reserve(additional.max(self.buf.capacity() - live + 1));
        } else {
            self.buf.reserve(additional);
        }
    }

    /// Moves the live records to the start of the buffer.
    fn close_gap(&mut self) {
        if self.head > 0 {
            self.buf.copy_within(self.head.., 0);
            self.buf.truncate(self.buf.len() - self.head);
            self.head = 0;
        }
    }
}

impl<T: Copy> Index<usize> for LogBuffer<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.as_slice()[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn behaves_as_a_queue_and_grows_in_proportion_to_what_is_live() {
        use rand::{RngExt, SeedableRng};
        // Random appends and consumption against a VecDeque: the same contents throughout, and
        // whenever the buffer grows, it holds under three times what is then live.
        for seed in 0..200u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let (mut buffer, mut model) = (LogBuffer::default(), VecDeque::new());
            let mut next = 0u32;
            for _ in 0..300 {
                let capacity = buffer.capacity();
                match rng.random_range(0..4) {
                    0 => {
                        buffer.push(next);
                        model.push_back(next);
                        next += 1;
                    }
                    1 => {
                        let n = rng.random_range(0..40);
                        buffer.extend(next..next + n);
                        model.extend(next..next + n);
                        next += n;
                    }
                    _ => {
                        let n = rng.random_range(0..=model.len());
                        buffer.consume(n);
                        model.drain(..n);
                    }
                }
                if buffer.capacity() > capacity {
                    let bound = (3 * buffer.len()).max(8);
                    assert!(buffer.capacity() <= bound, "seed {seed}: {} > {bound}", buffer.capacity());
                }
                assert_eq!(buffer.as_slice(), model.iter().copied().collect::<Vec<_>>(), "seed {seed}");
                assert_eq!((buffer.front(), buffer.back()), (model.front(), model.back()));
            }
        }
    }
}
