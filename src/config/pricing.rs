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
