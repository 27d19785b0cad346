//! Kafka's range assignor: how a consumer group's members (the ESM's pollers) share partitions.

/// Partitions in order, split into contiguous ranges, the first `partitions % consumers`
/// consumers taking one extra.
pub fn range_assignment(partitions: u32, consumers: u32) -> Vec<Vec<u32>> {
    let consumers = consumers.clamp(1, partitions.max(1));
    let (each, extra) = (partitions / consumers, partitions % consumers);
    let mut next = 0;
    (0..consumers)
        .map(|c| {
            let n = each + u32::from(c < extra);
            let range = (next..next + n).collect();
            next += n;
            range
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_assignor_gives_extras_to_the_first_consumers() {
        assert_eq!(range_assignment(5, 2), vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(range_assignment(4, 4), vec![vec![0], vec![1], vec![2], vec![3]]);
        assert_eq!(range_assignment(2, 5).len(), 2);
    }
}
