//! The account's concurrency when several mappings run in one account: functions without a
//! reservation share one unreserved pool (the account limit less every reservation), and the
//! account's concurrency is every function's environments together.
//!
//! A single-mapping run has no pool: its function compares its own environments with the limit,
//! which is the same thing when it is the account's only function.

use std::cell::Cell;

/// Concurrency shared by the functions of one account.
#[derive(Debug, Default)]
pub struct AccountPool {
    /// Concurrency reserved by the account's functions: kept out of the shared pool.
    reserved_total: u32,
    /// Environments running an invocation, over the functions without a reservation.
    unreserved_busy: Cell<u32>,
    /// Environments running an invocation, over every function, and the most at once since
    /// the statistics started (t = 0 or the end of the warm-up).
    busy: Cell<u32>,
    peak: Cell<u32>,
}

impl AccountPool {
    /// A pool for functions whose reservations add up to `reserved_total`.
    pub fn new(reserved_total: u32) -> Self {
        AccountPool { reserved_total, ..AccountPool::default() }
    }

    pub fn reserved_total(&self) -> u32 {
        self.reserved_total
    }

    pub fn unreserved_busy(&self) -> u32 {
        self.unreserved_busy.get()
    }

    /// A function's busy environments changed by `delta` (+1 or -1).
    pub fn changed(&self, reserved: bool, delta: i32) {
        let apply = |cell: &Cell<u32>| cell.set(cell.get().saturating_add_signed(delta));
        if !reserved {
            apply(&self.unreserved_busy);
        }
        apply(&self.busy);
        self.peak.set(self.peak.get().max(self.busy.get()));
    }

    /// The most environments busy at once over the account since the statistics started.
    pub fn peak(&self) -> u32 {
        self.peak.get()
    }

    /// The warm-up is over: the peak counts from the environments busy now.
    pub fn start_window(&self) {
        self.peak.set(self.busy.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_functions_count_in_the_account_but_not_in_the_shared_pool() {
        let pool = AccountPool::new(50);
        pool.changed(false, 1);
        pool.changed(true, 1);
        pool.changed(true, 1);
        assert_eq!((pool.unreserved_busy(), pool.peak()), (1, 3));
        pool.changed(true, -1);
        pool.start_window();
        assert_eq!(pool.peak(), 2);
    }
}
