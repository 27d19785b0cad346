//! `pricing`: prices in US dollars, every one overridable.

use serde::{Deserialize, Serialize};

/// Prices in US dollars (us-east-1, AWS_FACTS.md §7). Every one can be overridden.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Pricing {
    pub requests_usd_per_million: f64,
    /// GB-second prices by monthly volume, cheapest last.
    pub gb_second_tiers_x86_64: Vec<Tier>,
    pub gb_second_tiers_arm64: Vec<Tier>,
    /// Provisioned mode: dollars per Event Poller Unit-hour.
    pub epu_hour_usd: f64,
    /// Pollers one EPU covers.
    pub pollers_per_epu: f64,
    /// Throughput one EPU covers, in bytes polled per second (20 MB/s).
    pub bytes_per_second_per_epu: f64,
    /// How EPUs are counted: `whole` (AWS: a mapping outside a poller group pays whole EPUs, at
    /// least one) or `fractional` (its share of a poller group's EPUs).
    pub epu_billing: EpuBilling,
    /// Subtract the monthly free tier (1 M requests, 400,000 GB-s).
    pub free_tier: bool,
    pub free_tier_requests: f64,
    pub free_tier_gb_seconds: f64,
    /// Hours in the month the run is extrapolated to.
    pub month_hours: f64,
    /// Provisioned concurrency's rates (Lambda pricing page, us-east-1).
    #[serde(skip_serializing_if = "ProvisionedConcurrencyPrices::is_default")]
    pub provisioned_concurrency: ProvisionedConcurrencyPrices,
    /// SnapStart's rates for the runtimes AWS charges (Python, .NET; Java has no charge).
    #[serde(skip_serializing_if = "SnapStartPrices::is_default")]
    pub snapstart: SnapStartPrices,
}

/// Provisioned concurrency: the allocation, per GB-second configured for the whole run whether
/// used or not, and the duration of invocations that ran on provisioned environments (flat, no
/// monthly tiers). Spill-over invocations pay the on-demand tiers. Left out of a scenario's
/// hash while at these defaults, so older scenarios keep theirs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProvisionedConcurrencyPrices {
    pub allocation_gb_second_usd_x86_64: f64,
    pub allocation_gb_second_usd_arm64: f64,
    pub duration_gb_second_usd_x86_64: f64,
    pub duration_gb_second_usd_arm64: f64,
}

impl Default for ProvisionedConcurrencyPrices {
    fn default() -> Self {
        ProvisionedConcurrencyPrices {
            allocation_gb_second_usd_x86_64: 0.000_004_166_7,
            allocation_gb_second_usd_arm64: 0.000_003_333_4,
            duration_gb_second_usd_x86_64: 0.000_009_722_2,
            duration_gb_second_usd_arm64: 0.000_007_777_8,
        }
    }
}

impl ProvisionedConcurrencyPrices {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// SnapStart for Python and .NET: the snapshot's cache per GB-second for the whole run (the
/// function's memory), and each restore per GB restored. Java pays neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SnapStartPrices {
    pub cache_gb_second_usd: f64,
    pub restore_gb_usd: f64,
}

impl Default for SnapStartPrices {
    fn default() -> Self {
        SnapStartPrices { cache_gb_second_usd: 0.000_001_504_6, restore_gb_usd: 0.000_139_799_8 }
    }
}

impl SnapStartPrices {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `usd` per GB-second for the monthly volume up to `up_to_gb_seconds` (the last tier has no
/// bound).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_gb_seconds: Option<f64>,
    pub usd: f64,
}

fn tier(up_to: Option<f64>, usd: f64) -> Tier {
    Tier { up_to_gb_seconds: up_to, usd }
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            requests_usd_per_million: 0.20,
            gb_second_tiers_x86_64: vec![
                tier(Some(6e9), 0.000_016_666_7),
                tier(Some(15e9), 0.000_015),
                tier(None, 0.000_013_333_4),
            ],
            gb_second_tiers_arm64: vec![
                tier(Some(7.5e9), 0.000_013_333_4),
                tier(Some(18.75e9), 0.000_012_000_1),
                tier(None, 0.000_010_666_7),
            ],
            epu_hour_usd: 0.185,
            pollers_per_epu: 10.0,
            bytes_per_second_per_epu: 20e6,
            epu_billing: EpuBilling::Whole,
            free_tier: false,
            free_tier_requests: 1e6,
            free_tier_gb_seconds: 400_000.0,
            month_hours: 730.0,
            provisioned_concurrency: ProvisionedConcurrencyPrices::default(),
            snapstart: SnapStartPrices::default(),
        }
    }
}

/// How a provisioned mapping's Event Poller Units are billed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EpuBilling {
    /// Whole EPUs per billing window, at least one (a mapping outside a poller group).
    #[default]
    Whole,
    /// The EPUs' fractional share (a mapping in a poller group that shares EPUs).
    Fractional,
}
