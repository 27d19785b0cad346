//! What a run costs: requests plus GB-seconds (init included, 1 ms rounding), and provisioned
//! pollers once they exist (AWS_FACTS.md §7).

use crate::metrics::CostSummary;
use crate::scenario::{Architecture, Pricing};

/// Cost of `invocations` that were billed `billed_mb_ms` (Σ billed ms × memory MB in total).
pub fn cost(
    pricing: &Pricing,
    architecture: Architecture,
    invocations: u64,
    billed_mb_ms: u128,
    succeeded_records: u64,
) -> CostSummary {
    let requests = invocations as f64 * pricing.requests_usd_per_million / 1e6;
    let gb_seconds = billed_mb_ms as f64 / 1024.0 / 1000.0;
    let price = match architecture {
        Architecture::X86_64 => pricing.gb_second_usd_x86_64,
        Architecture::Arm64 => pricing.gb_second_usd_arm64,
    };
    let compute = gb_seconds * price;
    let pollers = 0.0;
    let total = requests + compute + pollers;
    CostSummary {
        requests,
        compute,
        pollers,
        total,
        per_million_records: (succeeded_records > 0).then(|| total / succeeded_records as f64 * 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_one_second_invocations_at_1_gb() {
        // 1M invocations × 1,000 ms × 1,024 MB = 1M GB-s.
        let c = cost(&Pricing::default(), Architecture::X86_64, 1_000_000, 1_000_000 * 1000 * 1024, 1);
        assert!((c.requests - 0.20).abs() < 1e-9);
        assert!((c.compute - 16.6667).abs() < 1e-9);
        let arm = cost(&Pricing::default(), Architecture::Arm64, 1_000_000, 1_000_000 * 1000 * 1024, 1);
        assert!((arm.compute - 13.3334).abs() < 1e-9);
    }
}
