//! A calendar of ids by bucket: each id waits for its bucket (a sample's index, or an instant
//! divided into fixed spans), and comes due once the clock takes that bucket. A push and a
//! pop cost O(1) and allocate nothing, where a heap costs O(log n) and a miss per level: used
//! where many partitions wait for records drawn ahead of the clock to arrive.
//!
//! Buckets are taken in order; those before [`Calendar::first`] have been taken. The span
//! waited over is bounded by how far ahead producers draw, so the buckets are kept from the
//! first one on, empty ones included, each as the head of a list threaded through the ids
//! (an id is listed once at most).

use std::collections::VecDeque;

/// Ends a bucket's list.
const END: u32 = u32::MAX;
/// Marks an id that waits in no bucket.
const UNLISTED: u32 = u32::MAX - 1;

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// `heads[k]`: the first id of bucket `first + k`, or `END`.
    heads: VecDeque<u32>,
    first: u64,
    /// Per id: the next id of its bucket, `END` after a bucket's last, or `UNLISTED`.
    next: Vec<u32>,
}

impl Calendar {
    /// A calendar of ids `0..ids`, none waiting.
    pub fn new(ids: u32) -> Self {
        debug_assert!(ids < UNLISTED);
        Calendar { heads: VecDeque::new(), first: 0, next: vec![UNLISTED; ids as usize] }
    }

    /// The first bucket not yet taken: buckets before it are due and gone.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// `id` waits for `bucket`, which must not have been taken; `false` (and nothing changes)
    /// if `id` already waits, for the bucket it was pushed for.
    #[inline]
    pub fn push(&mut self, bucket: u64, id: u32) -> bool {
        debug_assert!(bucket >= self.first, "bucket {bucket} was taken (first is {})", self.first);
        let next = &mut self.next[id as usize];
        if *next != UNLISTED {
            return false;
        }
        let k = (bucket - self.first) as usize;
        if self.heads.len() <= k {
            Self::extend(&mut self.heads, k);
        }
        let head = &mut self.heads[k];
        (*next, *head) = (*head, id);
        true
    }

    /// Adds empty buckets up to the `k`-th (once a bucket as the clock moves on: rare against
    /// pushes).
    #[cold]
    fn extend(heads: &mut VecDeque<u32>, k: usize) {
        heads.resize(k + 1, END);
    }

    /// The next id due by bucket `through` (buckets in order, ids within one in no particular
    /// order), no longer waiting; `None` once every bucket up to `through` is taken.
    pub fn pop_due(&mut self, through: u64) -> Option<u32> {
        while self.first <= through {
            let Some(head) = self.heads.front_mut() else {
                // Nothing waits: every bucket up to `through` is taken at once.
                self.first = through + 1;
                return None;
            };
            if *head == END {
                self.heads.pop_front();
                self.first += 1;
                continue;
            }
            let id = *head;
            *head = std::mem::replace(&mut self.next[id as usize], UNLISTED);
            return Some(id);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(calendar: &mut Calendar, through: u64) -> Vec<u32> {
        let mut due: Vec<u32> = std::iter::from_fn(|| calendar.pop_due(through)).collect();
        due.sort_unstable();
        due
    }

    #[test]
    fn ids_come_due_with_their_bucket_in_bucket_order() {
        let mut calendar = Calendar::new(100);
        assert!(calendar.push(3, 30));
        assert!(calendar.push(1, 10));
        assert!(calendar.push(3, 31));
        assert!(calendar.push(0, 0));
        assert!(calendar.push(7, 70));
        // Already waiting (for bucket 3): stays there.
        assert!(!calendar.push(5, 30));
        assert_eq!(take(&mut calendar, 0), [0]);
        assert_eq!(calendar.first(), 1);
        assert_eq!(take(&mut calendar, 2), [10]);
        assert!(take(&mut calendar, 2).is_empty());
        // Pushed while bucket 3 waits: it comes due with those there already.
        assert!(calendar.push(3, 32));
        assert!(calendar.push(5, 50));
        assert_eq!(take(&mut calendar, 3), [30, 31, 32]);
        // Due, an id may wait again.
        assert!(calendar.push(6, 30));
        assert_eq!(take(&mut calendar, 6), [30, 50]);
        assert_eq!(calendar.first(), 7);
        assert_eq!(take(&mut calendar, 100), [70]);
        // Nothing waits: the buckets up to the one asked for are taken at once.
        assert_eq!(calendar.first(), 101);
        assert!(calendar.push(101, 1));
        assert_eq!(take(&mut calendar, 101), [1]);
    }
}
