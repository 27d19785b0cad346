//! `--constraint 'latency_ms.p99<=2000'`: a bound on a metric's mean over seeds.

use super::metrics::metric_index;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Op {
    /// Two-character operators first, so `<=` is not read as `<`.
    const SYMBOLS: [(&'static str, Op); 4] =
        [("<=", Op::AtMost), (">=", Op::AtLeast), ("<", Op::Below), (">", Op::Above)];

    fn symbol(self) -> &'static str {
        Op::SYMBOLS.iter().find(|(_, op)| *op == self).map_or("?", |(s, _)| s)
    }

    fn negation(self) -> &'static str {
        match self {
            Op::AtMost => ">",
            Op::Below => ">=",
            Op::AtLeast => "<",
            Op::Above => "<=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub metric: String,
    /// Position in the metric columns.
    pub index: usize,
    pub op: Op,
    pub bound: f64,
}

impl Constraint {
    /// Parses `METRIC<=NUMBER` (or `<`, `>=`, `>`), checking that the metric exists.
    pub fn parse(text: &str) -> Result<Constraint> {
        Constraint::parse_flag("--constraint", text)
    }

    /// As [`Constraint::parse`], for the flag named in errors (`--constraint`, `--slo`).
    pub fn parse_flag(flag: &str, text: &str) -> Result<Constraint> {
        let argument = format!("{flag} {text}");
        let usage = "expected METRIC<=NUMBER (or <, >=, >), e.g. 'latency_ms.p99<=2000'";
        let bad = |message: String| Error::Argument { argument: argument.clone(), message };
        let (at, symbol, op) = Op::SYMBOLS
            .iter()
            .filter_map(|&(symbol, op)| text.find(symbol).map(|at| (at, symbol, op)))
            .min_by_key(|&(at, symbol, _)| (at, std::cmp::Reverse(symbol.len())))
            .ok_or_else(|| bad(usage.to_string()))?;
        let metric = text[..at].trim();
        let bound_text = text[at + symbol.len()..].trim();
        let bound: f64 = bound_text
            .parse()
            .ok()
            .filter(|b: &f64| b.is_finite())
            .ok_or_else(|| bad(format!("{bound_text:?} is not a number; {usage}")))?;
        if metric.is_empty() {
            return Err(bad(usage.to_string()));
        }
        let index = metric_index(&argument, metric)?;
        Ok(Constraint { metric: metric.to_string(), index, op, bound })
    }

    pub fn holds(&self, value: Option<f64>) -> bool {
        let Some(v) = value else { return false };
        match self.op {
            Op::AtMost => v <= self.bound,
            Op::Below => v < self.bound,
            Op::AtLeast => v >= self.bound,
            Op::Above => v > self.bound,
        }
    }

    /// How far a value misses the bound, relative to the bound: 0 when it holds, infinite when
    /// the metric is empty. Ranks near misses ahead of far ones.
    pub fn excess(&self, value: Option<f64>) -> f64 {
        match value {
            _ if self.holds(value) => 0.0,
            None => f64::INFINITY,
            Some(v) => (v - self.bound).abs() / self.bound.abs().max(1e-12),
        }
    }

    /// Why a value fails, e.g. `latency_ms.p99 = 3412.5 > 2000`.
    pub fn violation(&self, value: Option<f64>) -> String {
        match value {
            None => format!("{} is empty (nothing committed)", self.metric),
            Some(v) => format!("{} = {} {} {}", self.metric, short(v), self.op.negation(), self.bound),
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.metric, self.op.symbol(), self.bound)
    }
}

/// A value for people: at most 4 significant decimals, no float noise.
pub fn short(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operators_and_checks_values() {
        let c = Constraint::parse("latency_ms.p99<=2000").unwrap();
        assert_eq!((c.metric.as_str(), c.op, c.bound), ("latency_ms.p99", Op::AtMost, 2000.0));
        assert!(c.holds(Some(2000.0)) && !c.holds(Some(2000.1)) && !c.holds(None));
        assert_eq!(c.violation(Some(3412.5)), "latency_ms.p99 = 3412.5 > 2000");
        assert_eq!(c.to_string(), "latency_ms.p99<=2000");
        assert_eq!(Constraint::parse(" lag.final_records < 10 ").unwrap().op, Op::Below);
        assert_eq!(Constraint::parse("throughput.mean_records_per_second>=5e3").unwrap().bound, 5000.0);
    }

    #[test]
    fn rejects_malformed_constraints_and_unknown_metrics() {
        for bad in ["latency_ms.p99", "latency_ms.p99<=", "<=5", "latency_ms.p99<=fast", "latency_ms.p42<=1"] {
            let e = Constraint::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("--constraint "), "{e}");
        }
    }
}
