//! `report.html`: one self-contained page (inline CSS, inline SVG charts, no scripts, no external
//! references) so it can be mailed or attached to a ticket as a single file. Nothing on it
//! depends on when or where it was made: the same run gives the same bytes.

use super::summary_rows::{self, Section};
use crate::metrics::Summary;
use std::fmt::Write;

/// What the page shows.
pub struct RunPage<'a> {
    pub summary: &'a Summary,
    pub description: &'a str,
    /// The resolved scenario as pretty JSON.
    pub scenario_json: &'a str,
    pub warnings: &'a [String],
    /// (anchor id, SVG document) in display order.
    pub charts: &'a [(&'a str, &'a str)],
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
       color: #222; background: #f6f7f9; margin: 0; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 0 0 6px; color: #444; }
.meta { color: #555; margin: 0 0 12px; }
nav a { margin-right: 14px; color: #0072b2; text-decoration: none; }
figure { margin: 0 0 20px; }
figure svg { width: 100%; height: auto; display: block; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 18px 28px; }
table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.unit { color: #666; }
.warnings li { color: #8a4b00; }
.verdict { font-size: 1.1em; }
pre { background: #f3f4f6; padding: 12px 14px; overflow-x: auto; font-size: 0.85em; border-radius: 4px; }
";

/// The page up to and including `<main>`, with `title` in the tab.
pub fn head(title: &str) -> String {
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(html, "<title>esmsim: {}</title>\n<style>{STYLE}</style>\n</head>", escape(title));
    html.push_str("<body>\n<main>\n");
    html
}

/// Closes what [`head`] opened.
pub const TAIL: &str = "</main>\n</body>\n</html>\n";

pub fn run_page(page: &RunPage) -> String {
    let s = page.summary;
    let mut html = head(&s.scenario);
    let _ = writeln!(html, "<h1>{}</h1>", escape(&s.scenario));
    let _ = writeln!(
        html,
        "<p class=\"meta\">seed {} · config {} · {} s simulated · esmsim {}</p>",
        s.seed,
        escape(&s.config_hash),
        s.simulated_seconds,
        escape(&s.esmsim_version)
    );
    let _ = writeln!(html, "<p class=\"verdict\"><strong>Verdict:</strong> {}</p>", escape(&s.verdict()));
    if !page.description.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(page.description));
    }
    html.push_str("<nav><a href=\"#warnings\">Warnings</a><a href=\"#summary\">Summary</a>");
    html.push_str("<a href=\"#charts\">Charts</a><a href=\"#scenario\">Scenario</a></nav>\n");
    // Warnings first: they may say the numbers below rest on a setting AWS would reject.
    warnings(&mut html, page.warnings);
    summary(&mut html, s);
    charts(&mut html, page.charts);
    let _ = writeln!(html, "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>", escape(page.scenario_json));
    html.push_str(TAIL);
    html
}

fn warnings(html: &mut String, warnings: &[String]) {
    html.push_str("<h2 id=\"warnings\">Warnings</h2>\n");
    if warnings.is_empty() {
        html.push_str("<p>None.</p>\n");
        return;
    }
    html.push_str("<ul class=\"warnings\">\n");
    for w in warnings {
        let _ = writeln!(html, "<li>{}</li>", escape(w));
    }
    html.push_str("</ul>\n");
}

fn charts(html: &mut String, charts: &[(&str, &str)]) {
    html.push_str("<h2 id=\"charts\">Charts</h2>\n");
    for (id, svg) in charts {
        // The SVG is plotters' output, which escapes its text; it is embedded as it is.
        let _ = writeln!(html, "<figure id=\"chart-{}\">\n{}\n</figure>", escape(id), svg.trim());
    }
}

fn summary(html: &mut String, s: &Summary) {
    html.push_str("<h2 id=\"summary\">Summary</h2>\n<div class=\"grid\">\n");
    for section in summary_rows::sections(s) {
        section_table(html, &section);
    }
    html.push_str("</div>\n");
    if s.poison_pills.is_empty() {
        return;
    }
    html.push_str("<h3 style=\"margin-top:20px\">Poison pills</h3>\n<table>\n<tr>");
    for column in summary_rows::POISON_COLUMNS {
        let _ = write!(html, "<th>{}</th>", escape(column));
    }
    html.push_str("</tr>\n");
    for pill in &s.poison_pills {
        html.push_str("<tr>");
        for cell in summary_rows::poison_cells(pill) {
            let _ = write!(html, "<td>{}</td>", escape(&cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

fn section_table(html: &mut String, section: &Section) {
    let _ = writeln!(html, "<section>\n<h3>{}</h3>\n<table>", escape(section.title));
    for (label, value, unit) in &section.rows {
        let _ = writeln!(
            html,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"unit\">{}</td></tr>",
            escape(label),
            escape(value),
            escape(unit)
        );
    }
    html.push_str("</table>\n</section>\n");
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page of a scenario of several mappings shows.
pub struct MappingsPage<'a> {
    pub report: &'a crate::MappingsReport,
    pub description: &'a str,
    pub scenario_json: &'a str,
    pub warnings: &'a [String],
    pub charts: &'a [(&'a str, &'a str)],
}

/// The totals' verdict first, then the mappings side by side, the poller groups' bills, the
/// totals, the charts (one line per mapping) and the scenario. Each mapping's own page is in
/// `mappings/<name>/report.html`.
pub fn mappings_page(page: &MappingsPage) -> String {
    let r = page.report;
    let s = &r.totals.summary;
    let mut html = head(&s.scenario);
    let _ = writeln!(html, "<h1>{}</h1>", escape(&s.scenario));
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} mappings · seed {} · config {} · {} s simulated · esmsim {}</p>",
        r.mappings.len(),
        s.seed,
        escape(&s.config_hash),
        s.simulated_seconds,
        escape(&s.esmsim_version)
    );
    let _ =
        writeln!(html, "<p class=\"verdict\"><strong>Verdict (all mappings):</strong> {}</p>", escape(&s.verdict()));
    if !page.description.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(page.description));
    }
    html.push_str("<nav><a href=\"#warnings\">Warnings</a><a href=\"#mappings\">Mappings</a>");
    html.push_str(
        "<a href=\"#summary\">Totals</a><a href=\"#charts\">Charts</a><a href=\"#scenario\">Scenario</a></nav>\n",
    );
    warnings(&mut html, page.warnings);
    mappings_table(&mut html, r);
    summary(&mut html, s);
    charts(&mut html, page.charts);
    let _ = writeln!(html, "<h2 id=\"scenario\">Scenario</h2>\n<pre>{}</pre>", escape(page.scenario_json));
    html.push_str(TAIL);
    html
}

/// A row of the mappings table: one summary's value, as shown.
type Cell = fn(&Summary) -> String;

/// One column per mapping and one for the total; then the poller groups.
fn mappings_table(html: &mut String, r: &crate::MappingsReport) {
    use crate::human::{count, decimal, duration_ms};
    html.push_str("<h2 id=\"mappings\">Mappings</h2>\n<table>\n<tr><th></th>");
    for (name, _) in &r.mappings {
        let _ = write!(html, "<th><a href=\"mappings/{0}/report.html\">{0}</a></th>", escape(name));
    }
    html.push_str("<th>total</th></tr>\n");
    let rows: [(&str, Cell); 9] = [
        ("records produced", |s| count(s.records.produced)),
        ("records succeeded", |s| count(s.records.succeeded)),
        ("invocations", |s| count(s.invocations.total)),
        ("throttled", |s| count(s.invocations.throttled)),
        ("cold starts", |s| count(s.invocations.cold_starts)),
        ("max lag (records)", |s| count(s.lag.max_records)),
        ("latency p99", |s| s.latency_ms.p99.map_or("-".to_string(), duration_ms)),
        ("pollers cost", |s| format!("${}", decimal(s.cost_usd.pollers, 4))),
        ("total cost", |s| format!("${}", decimal(s.cost_usd.total, 4))),
    ];
    for (label, cell) in rows {
        let _ = write!(html, "<tr><th scope=\"row\">{}</th>", escape(label));
        for (_, mapping) in &r.mappings {
            let _ = write!(html, "<td class=\"num\">{}</td>", escape(&cell(&mapping.summary)));
        }
        let _ = writeln!(html, "<td class=\"num\"><strong>{}</strong></td></tr>", escape(&cell(&r.totals.summary)));
    }
    html.push_str("</table>\n");
    if r.poller_groups.is_empty() {
        return;
    }
    html.push_str("<h3 style=\"margin-top:20px\">Poller groups</h3>\n<table>\n");
    html.push_str("<tr><th>group</th><th>mappings</th><th>EPU-hours</th><th>cost</th><th>billed alone</th></tr>\n");
    for g in &r.poller_groups {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">${}</td><td class=\"num\">{} EPU-hours, ${}</td></tr>",
            escape(&g.name),
            escape(&g.mappings.join(", ")),
            decimal(g.epu_hours, 2),
            decimal(g.cost_usd, 4),
            decimal(g.ungrouped_epu_hours, 2),
            decimal(g.ungrouped_cost_usd, 4)
        );
    }
    html.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
