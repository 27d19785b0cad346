//! The consumer's analytic throughput limit, for `capacity.json`'s `analytic_limit`: what the
//! configuration can consume at most, worked out on paper, to set beside the measured knee.
//!
//! Two caps, in records per second of total producer rate, the lower of which is the limit:
//! - **Concurrent batches** `C·B/D`: `C` batches in flight at once, each of `B` records taking
//!   `D`. `C` is the least of the partitions (one batch in flight per partition), the scaling
//!   mode's own bound (`factor` in the `parallelization_factor` model, named `pollers` as the
//!   bottleneck accounting names it; pollers × invocations per poller with pollers) and the function's concurrency (reserved, else the account limit less
//!   other functions' use at its highest). `B` is `batch_size` or as many records as fit the
//!   payload, whichever is smaller (at the limit there is always a backlog, so batches are full).
//!   `D` is the handler's time for such a batch times the jitter's mean `exp(σ²/2)`.
//! - **Poller throughput**: pollers × `poller_bytes_per_second` ÷ the bytes a record stores
//!   (key + value), in the modes with pollers.
//!
//! It exists when every producer writes records of one fixed size (and key size); it leaves out
//! failures, cold starts, rebalances and the autoscaler's delays, so a run can fall short of it
//! but a run can never consume faster.

use crate::config::{Dist, Scaling};
use crate::scenario::Loaded;
use serde::Serialize;

/// One cap on the consumer's throughput.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cap {
    /// `concurrent_batches` or `poller_throughput`.
    pub kind: &'static str,
    pub records_per_second: f64,
    /// For `concurrent_batches`: what sets `C`, by the bottleneck's names (`partitions`,
    /// `pollers`, `poller_invocations`, `concurrency`); for `poller_throughput`, `poller_throughput`.
    pub bound: &'static str,
    /// How it was worked out, e.g. `C·B/D = 10 × 100 / 15 ms`.
    pub formula: String,
}

/// Every cap that applies, lowest first; `None` when no analytic limit exists.
pub fn caps(loaded: &Loaded) -> Option<Vec<Cap>> {
    let c = &loaded.config;
    let first = c.producers.first()?;
    let Dist::Fixed(value_bytes) = first.record_bytes else { return None };
    let same = |p: &crate::config::ProducerConfig| {
        matches!(p.record_bytes, Dist::Fixed(v) if v == value_bytes) && p.key_bytes == first.key_bytes
    };
    if !c.producers.iter().all(same) {
        return None;
    }
    let payload = c.esm.payload.payload_bytes(first.key_bytes, value_bytes);
    let stored = first.key_bytes.saturating_add(value_bytes);
    let fit = c.esm.rules.record_budget_bytes / payload.max(1);
    let records = (c.esm.rules.batch_size as u64).min(fit);
    if records == 0 {
        return None;
    }
    let sigma = loaded.scenario.function.duration.jitter_sigma;
    let duration_s =
        c.function.duration.handler_ns(records, records * payload, 1.0) as f64 / 1e9 * (sigma * sigma / 2.0).exp();
    if duration_s <= 0.0 {
        return None;
    }
    let partitions = c.topic.partitions;
    let busiest_other = c.function.other_concurrency.iter().map(|o| o.1).max().unwrap_or(0);
    let concurrency = c.function.reserved_concurrency.unwrap_or(c.function.account_limit.saturating_sub(busiest_other));
    let mut bounds = vec![(partitions, "partitions"), (concurrency, "concurrency")];
    let pollers = match c.esm.scaling {
        Scaling::Factor { factor } => {
            // The bottleneck accounting names the factor `pollers` (its gate stands for them).
            bounds.push((factor, "pollers"));
            None
        }
        Scaling::OnDemand(plan) | Scaling::Provisioned(plan) => {
            let pollers = plan.max.min(partitions);
            let name = if plan.invocations_per_poller == 1 { "pollers" } else { "poller_invocations" };
            bounds.push((pollers.saturating_mul(plan.invocations_per_poller), name));
            Some((pollers, plan.bytes_per_second))
        }
    };
    // Ties go to the earlier bound: partitions, then concurrency, then the mode's.
    let (batches, bound) = bounds.iter().copied().min_by_key(|b| b.0).expect("bounds");
    let mut caps = vec![Cap {
        kind: "concurrent_batches",
        records_per_second: batches as f64 * records as f64 / duration_s,
        bound,
        formula: format!("C·B/D = {batches} × {records} / {} ms", short(duration_s * 1e3)),
    }];
    if let Some((pollers, bytes_per_second)) = pollers {
        caps.push(Cap {
            kind: "poller_throughput",
            records_per_second: pollers as f64 * bytes_per_second as f64 / stored.max(1) as f64,
            bound: "poller_throughput",
            formula: format!("{pollers} pollers × {bytes_per_second} B/s / {stored} B per record"),
        });
    }
    caps.sort_by(|a, b| a.records_per_second.total_cmp(&b.records_per_second));
    Some(caps)
}

/// The ratio of the producers' peak total rate to their base total rate: a schedule that
/// peaks at 4× the base rate meets the limit at a quarter of it.
pub fn peak_to_base(loaded: &Loaded) -> f64 {
    let base = super::capacity::base_rate(&loaded.scenario);
    let peak: f64 = loaded.config.producers.iter().map(|p| p.peak_rate).sum();
    if base > 0.0 { (peak / base).max(1.0) } else { 1.0 }
}

fn short(v: f64) -> String {
    super::constraint::short(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_scenario;
    use serde_json::{Value, json};

    fn loaded(esm: Value, function: Value) -> Loaded {
        let text = json!({ "name": "t", "topic": { "partitions": 12 },
            "producers": [{ "rate": 1000, "record_bytes": 1024, "key_bytes": 16 }],
            "esm": esm, "function": function });
        parse_scenario("t.json".as_ref(), &text.to_string(), &[]).unwrap()
    }

    #[test]
    fn factor_model_is_c_b_over_d() {
        // Factor 10, batches of 100, 10 ms + 50 µs per record = 15 ms: 10 × 100 / 0.015 s.
        let l = loaded(
            json!({ "batch_size": 100, "scaling": { "mode": "parallelization_factor", "factor": 10 } }),
            json!({ "duration": { "base": "10ms", "per_record": "50us" } }),
        );
        let found = caps(&l).unwrap();
        assert_eq!(found.len(), 1);
        assert!((found[0].records_per_second - 66_666.666).abs() < 0.01, "{found:?}");
        assert_eq!((found[0].kind, found[0].bound), ("concurrent_batches", "pollers"));
        assert_eq!(found[0].formula, "C·B/D = 10 × 100 / 15 ms");
    }

    #[test]
    fn pollers_throughput_and_reserved_concurrency() {
        // Provisioned, 2 pollers × 5 invocations = 10 batches of 100 at 20 ms + 0.5 ms × 100 =
        // 70 ms: 10 × 100 / 0.07 = 14,285.7 records/s; the pollers fetch 2 × 5 MB/s / 1,040 B =
        // 9,615.4 records/s, the lower.
        let l = loaded(
            json!({ "batch_size": 100, "scaling": { "mode": "provisioned", "min_pollers": 2, "max_pollers": 2 } }),
            json!({ "duration": { "base": "20ms", "per_record": "500us" } }),
        );
        let found = caps(&l).unwrap();
        assert_eq!(found[0].kind, "poller_throughput");
        assert!((found[0].records_per_second - 2.0 * 5_000_000.0 / 1040.0).abs() < 1e-6, "{found:?}");
        assert!((found[1].records_per_second - 1000.0 / 0.07).abs() < 1e-6);
        assert_eq!(found[1].bound, "poller_invocations");
        // Reserved concurrency 3 binds below the pollers' 10 invocations: 3 × 100 / 0.07.
        let l = loaded(
            json!({ "batch_size": 100, "scaling": { "mode": "provisioned", "min_pollers": 2, "max_pollers": 2 } }),
            json!({ "duration": { "base": "20ms", "per_record": "500us" }, "reserved_concurrency": 3 }),
        );
        let found = caps(&l).unwrap();
        assert_eq!((found[0].bound, found[0].records_per_second.round()), ("concurrency", (300.0f64 / 0.07).round()));
    }

    #[test]
    fn jitter_raises_the_mean_duration_and_sizes_must_be_fixed() {
        // σ = 0.2: mean factor e^0.02 = 1.0202; 12 on-demand pollers × 100 / (70 ms × 1.0202).
        let l = loaded(
            json!({ "batch_size": 100 }),
            json!({ "duration": { "base": "20ms", "per_record": "500us", "jitter_sigma": 0.2 } }),
        );
        let found = caps(&l).unwrap();
        let expected = 12.0 * 100.0 / (0.07 * 0.02f64.exp());
        assert!((found[0].records_per_second - expected).abs() < 1e-6, "{found:?}");
        assert_eq!(found[0].bound, "partitions", "12 partitions tie with 12 pollers; partitions named first");
        let text = json!({ "name": "t", "topic": { "partitions": 2 },
            "producers": [{ "rate": 10, "record_bytes": { "distribution": "uniform", "min": 1, "max": 9 } }] });
        let l = parse_scenario("t.json".as_ref(), &text.to_string(), &[]).unwrap();
        assert!(caps(&l).is_none());
    }
}
