//! `esmsim diff A.json B.json`: both scenarios on the same seeds, compared metric by metric.
//!
//! The runs are paired: seed `s` of A and seed `s` of B draw the same arrivals and durations
//! wherever the scenarios agree, so the difference `B − A` of each pair removes most of the
//! run-to-run noise, and the 95 % interval is Student's t on those differences:
//! `mean(d) ± t(0.975, n−1) × s_d / √n`. With one seed there is no interval.

use super::constraint::short;
use super::metrics::{METRICS, values};
use super::stats::t_975;
use super::{Done, Execution, Output};
use crate::error::Result;
use crate::output::write_files;
use crate::scenario::Loaded;
use serde::Serialize;

pub const DIFF_MD: &str = "diff.md";
pub const DIFF_JSON: &str = "diff.json";
/// Rows of the terminal's table.
const SHOWN: usize = 8;

/// One metric compared: means of A and B over the pairs where both have a value, and the paired
/// difference `B − A`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub metric: &'static str,
    /// Seeds at which both runs have the metric (latency is `null` when nothing committed).
    pub pairs: usize,
    pub a_mean: Option<f64>,
    pub b_mean: Option<f64>,
    pub difference: Option<f64>,
    /// 95 % interval of the mean paired difference; `None` with fewer than two pairs.
    pub ci95: Option<(f64, f64)>,
    /// `difference / a_mean`; `None` when A's mean is 0 and B's is not (0 when both are 0).
    pub relative_change: Option<f64>,
    /// The change is real: its interval leaves out 0, or (one seed) it is not 0.
    pub meaningful: bool,
}

impl Change {
    /// Compares one metric over paired runs (`a[i]` and `b[i]` share a seed).
    pub fn of(metric: &'static str, a: &[Option<f64>], b: &[Option<f64>]) -> Change {
        let pairs: Vec<(f64, f64)> = a.iter().zip(b).filter_map(|(x, y)| Some(((*x)?, (*y)?))).collect();
        let n = pairs.len();
        let mean = |f: &dyn Fn(&(f64, f64)) -> f64| (n > 0).then(|| pairs.iter().map(f).sum::<f64>() / n as f64);
        let (a_mean, b_mean, difference) = (mean(&|p| p.0), mean(&|p| p.1), mean(&|p| p.1 - p.0));
        let ci95 = difference.filter(|_| n > 1).map(|d| {
            let variance = pairs.iter().map(|p| (p.1 - p.0 - d).powi(2)).sum::<f64>() / (n - 1) as f64;
            let half = t_975(n - 1) * (variance / n as f64).sqrt();
            (d - half, d + half)
        });
        let relative_change = match (a_mean, difference) {
            (Some(_), Some(0.0)) => Some(0.0),
            (Some(a), Some(d)) if a != 0.0 => Some(d / a.abs()),
            _ => None,
        };
        let meaningful = match (difference, ci95) {
            (Some(_), Some((lo, hi))) => lo > 0.0 || hi < 0.0,
            (Some(d), None) => d != 0.0,
            _ => false,
        };
        Change { metric, pairs: n, a_mean, b_mean, difference, ci95, relative_change, meaningful }
    }

    /// Whether any pair differed: a change, meaningful or within the noise.
    pub fn changed(&self) -> bool {
        self.difference.is_some_and(|d| d != 0.0) || self.ci95.is_some_and(|(lo, hi)| lo != hi)
    }

    /// How large the change is, for ordering: relative where it can be, else infinite for a
    /// change from 0.
    fn size(&self) -> f64 {
        match (self.relative_change, self.difference) {
            (Some(r), _) => r.abs(),
            (None, Some(d)) if d != 0.0 => f64::INFINITY,
            _ => 0.0,
        }
    }
}

/// Every metric compared, in diff order: meaningful changes first, then changes within the
/// noise, each by relative size (largest first), then the unchanged; ties keep `METRICS` order.
pub fn compare(a_runs: &[Vec<Option<f64>>], b_runs: &[Vec<Option<f64>>]) -> Vec<Change> {
    let column = |runs: &[Vec<Option<f64>>], i: usize| runs.iter().map(|r| r[i]).collect::<Vec<_>>();
    let mut changes: Vec<Change> =
        METRICS.iter().enumerate().map(|(i, m)| Change::of(m.name, &column(a_runs, i), &column(b_runs, i))).collect();
    let class = |c: &Change| match (c.meaningful, c.changed()) {
        (true, _) => 0,
        (false, true) => 1,
        (false, false) => 2,
    };
    changes.sort_by(|x, y| class(x).cmp(&class(y)).then(y.size().total_cmp(&x.size())));
    changes
}

/// One side of the comparison, as `diff.json` names it.
#[derive(Serialize)]
struct Side {
    file: String,
    scenario: String,
    config_hash: String,
}

#[derive(Serialize)]
struct DiffJson<'a> {
    a: Side,
    b: Side,
    seeds: Vec<u64>,
    /// `difference` is B − A.
    changes: &'a [Change],
}

/// `esmsim diff`: runs A and B with the same seeds (A's seed + 0 .. seeds − 1) and writes
/// `diff.md`, `diff.json` and `report.html`.
pub fn diff(a: &Loaded, b: &Loaded, seeds: u32, exec: &Execution, out: Output) -> Result<Done> {
    let seed_list: Vec<u64> = (0..u64::from(seeds)).map(|o| a.scenario.seed.wrapping_add(o)).collect();
    let plan: Vec<(usize, u64)> =
        [0, 1].into_iter().flat_map(|s| seed_list.iter().map(move |&seed| (s, seed))).collect();
    let sides = [a, b];
    let results = exec.map(&plan, |&(side, seed)| {
        let loaded = sides[side];
        super::run::simulate(&loaded.config, seed, exec)
            .map(|report| (values(&report.summary), report.summary.config_hash))
            .map_err(|stopped| {
                crate::budget::stopped_error(&loaded.file, &stopped, &format!(" (in the run with seed {seed})"))
            })
    });
    let results = results.into_iter().collect::<Result<Vec<_>>>()?;
    let (a_runs, b_runs) = results.split_at(seed_list.len());
    let metrics = |runs: &[(Vec<Option<f64>>, String)]| runs.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    let changes = compare(&metrics(a_runs), &metrics(b_runs));
    let side = |l: &Loaded, runs: &[(Vec<Option<f64>>, String)]| Side {
        file: l.file.display().to_string(),
        scenario: l.scenario.name.clone(),
        config_hash: runs[0].1.clone(),
    };
    let json = DiffJson { a: side(a, a_runs), b: side(b, b_runs), seeds: seed_list.clone(), changes: &changes };
    let mut json = serde_json::to_vec_pretty(&json).expect("diff.json serialises");
    json.push(b'\n');
    let names = (a.file.display().to_string(), b.file.display().to_string());
    let md = markdown(&names, &seed_list, &changes);
    let page = super::diff_page::diff_page(&names, &seed_list, &changes);
    let mut files = write_files(out.dir, &[(DIFF_MD, md.into_bytes()), (DIFF_JSON, json)])?;
    let charts = match super::diff_page::changes_chart(&changes).filter(|_| out.charts) {
        Some(chart) => crate::report::write_chart(&chart, out.dir, super::diff_page::DIFF_CHART)?,
        None => Vec::new(),
    };
    files.extend(charts.iter().cloned());
    files.extend(crate::report::study::write_study_report(&page, &charts, out.dir)?);
    Ok(Done { files, text: terminal(&names, seeds, &changes) })
}

/// A value for people: four decimals at most, thousands separated.
pub(super) fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| crate::human::grouped(&short(v)))
}

pub(super) fn signed(v: Option<f64>) -> String {
    match v {
        Some(v) if v > 0.0 => format!("+{}", show(Some(v))),
        other => show(other),
    }
}

pub(super) fn percent(c: &Change) -> String {
    match (c.relative_change, c.difference) {
        (Some(r), _) => format!("{}{:.1} %", if r > 0.0 { "+" } else { "" }, r * 100.0),
        (None, Some(d)) if d != 0.0 => "new".into(),
        _ => "—".into(),
    }
}

pub(super) fn interval(c: &Change) -> String {
    match (c.ci95, c.pairs) {
        (Some((lo, hi)), _) => format!("[{}, {}]", signed(Some(lo)), signed(Some(hi))),
        (None, 1) => "one seed: no interval".into(),
        _ => "—".into(),
    }
}

/// `diff.md`: a table to paste into a pull request, the meaningful changes first, then a folded
/// list of the changes within the noise and a count of the unchanged.
pub fn markdown(names: &(String, String), seeds: &[u64], changes: &[Change]) -> String {
    let seed_text = match seeds {
        [one] => format!("seed {one}"),
        _ => format!("{} paired seeds ({} to {})", seeds.len(), seeds[0], seeds[seeds.len() - 1]),
    };
    let mut md = format!("## esmsim diff\n\n`{}` → `{}`, {seed_text}; change = B − A.\n\n", names.0, names.1);
    let row = |c: &Change| {
        format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.metric,
            show(c.a_mean),
            show(c.b_mean),
            signed(c.difference),
            percent(c),
            interval(c)
        )
    };
    let header = "| metric | A | B | change | relative | 95 % interval |\n|---|---:|---:|---:|---:|---|\n";
    let meaningful: Vec<&Change> = changes.iter().filter(|c| c.meaningful).collect();
    let noise: Vec<&Change> = changes.iter().filter(|c| !c.meaningful && c.changed()).collect();
    let unchanged = changes.len() - meaningful.len() - noise.len();
    if meaningful.is_empty() {
        md.push_str("No metric changed beyond the run-to-run noise.\n");
    } else {
        md.push_str(&format!("**{} metrics changed**, largest first:\n\n{header}", meaningful.len()));
        meaningful.iter().for_each(|c| md.push_str(&row(c)));
    }
    if !noise.is_empty() {
        md.push_str(&format!(
            "\n<details><summary>{} changes within the noise (the interval holds 0)</summary>\n\n{header}",
            noise.len()
        ));
        noise.iter().for_each(|c| md.push_str(&row(c)));
        md.push_str("\n</details>\n");
    }
    md.push_str(&format!("\n{unchanged} metrics unchanged.\n"));
    md
}

/// The terminal's answer: how many metrics changed, then the largest changes.
fn terminal(names: &(String, String), seeds: u32, changes: &[Change]) -> String {
    let meaningful: Vec<&Change> = changes.iter().filter(|c| c.meaningful).collect();
    let seeds_text = if seeds == 1 { "1 seed".to_string() } else { format!("{seeds} paired seeds") };
    let mut text = format!(
        "{} → {} over {seeds_text}: {} of {} metrics changed{}\n",
        names.0,
        names.1,
        meaningful.len(),
        changes.len(),
        if meaningful.is_empty() { " beyond the noise" } else { "; largest first:" }
    );
    if !meaningful.is_empty() {
        text.push_str(&format!("  {:<40} {:>14} {:>14} {:>10}  {}\n", "metric", "A", "B", "relative", "95 % interval"));
        for c in meaningful.iter().take(SHOWN) {
            let (a, b) = (show(c.a_mean), show(c.b_mean));
            text.push_str(&format!("  {:<40} {a:>14} {b:>14} {:>10}  {}\n", c.metric, percent(c), interval(c)));
        }
        if meaningful.len() > SHOWN {
            text.push_str(&format!("  … and {} more in diff.md\n", meaningful.len() - SHOWN));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_interval_by_hand() {
        // A = 10, 12, 14; B = 11, 14, 17: d = 1, 2, 3, mean 2, s_d = 1, n = 3:
        // half width t(2) × 1 / √3 = 4.3027 / 1.7321 = 2.4842; relative 2 / 12.
        let c = Change::of("m", &[Some(10.0), Some(12.0), Some(14.0)], &[Some(11.0), Some(14.0), Some(17.0)]);
        assert_eq!((c.pairs, c.a_mean, c.b_mean, c.difference), (3, Some(12.0), Some(14.0), Some(2.0)));
        let (lo, hi) = c.ci95.unwrap();
        assert!((hi - 2.0 - 4.3027 / 3f64.sqrt()).abs() < 1e-12 && (2.0 - lo - (hi - 2.0)).abs() < 1e-12);
        assert!((c.relative_change.unwrap() - 2.0 / 12.0).abs() < 1e-15);
        assert!(!c.meaningful, "the interval [-0.48, 4.48] holds 0");
        // d = 1, 1.1, 0.9: mean 1, s_d = 0.1, half 4.3027 × 0.1 / √3 = 0.248: [0.75, 1.25].
        let c = Change::of("m", &[Some(0.0), Some(0.0), Some(0.0)], &[Some(1.0), Some(1.1), Some(0.9)]);
        assert!(c.meaningful && c.relative_change.is_none());
    }

    #[test]
    fn one_seed_has_no_interval_and_missing_values_are_not_paired() {
        let c = Change::of("m", &[Some(4.0), None], &[Some(3.0), Some(9.0)]);
        assert_eq!((c.pairs, c.difference, c.ci95, c.relative_change), (1, Some(-1.0), None, Some(-0.25)));
        assert!(c.meaningful);
        let none = Change::of("m", &[None], &[None]);
        assert_eq!((none.pairs, none.difference, none.meaningful), (0, None, false));
    }

    #[test]
    fn order_is_meaningful_then_noise_then_unchanged() {
        let n = METRICS.len();
        let mut a = vec![vec![Some(100.0); n]; 2];
        let mut b = a.clone();
        // Metric 2 doubles (+100 %), metric 5 rises 10 % in both seeds, metric 7 moves +1/−1.
        for run in &mut b {
            run[2] = Some(200.0);
            run[5] = Some(110.0);
        }
        b[0][7] = Some(101.0);
        b[1][7] = Some(99.0);
        a[0][9] = None;
        let changes = compare(&a, &b);
        let names: Vec<&str> = changes.iter().take(3).map(|c| c.metric).collect();
        assert_eq!(names, [METRICS[2].name, METRICS[5].name, METRICS[7].name]);
        assert!(changes[0].meaningful && changes[1].meaningful && !changes[2].meaningful);
        assert_eq!(changes[0].ci95, Some((100.0, 100.0)), "no spread: a zero-width interval");
        let md = markdown(&("a.json".into(), "b.json".into()), &[1, 2], &changes);
        assert!(md.contains("**2 metrics changed**"), "{md}");
        assert!(
            md.contains(&format!("| `{}` | 100 | 200 | +100 | +100.0 % | [+100, +100] |", METRICS[2].name)),
            "{md}"
        );
        assert!(md.contains(&format!("{} metrics unchanged.", n - 3)), "{md}");
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(show(Some(1234567.5)), "1,234,567.5");
        assert_eq!(show(Some(-1234.0)), "-1,234");
        assert_eq!(show(Some(0.00001)), "0");
        assert_eq!(show(None), "—");
        assert_eq!(signed(Some(12.0)), "+12");
    }
}
