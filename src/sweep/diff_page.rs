//! Diff's `report.html`: `diff.md`'s table for a browser, the answer first (how many metrics
//! changed beyond the noise and the largest changes), then the meaningful changes largest first,
//! then the changes within the noise, and one chart: the relative change of each meaningful
//! metric by rank, since the metrics' own units differ and only the relative change compares.

use super::diff::{Change, interval, percent, show, signed};
use crate::report::axis::{Axis, Bounds};
use crate::report::canvas::palette;
use crate::report::scatter::{Guide, PointSet, Scatter};
use crate::report::study::{StudyPage, Table};

/// Changes named in the answer.
const NAMED: usize = 3;
/// Changes drawn on the chart: the largest, so the rank axis stays readable.
const CHARTED: usize = 25;
/// The chart's file stem (`diff-changes.png`, `.svg`).
pub const DIFF_CHART: &str = "diff-changes";

/// The meaningful changes with a relative change (a change from 0 has none), largest first, as
/// (relative change in %, rank) with the metric and its values as each dot's tooltip; `None`
/// when nothing changed beyond the noise.
pub fn changes_chart(changes: &[Change]) -> Option<Scatter> {
    let charted: Vec<(usize, &Change, f64)> = changes
        .iter()
        .filter(|c| c.meaningful)
        .filter_map(|c| c.relative_change.map(|r| (c, r * 100.0)))
        .take(CHARTED)
        .enumerate()
        .map(|(i, (c, r))| (i + 1, c, r))
        .collect();
    if charted.is_empty() {
        return None;
    }
    let dots = |up: bool| {
        charted.iter().filter(move |(_, _, r)| (*r > 0.0) == up).map(|&(rank, c, r)| {
            let label = format!("{}. {}: {} → {} ({})", rank, c.metric, show(c.a_mean), show(c.b_mean), percent(c));
            ((r, rank as f64), label)
        })
    };
    let sets = vec![
        PointSet::labelled("B above A", palette::VERMILION, dots(true)),
        PointSet::labelled("B below A", palette::BLUE, dots(false)),
    ];
    let chart = Scatter::new(
        format!("Relative change B − A of the {} largest meaningful changes", charted.len()),
        Axis::linear("relative change (%), B against A", Bounds::Data),
        Axis::linear("rank (1 = largest; hover a dot for its metric)", Bounds::FromZero),
        sets,
    );
    Some(chart.with_guides(vec![Guide::vertical(0.0, "no change").coloured(palette::GREY)]))
}

fn changes_table(title: String, changes: &[&Change]) -> Table {
    let headers = ["metric", "A", "B", "change (B − A)", "relative", "95 % interval"].map(String::from).to_vec();
    let mut table = Table::new(title, headers);
    for c in changes {
        let row = [c.metric.to_string(), show(c.a_mean), show(c.b_mean), signed(c.difference), percent(c), interval(c)];
        table.rows.push(row.to_vec());
    }
    table
}

/// The page of `diff A B`: `names` are the two files, `changes` in diff order.
pub fn diff_page(names: &(String, String), seeds: &[u64], changes: &[Change]) -> StudyPage {
    let meaningful: Vec<&Change> = changes.iter().filter(|c| c.meaningful).collect();
    let noise: Vec<&Change> = changes.iter().filter(|c| !c.meaningful && c.changed()).collect();
    let unchanged = changes.len() - meaningful.len() - noise.len();
    let seeds_text = match seeds.len() {
        1 => format!("seed {}", seeds[0]),
        n => format!("{n} paired seeds"),
    };
    let mut answer = vec![if meaningful.is_empty() {
        format!("No metric changed beyond the run-to-run noise over {seeds_text} ({} metrics compared).", changes.len())
    } else {
        format!(
            "{} of {} metrics changed beyond the run-to-run noise over {seeds_text}; B − A, largest first.",
            meaningful.len(),
            changes.len()
        )
    }];
    if !meaningful.is_empty() {
        let named: Vec<String> = meaningful
            .iter()
            .take(NAMED)
            .map(|c| format!("{} {} ({} → {})", c.metric, percent(c), show(c.a_mean), show(c.b_mean)))
            .collect();
        answer.push(format!("Largest: {}.", named.join("; ")));
    }
    let mut tables = Vec::new();
    if !meaningful.is_empty() {
        tables.push(changes_table("Changes beyond the noise, largest first".into(), &meaningful));
    }
    if !noise.is_empty() {
        tables.push(changes_table(format!("{} changes within the noise (the interval holds 0)", noise.len()), &noise));
    }
    StudyPage {
        title: format!("Diff: {} → {}", names.0, names.1),
        meta: format!(
            "A = {}, B = {} · {seeds_text}, seeds {:?} · change = B − A · esmsim {}",
            names.0,
            names.1,
            seeds,
            env!("CARGO_PKG_VERSION")
        ),
        answer,
        commands: None,
        tables,
        notes: vec![
            format!("{unchanged} metrics unchanged (diff.json lists every metric)."),
            "Runs are paired: seed s of A and of B draw the same arrivals and durations wherever the scenarios agree, so the 95 % interval (Student's t on the paired differences) leaves out most of the run-to-run noise; with one seed there is no interval.".into(),
            "relative = change / |A|; new = a change from 0.".into(),
        ],
    }
}
