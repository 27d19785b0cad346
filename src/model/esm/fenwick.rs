//! A Fenwick tree (binary indexed tree) of non-negative sums that grows at the back: O(log n) to
//! append, change a value, or find the first prefix that reaches an amount.

/// Prefix sums over values `0..len()` (stored 1-based: `tree[i]` sums the values
/// `i - lowbit(i) .. i`).
#[derive(Clone, Debug, Default)]
pub struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    pub fn len(&self) -> usize {
        self.tree.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.tree.clear();
    }

    /// Replaces every value by `values`, in O(n).
    pub fn rebuild(&mut self, values: impl IntoIterator<Item = u64>) {
        self.tree.clear();
        self.tree.push(0);
        self.tree.extend(values);
        let n = self.tree.len();
        for i in 1..n {
            let parent = i + lowbit(i);
            if parent < n {
                self.tree[parent] += self.tree[i];
            }
        }
    }

    /// Appends `value` as the last one.
    pub fn push(&mut self, value: u64) {
        if self.tree.is_empty() {
            self.tree.push(0);
        }
        let i = self.tree.len();
        // The new node sums its own value and the nodes it covers: i - 1, then down by lowbit.
        let (mut sum, mut j, stop) = (value, i - 1, i - lowbit(i));
        while j > stop {
            sum += self.tree[j];
            j -= lowbit(j);
        }
        self.tree.push(sum);
    }

    /// Adds `amount` to the value at `index`.
    pub fn add(&mut self, index: usize, amount: u64) {
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] += amount;
            i += lowbit(i);
        }
    }

    /// Takes `amount` (at most what it holds) from the value at `index`.
    pub fn sub(&mut self, index: usize, amount: u64) {
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] -= amount;
            i += lowbit(i);
        }
    }

    /// The sum of every value.
    pub fn total(&self) -> u64 {
        let mut i = self.len();
        let mut sum = 0;
        while i > 0 {
            sum += self.tree[i];
            i -= lowbit(i);
        }
        sum
    }

    /// The first index whose prefix sum (through it) is at least `amount` (at least 1); `None`
    /// when the whole sum is less.
    pub fn first_reaching(&self, amount: u64) -> Option<usize> {
        let n = self.len();
        let (mut pos, mut rest) = (0, amount);
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            if pos + step <= n && self.tree[pos + step] < rest {
                pos += step;
                rest -= self.tree[pos];
            }
            step >>= 1;
        }
        (pos < n).then_some(pos)
    }
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_prefix_reaching_an_amount_as_values_change() {
        let mut f = Fenwick::default();
        let mut values = Vec::new();
        let mut x: u64 = 7;
        for step in 0..400u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = (x >> 33) % 5;
            if step % 3 == 2 && !values.is_empty() {
                // Change an existing value instead of appending.
                let i = (x >> 20) as usize % values.len();
                f.sub(i, values[i]);
                values[i] = v;
                f.add(i, v);
            } else {
                f.push(v);
                values.push(v);
            }
            let total: u64 = values.iter().sum();
            for amount in 1..=total + 1 {
                let mut prefix = 0;
                let expected = values.iter().position(|&v| {
                    prefix += v;
                    prefix >= amount
                });
                assert_eq!(f.first_reaching(amount), expected, "amount {amount} of {values:?}");
            }
            let mut rebuilt = Fenwick::default();
            rebuilt.rebuild(values.iter().copied());
            assert_eq!(rebuilt.tree, f.tree);
            assert_eq!(f.total(), total);
        }
    }
}
