//! Tune's `report.html` and terminal table: the winner first (its settings, its metrics, the
//! settings that tie with it and those it does not depend on), the commands that deploy it, then
//! the top configurations (identical results once) and the closest misses.

use super::metrics::metric_names;
use super::pages::{TABLE_METRICS, config_label, metric_cell};
use super::tune::{Outcome, insensitive_to, spec};
use super::{Prepared, charts::path_short};
use crate::report::study::{StudyPage, Table};
use serde_json::Value;

/// Rows of the top table: short enough for a terminal.
pub const TOP_ROWS: usize = 10;
/// Infeasible configurations listed as the closest misses.
const MISSES: usize = 5;
/// Tied configurations named in the answer; the rest are counted.
const TIES_NAMED: usize = 4;

/// A metric's column header: the study tables' name for it, else its `sweep.csv` column.
fn header(metric: &str) -> String {
    TABLE_METRICS.iter().find(|(m, _)| *m == metric).map_or_else(|| metric.to_string(), |(_, h)| h.to_string())
}

impl Outcome<'_> {
    /// The metrics the tables show: the objective, the constrained metrics, then the usual ones.
    fn shown_metrics(&self) -> Vec<usize> {
        let names = metric_names();
        let goal = std::iter::once(self.goal.objective).chain(self.goal.constraints.iter().map(|c| c.index));
        let usual = TABLE_METRICS.iter().filter_map(|(m, _)| names.iter().position(|n| n == m));
        let mut shown = Vec::new();
        for i in goal.chain(usual) {
            if !shown.contains(&i) {
                shown.push(i);
            }
        }
        shown
    }

    /// `cost/month $69.10, p99 latency 582.7 ms`: the objective's and the constraints' metrics.
    fn key_text(&self, point: usize) -> String {
        let names = metric_names();
        let goal = std::iter::once(self.goal.objective).chain(self.goal.constraints.iter().map(|c| c.index));
        let mut seen: Vec<usize> = Vec::new();
        for i in goal {
            if !seen.contains(&i) {
                seen.push(i);
            }
        }
        let cell = |i: usize| format!("{} {}", header(&names[i]), metric_cell(&names[i], self.stats[point].mean(i)));
        seen.into_iter().map(cell).collect::<Vec<_>>().join(", ")
    }

    /// The top configurations: one row per group of identical results, best first.
    fn top_table(&self, p: &Prepared) -> Table {
        let grid = &p.study.grid;
        let names = metric_names();
        let shown = self.shown_metrics();
        let mut headers = vec!["rank".to_string()];
        headers.extend(grid.paths().into_iter().map(path_short));
        headers.extend(shown.iter().map(|&i| header(&names[i])));
        headers.push("same result".into());
        let title = format!(
            "Top configurations by {} ({} of {} distinct feasible results; identical results once)",
            names[self.goal.objective],
            self.groups.len().min(TOP_ROWS),
            self.groups.len()
        );
        let mut table = Table::new(title, headers);
        for (rank, group) in self.groups.iter().take(TOP_ROWS).enumerate() {
            let point = group[0];
            let mut row = vec![(rank + 1).to_string()];
            row.extend(grid.values(point).into_iter().map(String::from));
            row.extend(shown.iter().map(|&i| metric_cell(&names[i], self.stats[point].mean(i))));
            row.push(match group.len() {
                1 => String::new(),
                n => format!("+{} more", n - 1),
            });
            table.rows.push(row);
        }
        table
    }

    /// The infeasible finalists nearest to meeting the constraints, with what they miss.
    fn misses_table(&self, p: &Prepared) -> Option<Table> {
        let grid = &p.study.grid;
        let finalists: Vec<&super::summary::PointStats> = self.finalists().collect();
        let order = super::tune::ranked(self.goal, &finalists);
        let misses: Vec<usize> = order.into_iter().filter(|&i| !self.feasible.contains(&i)).take(MISSES).collect();
        if misses.is_empty() {
            return None;
        }
        let mut headers: Vec<String> = grid.paths().into_iter().map(path_short).collect();
        headers.push("misses".into());
        let mut table = Table::new("Closest misses (infeasible, nearest first)", headers);
        for i in misses {
            let mut row: Vec<String> = grid.values(i).into_iter().map(String::from).collect();
            row.push(self.violations_text(i));
            table.rows.push(row);
        }
        Some(table)
    }

    /// The answer in sentences: the winner, its ties, what it does not depend on, the rest.
    fn answer(&self, p: &Prepared) -> Vec<String> {
        let grid = &p.study.grid;
        let mut answer = Vec::new();
        let Some(&best) = self.feasible.first() else {
            let constraints: Vec<String> = self.goal.constraints.iter().map(ToString::to_string).collect();
            answer.push(format!("No configuration meets {}.", constraints.join(" and ")));
            answer.push(self.failures_text().trim_end().to_string());
            return answer;
        };
        answer.push(format!("Best: {} — {}.", config_label(grid, best), self.key_text(best)));
        let ties = &self.groups[0][1..];
        if !ties.is_empty() {
            let named: Vec<String> = ties.iter().take(TIES_NAMED).map(|&i| config_label(grid, i)).collect();
            let more = ties.len().saturating_sub(TIES_NAMED);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            answer.push(format!("The same result (every metric's mean) from: {}{more}.", named.join("; ")));
        }
        let insensitive = insensitive_to(grid, self.stats, best);
        if !insensitive.is_empty() {
            let paths: Vec<String> = insensitive.iter().map(|p| path_short(p)).collect();
            answer.push(format!(
                "The result does not depend on {}: every value searched gives the same result.",
                paths.join(", ")
            ));
        }
        answer.push(self.failures_text().trim_end().to_string());
        answer
    }

    /// Tune's page. `robust` is `--robust`'s verdict, when it ran.
    pub(super) fn page(&self, p: &Prepared, runs: usize, robust: Option<&str>) -> StudyPage {
        let spec = spec(p);
        let name = p.points.first().map_or("", |l| l.scenario.name.as_str());
        let constraints: Vec<String> = self.goal.constraints.iter().map(ToString::to_string).collect();
        let subject = if constraints.is_empty() { String::new() } else { format!(" with {}", constraints.join(", ")) };
        let mut answer = self.answer(p);
        answer.extend(robust.map(|r| r.trim_end().replace('\n', " · ")));
        let mut tables = vec![self.top_table(p)];
        tables.extend(self.misses_table(p));
        StudyPage {
            title: format!("Tune: {name}"),
            meta: format!(
                "minimise {}{subject} · {} configurations × up to {} seeds ({}), {runs} runs · means over seeds · esmsim {}",
                spec.minimize,
                self.stats.len(),
                p.study.seeds,
                spec.strategy.name(),
                env!("CARGO_PKG_VERSION")
            ),
            answer,
            commands: self.aws.map(|settings| aws_text(settings, p)).filter(|t| !t.is_empty()),
            tables,
            notes: vec![
                "Values are means over the seeds each configuration ran; tune.csv has every configuration and why it failed.".into(),
                "On the chart the best configuration is ringed, dashed orange-red lines are the constraints, and hovering over a point shows its configuration.".into(),
                "The commands deploy exactly the searched settings of the best configuration; the check line runs the scenario with them.".into(),
            ],
        }
    }
}

/// The winner's AWS commands, notes and `check:` line, as the terminal prints them.
pub fn aws_text(settings: &Value, p: &Prepared) -> String {
    let mut text = String::new();
    for command in settings["commands"].as_array().into_iter().flatten() {
        text.push_str(&format!("{}\n", command.as_str().unwrap_or_default()));
    }
    for note in settings["notes"].as_array().into_iter().flatten() {
        text.push_str(&format!("note: {}\n", note.as_str().unwrap_or_default()));
    }
    let sets: Vec<String> = settings["scenario_sets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(|s| format!(" --set '{s}'")))
        .collect();
    if !sets.is_empty() {
        text.push_str(&format!("check: esmsim run {}{}\n", p.study.base.file.display(), sets.concat()));
    }
    text
}
