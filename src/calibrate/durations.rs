//! `--durations FILE`: fit `function.duration` (`base`, `per_record`, `jitter_sigma`) and
//! `function.cold_start.init` to measured invocations.
//!
//! The model is `duration = (base + per_record × records) × J`, with `J` log-normal of median 1
//! and shape `jitter_sigma`. Least squares of duration on records (weighted by 1 / fitted², as
//! the noise is multiplicative) estimates the *mean* line, which is the median line times `E[J] = exp(σ²/2)`; σ is the standard deviation of the
//! log residuals `ln(duration / fitted)`, and dividing the line by `exp(σ²/2)` gives `base` and
//! `per_record`. Init times (rows with `init_ms`) fit a log-normal by the mean and standard
//! deviation of their logarithms.

use crate::error::{Error, Result};
use serde_json::{Value, json};
use std::path::Path;

/// One measured invocation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Invocation {
    pub records: f64,
    pub duration_ms: f64,
    pub init_ms: Option<f64>,
    pub memory_mb: Option<u32>,
}

/// An estimate with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    fn around(value: f64, half_width: f64) -> Self {
        Estimate { value, low: value - half_width, high: value + half_width }
    }
}

/// What the fit found.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub invocations: usize,
    pub base_ms: Estimate,
    pub per_record_ms: Estimate,
    pub jitter_sigma: Estimate,
    /// Of the least-squares line, on durations.
    pub r_squared: f64,
    /// Cold starts: (median ms, sigma, how many).
    pub init: Option<(Estimate, f64, usize)>,
    pub memory_mb: Option<u32>,
}

/// The standard normal's 97.5 % quantile: intervals are for the large samples logs give.
const Z95: f64 = 1.959_964;

/// Reads `batch_records,duration_ms[,init_ms,memory_mb]` (a header row with those names).
pub fn read(file: &Path) -> Result<Vec<Invocation>> {
    let text = crate::text::read_capped(file, 256 << 20, "a durations file")?;
    let bad = |line: usize, message: String| Error::field(file, format!("line {line}"), message);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(1, format!("not CSV: {e}")))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(records), Some(duration)) = (column("batch_records"), column("duration_ms")) else {
        return Err(bad(1, "the header needs batch_records and duration_ms (optionally init_ms, memory_mb)".into()));
    };
    if let Some(extra) = header.iter().find(|h| !["batch_records", "duration_ms", "init_ms", "memory_mb"].contains(h)) {
        return Err(bad(
            1,
            format!("unknown column {extra:?}; allowed: batch_records, duration_ms, init_ms, memory_mb"),
        ));
    }
    let (init, memory) = (column("init_ms"), column("memory_mb"));
    let mut rows = vec![];
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| bad(line, e.to_string()))?;
        let cell = |c: usize| record.get(c).unwrap_or("");
        let number = |c: usize, name: &str| -> Result<f64> {
            match cell(c).parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(bad(line, format!("{name} {:?} is not a number ≥ 0", cell(c)))),
            }
        };
        let optional =
            |c: Option<usize>, name: &str| c.filter(|&c| !cell(c).is_empty()).map(|c| number(c, name)).transpose();
        rows.push(Invocation {
            records: number(records, "batch_records")?,
            duration_ms: number(duration, "duration_ms")?,
            init_ms: optional(init, "init_ms")?.filter(|v| *v > 0.0),
            memory_mb: optional(memory, "memory_mb")?.map(|m| m as u32),
        });
    }
    Ok(rows)
}

/// Fits the model; `file` names the data in errors.
pub fn fit(file: &Path, rows: &[Invocation]) -> Result<Fit> {
    let problem = |message: &str| Error::field(file, "(data)", message.to_string());
    let mut memories: Vec<u32> = rows.iter().filter_map(|r| r.memory_mb).collect();
    memories.sort_unstable();
    memories.dedup();
    if memories.len() > 1 {
        return Err(problem(&format!(
            "holds {} memory sizes ({memories:?}); durations depend on memory: fit one size at a time",
            memories.len()
        )));
    }
    let n = rows.len() as f64;
    if rows.len() < 3 {
        return Err(problem("needs at least 3 invocations"));
    }
    let xs: Vec<f64> = rows.iter().map(|r| r.records).collect();
    let ys: Vec<f64> = rows.iter().map(|r| r.duration_ms).collect();
    let mut line = weighted_line(&xs, &ys, &vec![1.0; rows.len()])
        .ok_or_else(|| problem("every invocation has the same batch_records: per_record cannot be told from base"))?;
    // Multiplicative noise: a row's spread grows with its duration, so weight by 1 / fitted²
    // (iterated), which also makes the intervals honest for large batches.
    for _ in 0..4 {
        let weights: Vec<f64> = xs.iter().map(|&x| 1.0 / (line.at(x).max(1e-9)).powi(2)).collect();
        line = weighted_line(&xs, &ys, &weights).unwrap_or(line);
    }
    let fitted = |x: f64| line.at(x);
    let mean_y = ys.iter().sum::<f64>() / n;
    let ssr: f64 = rows.iter().map(|r| (r.duration_ms - fitted(r.records)).powi(2)).sum();
    let sst: f64 = ys.iter().map(|y| (y - mean_y).powi(2)).sum();
    let r_squared = if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 };
    let (intercept, slope, se_intercept, se_slope) = (line.intercept, line.slope, line.se_intercept, line.se_slope);
    // Log residuals around the mean line: mean −σ²/2, standard deviation σ.
    let logs: Vec<f64> = rows
        .iter()
        .filter(|r| r.duration_ms > 0.0 && fitted(r.records) > 0.0)
        .map(|r| (r.duration_ms / fitted(r.records)).ln())
        .collect();
    let sigma = std_dev(&logs);
    let to_median = (-sigma * sigma / 2.0).exp();
    let sigma_half = Z95 * sigma / (2.0 * (logs.len().max(2) as f64 - 1.0)).sqrt();
    let init = init_fit(rows);
    Ok(Fit {
        invocations: rows.len(),
        base_ms: Estimate::around(intercept * to_median, Z95 * se_intercept * to_median),
        per_record_ms: Estimate::around(slope * to_median, Z95 * se_slope * to_median),
        jitter_sigma: Estimate::around(sigma, sigma_half),
        r_squared,
        init,
        memory_mb: memories.first().copied(),
    })
}

/// A weighted least-squares line with its standard errors.
#[derive(Clone, Copy, Debug)]
struct Line {
    intercept: f64,
    slope: f64,
    se_intercept: f64,
    se_slope: f64,
}

impl Line {
    fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// `None` when every x is the same.
fn weighted_line(xs: &[f64], ys: &[f64], ws: &[f64]) -> Option<Line> {
    let sw: f64 = ws.iter().sum();
    let mean_x = xs.iter().zip(ws).map(|(x, w)| w * x).sum::<f64>() / sw;
    let mean_y = ys.iter().zip(ws).map(|(y, w)| w * y).sum::<f64>() / sw;
    let sxx: f64 = xs.iter().zip(ws).map(|(x, w)| w * (x - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).zip(ws).map(|((x, y), w)| w * (x - mean_x) * (y - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let ssr: f64 = xs.iter().zip(ys).zip(ws).map(|((x, y), w)| w * (y - intercept - slope * x).powi(2)).sum();
    // Weights known up to a factor: the residual variance scales them (n − 2 degrees of freedom).
    let s2 = ssr / (xs.len() as f64 - 2.0);
    Some(Line {
        intercept,
        slope,
        se_intercept: (s2 * (1.0 / sw + mean_x * mean_x / sxx)).sqrt(),
        se_slope: (s2 / sxx).sqrt(),
    })
}

fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// A log-normal fit of the init times: median `exp(mean ln)` with its interval, and sigma.
fn init_fit(rows: &[Invocation]) -> Option<(Estimate, f64, usize)> {
    let logs: Vec<f64> = rows.iter().filter_map(|r| r.init_ms).map(f64::ln).collect();
    if logs.is_empty() {
        return None;
    }
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let sigma = std_dev(&logs);
    let half = Z95 * sigma / (logs.len() as f64).sqrt();
    let median = Estimate { value: mean.exp(), low: (mean - half).exp(), high: (mean + half).exp() };
    Some((median, sigma, logs.len()))
}

/// A duration in ms as the scenario writes it, to the microsecond.
fn ms(value: f64) -> String {
    let us = (value.max(0.0) * 1000.0).round() as u64;
    if us % 1000 == 0 { format!("{}ms", us / 1000) } else { format!("{us}us") }
}

impl Fit {
    /// The scenario patch: `function` fields to merge.
    pub fn patch(&self) -> Value {
        let mut duration = json!({
            "base": ms(self.base_ms.value),
            "per_record": ms(self.per_record_ms.value),
            "jitter_sigma": (self.jitter_sigma.value * 1000.0).round() / 1000.0,
        });
        let mut function = json!({});
        if let Some(mb) = self.memory_mb {
            duration["reference_memory_mb"] = json!(mb);
            function["memory_mb"] = json!(mb);
        }
        function["duration"] = duration;
        if let Some((median, sigma, _)) = self.init {
            let sigma = (sigma * 1000.0).round() / 1000.0;
            let init = if sigma > 0.0 {
                json!({ "distribution": "lognormal", "median": ms(median.value), "sigma": sigma })
            } else {
                json!(ms(median.value))
            };
            function["cold_start"] = json!({ "init": init });
        }
        json!({ "function": function })
    }

    /// The patch as `--set` arguments.
    pub fn set_lines(&self) -> Vec<String> {
        let mut lines = vec![];
        flatten("", &self.patch(), &mut lines);
        lines
    }

    /// The fit for people: values with intervals, R², the patch as --set lines.
    pub fn report(&self) -> String {
        let e = |x: &Estimate| format!("{:.4} ms (95 % interval {:.4} to {:.4})", x.value, x.low, x.high);
        let mut text = format!(
            "fitted {} invocations: duration = (base + per_record × records) × lognormal jitter\n",
            self.invocations
        );
        text += &format!("base           {}\n", e(&self.base_ms));
        text += &format!("per_record     {}\n", e(&self.per_record_ms));
        text += &format!(
            "jitter_sigma   {:.4} (95 % interval {:.4} to {:.4})\n",
            self.jitter_sigma.value, self.jitter_sigma.low, self.jitter_sigma.high
        );
        text += &format!("R²             {:.4} (least-squares line on durations)\n", self.r_squared);
        if let Some((median, sigma, n)) = &self.init {
            text += &format!("init           median {} lognormal sigma {sigma:.4}, from {n} cold starts\n", e(median));
        }
        text
    }
}

/// `{"a": {"b": 1}}` as `a.b=1`, objects with a `distribution` kept whole.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value.as_object() {
        Some(map) if !map.contains_key("distribution") => {
            for (key, item) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, item, out);
            }
        }
        _ => out.push(match value {
            Value::String(s) => format!("{prefix}={s}"),
            other => format!("{prefix}={other}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(records: f64, duration_ms: f64) -> Invocation {
        Invocation { records, duration_ms, init_ms: None, memory_mb: None }
    }

    #[test]
    fn an_exact_line_is_recovered_with_zero_jitter() {
        // 20 ms + 0.5 ms per record, no noise: R² = 1, sigma 0.
        let rows: Vec<Invocation> = [10.0, 50.0, 100.0, 400.0].iter().map(|&n| row(n, 20.0 + 0.5 * n)).collect();
        let fit = fit(Path::new("d.csv"), &rows).unwrap();
        assert!((fit.base_ms.value - 20.0).abs() < 1e-9 && (fit.per_record_ms.value - 0.5).abs() < 1e-12);
        assert!(fit.jitter_sigma.value < 1e-9 && (fit.r_squared - 1.0).abs() < 1e-12);
        assert_eq!(
            fit.set_lines(),
            ["function.duration.base=20ms", "function.duration.jitter_sigma=0.0", "function.duration.per_record=500us"]
        );
    }

    #[test]
    fn degenerate_data_is_refused() {
        let same: Vec<Invocation> = (0..5).map(|i| row(100.0, 10.0 + i as f64)).collect();
        assert!(fit(Path::new("d.csv"), &same).unwrap_err().to_string().contains("same batch_records"));
        let mut mixed: Vec<Invocation> = (0..5).map(|i| row(i as f64, 10.0)).collect();
        mixed[0].memory_mb = Some(512);
        mixed[1].memory_mb = Some(1024);
        assert!(fit(Path::new("d.csv"), &mixed).unwrap_err().to_string().contains("memory sizes"));
    }
}
