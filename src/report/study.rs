//! The `report.html` of a study (sweep, tune, capacity, diff, sensitivity): the answer first,
//! then the tables a person reads, then the charts. Self-contained like the run's page: inline
//! CSS and SVG, no scripts, the same bytes for the same study.

use super::html::{self, escape};
use crate::error::{Error, Result};
use crate::output::write_files;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A table for people: header cells and rows of already formatted cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, headers: Vec<String>) -> Self {
        Table { title: title.into(), headers, rows: Vec::new() }
    }

    /// The table as aligned plain text for the terminal: numbers right-aligned, text left.
    pub fn to_text(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = (0..columns)
                .map(|i| {
                    let cell = cells.get(i).map_or("", String::as_str);
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    if is_numeric(cell) {
                        format!("{}{cell}", " ".repeat(pad))
                    } else {
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        let mut text = String::new();
        if !self.title.is_empty() {
            text += &format!("{}\n", self.title);
        }
        text += &line(&self.headers);
        for row in &self.rows {
            text += &line(row);
        }
        text
    }
}

/// A cell reads as a number (right-aligned): `1,234.5`, `-3`, `$69.10`, `+12.5%`, `5.5 s`.
fn is_numeric(cell: &str) -> bool {
    let body = cell.trim_start_matches(['$', '+', '-', '−', '±']);
    body.starts_with(|c: char| c.is_ascii_digit())
}

/// What a study's page shows, in order.
#[derive(Clone, Debug, Default)]
pub struct StudyPage {
    /// `Tune: provisioned-low-latency`.
    pub title: String,
    /// One line under the title: runs, seeds, version.
    pub meta: String,
    /// The answer, one paragraph per entry; the first is the headline.
    pub answer: Vec<String>,
    /// Commands to copy (tune's AWS CLI), shown as a code block.
    pub commands: Option<String>,
    pub tables: Vec<Table>,
    /// Caveats and how to read the numbers.
    pub notes: Vec<String>,
}

impl StudyPage {
    /// The answer and the first table, for the terminal.
    pub fn terminal_text(&self) -> String {
        let mut text: String = self.answer.iter().map(|a| format!("{a}\n")).collect();
        if let Some(commands) = &self.commands {
            text += &format!("\n{commands}\n");
        }
        if let Some(table) = self.tables.first() {
            text += "\n";
            text += &table.to_text();
        }
        text + "\n"
    }
}

/// The file a study's page is written to.
pub const STUDY_HTML: &str = "report.html";

/// Writes `report.html` into `dir` with the SVG charts among `chart_files` (read back from
/// `dir`, where the study just wrote them) inline, in their order.
pub fn write_study_report(page: &StudyPage, chart_files: &[PathBuf], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut charts = Vec::new();
    for path in chart_files.iter().filter(|p| p.extension().is_some_and(|e| e == "svg")) {
        let svg = std::fs::read_to_string(path).map_err(|source| Error::Read { file: path.clone(), source })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        charts.push((stem, svg));
    }
    write_files(dir, &[(STUDY_HTML, study_page(page, &charts).into_bytes())])
}

/// The page's HTML.
pub fn study_page(page: &StudyPage, charts: &[(String, String)]) -> String {
    let mut out = html::head(&page.title);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&page.title));
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&page.meta));
    for (i, paragraph) in page.answer.iter().enumerate() {
        let class = if i == 0 { " class=\"verdict\"" } else { "" };
        let _ = writeln!(out, "<p{class}>{}</p>", escape(paragraph));
    }
    if let Some(commands) = &page.commands {
        let _ = writeln!(out, "<pre>{}</pre>", escape(commands));
    }
    for table in &page.tables {
        write_table(&mut out, table);
    }
    if !charts.is_empty() {
        out.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for (id, svg) in charts {
            // plotters escapes its own text; the SVG goes in as it is.
            let _ = writeln!(out, "<figure id=\"chart-{}\">\n{}\n</figure>", escape(id), svg.trim());
        }
    }
    if !page.notes.is_empty() {
        out.push_str("<h2 id=\"notes\">How to read this</h2>\n<ul>\n");
        for note in &page.notes {
            let _ = writeln!(out, "<li>{}</li>", escape(note));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(html::TAIL);
    out
}

fn write_table(out: &mut String, table: &Table) {
    if !table.title.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&table.title));
    }
    out.push_str("<table>\n<tr>");
    for h in &table.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if is_numeric(cell) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new("Top", vec!["batch".into(), "cost (USD/month)".into()]);
        t.rows.push(vec!["500".into(), "$69.10".into()]);
        t.rows.push(vec!["<b>".into(), "1,749.00".into()]);
        t
    }

    #[test]
    fn text_table_aligns_numbers_right_and_text_left() {
        assert_eq!(
            table().to_text(),
            "Top\nbatch  cost (USD/month)\n  500            $69.10\n<b>            1,749.00\n"
        );
    }

    #[test]
    fn page_puts_the_answer_first_and_escapes_everything() {
        let page = StudyPage {
            title: "Tune: a&b".into(),
            meta: "4 runs".into(),
            answer: vec!["Best: batch 500".into(), "ties".into()],
            commands: Some("aws lambda update-event-source-mapping --batch-size 500".into()),
            tables: vec![table()],
            notes: vec!["note <1>".into()],
        };
        let html = study_page(&page, &[("tune-pareto".into(), "<svg>x</svg>".into())]);
        let at = |text: &str| html.find(text).unwrap_or_else(|| panic!("{text} missing"));
        assert!(at("Best: batch 500") < at("<table>") && at("<table>") < at("<svg>x</svg>"));
        assert!(
            html.contains("<h1>Tune: a&amp;b</h1>") && html.contains("&lt;b&gt;") && html.contains("note &lt;1&gt;")
        );
        assert!(html.contains("<td class=\"num\">$69.10</td>"));
        for external in ["<script", "src=\"http", "<link"] {
            assert!(!html.contains(external));
        }
    }
}
