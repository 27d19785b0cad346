//! Statistics of one metric over the seeds of a grid point: mean, min, max and a 95 % confidence
//! interval of the mean from Student's t distribution. Values are summed in seed order, so the
//! same inputs give the same bits whatever order the runs finished in.

/// Mean, extremes and the 95 % interval of the mean of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// `mean ± t(0.975, n−1) × s / √n`, with `s` the sample standard deviation; `None` for a
    /// single value, which says nothing about spread.
    pub ci95: Option<(f64, f64)>,
}

impl Stats {
    /// The statistics of the present values; `None` when no value is present (a metric that was
    /// `null` in every run, such as latency when nothing was committed).
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Option<Stats> {
        let values: Vec<f64> = values.into_iter().flatten().collect();
        let count = values.len();
        if count == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / count as f64;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ci95 = (count > 1).then(|| {
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1) as f64;
            let half_width = t_975(count - 1) * (variance / count as f64).sqrt();
            (mean - half_width, mean + half_width)
        });
        Some(Stats { count, mean, min, max, ci95 })
    }
}

/// Student's t quantiles at 0.975 for 1 to 30 degrees of freedom (four decimals).
const T_975: [f64; 30] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448,
    2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484,
    2.0452, 2.0423,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom (df ≥ 1): the table up to 30,
/// then the Cornish–Fisher expansion around the normal quantile (error below 1e-4 there).
pub fn t_975(df: usize) -> f64 {
    if let Some(&t) = df.checked_sub(1).and_then(|i| T_975.get(i)) {
        return t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_extremes_and_t_interval() {
        let s = Stats::of([Some(1.0), Some(2.0), None, Some(3.0)]).unwrap();
        assert_eq!((s.count, s.mean, s.min, s.max), (3, 2.0, 1.0, 3.0));
        // s = 1, n = 3: half width t(2) / √3 = 4.3027 / 1.7321.
        let (lo, hi) = s.ci95.unwrap();
        assert!((hi - 2.0 - 4.3027 / 3f64.sqrt()).abs() < 1e-9 && (2.0 - lo - (hi - 2.0)).abs() < 1e-12);
        assert_eq!(Stats::of([Some(5.0)]).unwrap().ci95, None);
        assert_eq!(Stats::of([None, None]), None);
    }

    #[test]
    fn t_quantile_joins_the_table_and_tends_to_normal() {
        assert!((t_975(31) - 2.0395).abs() < 2e-4, "{}", t_975(31));
        assert!((t_975(60) - 2.0003).abs() < 2e-4, "{}", t_975(60));
        assert!((t_975(100_000) - 1.96).abs() < 1e-3);
        assert_eq!(t_975(1), 12.7062);
    }
}
