//! What a run costs (AWS_FACTS.md §7): requests, GB-seconds (init included, 1 ms rounding) at
//! tiered prices, and Event Poller Units in provisioned mode. Provisioned concurrency adds its
//! allocation (GB-seconds configured, for the whole run) and prices the duration of invocations
//! on provisioned environments at its own flat rate; the free tier does not apply to a function
//! with provisioned concurrency. SnapStart on Python and .NET adds its cache (GB-seconds for the
//! whole run) and restores (per GB); on Java it is free (Lambda pricing page).
//!
//! Tiers and the free tier are monthly, so the run is extrapolated to a month
//! (`pricing.month_hours`): `cost_usd.per_month` is that projection, and each of the run's costs
//! is its share of it (the projection divided by the same factor).

use crate::config::{Architecture, Pricing, Tier};
use crate::metrics::{CostSummary, ProvisionedConcurrencyCost, SnapStartCost};

/// What a run used.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub run_seconds: f64,
    pub invocations: u64,
    /// Σ billed milliseconds × memory MB.
    pub billed_mb_ms: u128,
    pub epu_hours: f64,
    pub succeeded_records: u64,
    /// Provisioned concurrency: GB allocated (environments × memory GB), and the part of
    /// `billed_mb_ms` that ran on provisioned environments.
    pub provisioned_gb: f64,
    pub provisioned_billed_mb_ms: u128,
    /// SnapStart, when on.
    pub snapstart: Option<SnapStartUsage>,
}

/// SnapStart's charged quantities (zero for Java, which AWS does not charge).
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapStartUsage {
    /// GB of snapshot cached for the whole run (the function's memory).
    pub cached_gb: f64,
    /// GB restored: the memory of each restored environment, summed.
    pub restored_gb: f64,
}

/// The price of `gb_seconds` in a month, tier by tier.
pub fn tiered(tiers: &[Tier], gb_seconds: f64) -> f64 {
    let mut cost = 0.0;
    let mut below = 0.0;
    for t in tiers {
        let upper = t.up_to_gb_seconds.unwrap_or(f64::INFINITY);
        cost += (gb_seconds.min(upper) - below).max(0.0) * t.usd;
        below = upper;
    }
    cost
}

fn gb_seconds(mb_ms: u128) -> f64 {
    mb_ms as f64 / 1024.0 / 1000.0
}

pub fn cost(pricing: &Pricing, architecture: Architecture, usage: &Usage) -> CostSummary {
    let months = if usage.run_seconds > 0.0 { pricing.month_hours * 3600.0 / usage.run_seconds } else { 0.0 };
    let provisioning = usage.provisioned_gb > 0.0;
    let (free_requests, free_gb_seconds) = if pricing.free_tier && !provisioning {
        (pricing.free_tier_requests, pricing.free_tier_gb_seconds)
    } else {
        (0.0, 0.0)
    };
    let monthly_requests = (usage.invocations as f64 * months - free_requests).max(0.0);
    let on_demand_gb_seconds = gb_seconds(usage.billed_mb_ms - usage.provisioned_billed_mb_ms);
    let monthly_gb_seconds = (on_demand_gb_seconds * months - free_gb_seconds).max(0.0);
    let pc = &pricing.provisioned_concurrency;
    let (tiers, pc_allocation_usd, pc_duration_usd) = match architecture {
        Architecture::X86_64 => {
            (&pricing.gb_second_tiers_x86_64, pc.allocation_gb_second_usd_x86_64, pc.duration_gb_second_usd_x86_64)
        }
        Architecture::Arm64 => {
            (&pricing.gb_second_tiers_arm64, pc.allocation_gb_second_usd_arm64, pc.duration_gb_second_usd_arm64)
        }
    };
    let month_seconds = pricing.month_hours * 3600.0;
    let snapstart = usage.snapstart.unwrap_or_default();
    let monthly = [
        monthly_requests * pricing.requests_usd_per_million / 1e6,
        tiered(tiers, monthly_gb_seconds),
        usage.epu_hours * months * pricing.epu_hour_usd,
        gb_seconds(usage.provisioned_billed_mb_ms) * months * pc_duration_usd,
        usage.provisioned_gb * month_seconds * pc_allocation_usd,
        snapstart.cached_gb * month_seconds * pricing.snapstart.cache_gb_second_usd,
        snapstart.restored_gb * months * pricing.snapstart.restore_gb_usd,
    ];
    let share = |monthly: f64| if months > 0.0 { monthly / months } else { 0.0 };
    let [requests, on_demand, pollers, pc_duration, pc_allocation, cache, restore] = monthly.map(share);
    let compute = on_demand + pc_duration;
    let total = requests + compute + pollers + pc_allocation + cache + restore;
    CostSummary {
        requests,
        compute,
        pollers,
        total,
        per_million_records: (usage.succeeded_records > 0).then(|| total / usage.succeeded_records as f64 * 1e6),
        per_month: monthly.iter().sum(),
        provisioned_concurrency: provisioning
            .then_some(ProvisionedConcurrencyCost { allocation: pc_allocation, duration: pc_duration }),
        snapstart: usage.snapstart.map(|_| SnapStartCost { cache, restore }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(invocations: u64, gb_seconds: f64, run_hours: f64) -> Usage {
        Usage {
            run_seconds: run_hours * 3600.0,
            invocations,
            billed_mb_ms: (gb_seconds * 1024.0 * 1000.0) as u128,
            epu_hours: 0.0,
            succeeded_records: 1,
            ..Usage::default()
        }
    }

    #[test]
    fn a_million_one_second_invocations_at_1_gb() {
        // 1M invocations × 1 GB-s over one 730-hour month: the first tier only.
        let c = cost(&Pricing::default(), Architecture::X86_64, &usage(1_000_000, 1e6, 730.0));
        assert!((c.requests - 0.20).abs() < 1e-9);
        assert!((c.compute - 16.6667).abs() < 1e-9);
        assert!((c.per_month - 16.8667).abs() < 1e-9);
        let arm = cost(&Pricing::default(), Architecture::Arm64, &usage(1_000_000, 1e6, 730.0));
        assert!((arm.compute - 13.3334).abs() < 1e-9);
    }

    #[test]
    fn monthly_volume_decides_the_tier() {
        // 10 B GB-s in a month: 6 B at the first price, 4 B at the second.
        let tiers = &Pricing::default().gb_second_tiers_x86_64;
        let expected = 6e9 * 0.000_016_666_7 + 4e9 * 0.000_015;
        assert!((tiered(tiers, 10e9) - expected).abs() < 1e-3);
        // A one-hour run at that monthly rate pays the blended price, 1/730 of the month.
        let c = cost(&Pricing::default(), Architecture::X86_64, &usage(0, 10e9 / 730.0, 1.0));
        assert!((c.compute - expected / 730.0).abs() < 1e-6);
        assert!((c.per_month - expected).abs() < 1e-3);
    }

    #[test]
    fn provisioned_concurrency_has_no_free_tier_and_its_own_rates() {
        let pricing = Pricing { free_tier: true, ..Pricing::default() };
        // A 730-hour month, 1M invocations of 1 s at 1 GB, all on 2 provisioned environments of
        // 1 GB: no free tier; 1e6 GB-s at $0.0000097222 = $9.7222; allocation 2 GB × 2,628,000 s
        // × $0.0000041667 = $21.9001752; requests $0.20.
        let u =
            Usage { provisioned_gb: 2.0, provisioned_billed_mb_ms: 1_024_000_000_000, ..usage(1_000_000, 1e6, 730.0) };
        let c = cost(&pricing, Architecture::X86_64, &u);
        let pc = c.provisioned_concurrency.unwrap();
        assert!((pc.duration - 9.7222).abs() < 1e-9);
        assert!((pc.allocation - 21.900_175_2).abs() < 1e-9);
        assert!((c.compute - 9.7222).abs() < 1e-9, "no on-demand duration");
        assert!((c.total - (0.20 + 9.7222 + 21.900_175_2)).abs() < 1e-9);
        // arm64: $0.0000077778 and $0.0000033334.
        let c = cost(&pricing, Architecture::Arm64, &u);
        assert!((c.compute - 7.7778).abs() < 1e-9);
        assert!((c.provisioned_concurrency.unwrap().allocation - 2.0 * 2_628_000.0 * 0.000_003_333_4).abs() < 1e-9);
    }

    #[test]
    fn the_free_tier_comes_off_the_month() {
        let pricing = Pricing { free_tier: true, ..Pricing::default() };
        // 2M requests and 1M GB-s a month: 1M requests and 600,000 GB-s are billed.
        let c = cost(&pricing, Architecture::X86_64, &usage(2_000_000, 1e6, 730.0));
        assert!((c.per_month - (0.20 + 600_000.0 * 0.000_016_666_7)).abs() < 1e-6);
    }
}
