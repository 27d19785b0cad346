//! `--observed FILE.csv`: an observed `OffsetLag` series in the `cloudwatch.csv` shape that
//! `esmsim run` writes: a `timestamp` column (ISO-8601, or seconds from the start) and an
//! `OffsetLag_Maximum` column (records); other columns are allowed and not read.
//!
//! Rows are placed on a grid of periods from the first row: the period is the smallest spacing of
//! the timestamps (CloudWatch leaves out periods without a datapoint, so larger gaps must be whole
//! periods), and a row with an empty `OffsetLag_Maximum` cell is a period without a datapoint.

use crate::engine::{NS_PER_SEC, SimTime};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The column read, by `esmsim run`'s (and CloudWatch's) metric and statistic name.
pub const OFFSET_LAG_COLUMN: &str = "OffsetLag_Maximum";

/// The largest observed file read (a week of one-minute rows with every column is about 2 MB).
const MAX_OBSERVED_BYTES: u64 = 64 << 20;

/// The most periods an observation may span (as a run's `cloudwatch.csv` rows are capped).
const MAX_PERIODS: u64 = 1_000_000;

/// An observed `OffsetLag` series, one slot per period from the first row.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub file: PathBuf,
    pub period_ns: SimTime,
    /// The largest offset lag in each period; `None` where the file has no datapoint.
    pub offset_lag: Vec<Option<f64>>,
}

impl Observation {
    /// From the first row to the end of the last row's period.
    pub fn span_ns(&self) -> SimTime {
        self.period_ns * self.offset_lag.len() as SimTime
    }

    /// Periods with a datapoint.
    pub fn datapoints(&self) -> usize {
        self.offset_lag.iter().flatten().count()
    }
}

/// Reads and checks `file`.
pub fn read(file: &Path) -> Result<Observation> {
    let text = crate::text::read_capped(file, MAX_OBSERVED_BYTES, "an observed cloudwatch.csv")?;
    parse(file, &text)
}

/// `(seconds or ns since the epoch, lag)` per row, then placed on the period grid.
pub fn parse(file: &Path, text: &str) -> Result<Observation> {
    let bad = |line: usize, message: String| Error::field(file, format!("line {line}"), message);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(1, format!("not CSV: {e}")))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(time), Some(lag)) = (column("timestamp"), column(OFFSET_LAG_COLUMN)) else {
        return Err(bad(
            1,
            format!(
                "the header needs timestamp and {OFFSET_LAG_COLUMN} (the cloudwatch.csv of esmsim run, or a CloudWatch \
                 export renamed to those columns)"
            ),
        ));
    };
    let mut rows: Vec<(i128, Option<f64>, usize)> = vec![];
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| bad(line, e.to_string()))?;
        let cell = |c: usize| record.get(c).unwrap_or("");
        let t = crate::config::traffic::time_ns(cell(time)).ok_or_else(|| {
            bad(line, format!("timestamp {:?} is neither seconds ≥ 0 nor an ISO-8601 timestamp", cell(time)))
        })?;
        let value = match cell(lag) {
            "" => None,
            text => match text.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => return Err(bad(line, format!("{OFFSET_LAG_COLUMN} {text:?} is not a number ≥ 0 (or empty)"))),
            },
        };
        if rows.last().is_some_and(|&(previous, _, _)| t <= previous) {
            return Err(bad(line, "timestamps must increase strictly".into()));
        }
        rows.push((t, value, line));
    }
    place(file, &rows)
}

/// Puts the rows on the grid of periods of the smallest spacing.
fn place(file: &Path, rows: &[(i128, Option<f64>, usize)]) -> Result<Observation> {
    let whole = |message: String| Error::field(file, "(data)", message);
    if rows.iter().filter(|r| r.1.is_some()).count() < 2 {
        return Err(whole(format!("needs at least two rows with an {OFFSET_LAG_COLUMN} value")));
    }
    let first = rows[0].0;
    let period = rows.windows(2).map(|w| w[1].0 - w[0].0).min().expect("at least two rows");
    if period < NS_PER_SEC as i128 || period % NS_PER_SEC as i128 != 0 {
        return Err(whole(format!(
            "the rows are {} s apart; allowed: a period of whole seconds, at least 1 s (as cloudwatch_period)",
            period as f64 / 1e9
        )));
    }
    let last_index = (rows[rows.len() - 1].0 - first) / period;
    if last_index as u64 >= MAX_PERIODS {
        return Err(whole(format!("spans more than {MAX_PERIODS} periods of {} s", period / NS_PER_SEC as i128)));
    }
    let mut offset_lag = vec![None; last_index as usize + 1];
    for &(t, value, line) in rows {
        if (t - first) % period != 0 {
            return Err(Error::field(
                file,
                format!("line {line}"),
                format!(
                    "timestamp is not a whole number of periods ({} s, the smallest spacing) after the first row",
                    period / NS_PER_SEC as i128
                ),
            ));
        }
        offset_lag[((t - first) / period) as usize] = value;
    }
    Ok(Observation { file: file.to_path_buf(), period_ns: period as SimTime, offset_lag })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Observation> {
        parse(Path::new("observed.csv"), text)
    }

    #[test]
    fn rows_land_on_periods_with_gaps_for_missing_datapoints() {
        // Rows at 0, 60 and 180 s: the period is 60 s, the 120 s period has no datapoint, and the
        // 60 s row's empty cell is one too. Other columns are not read.
        let o = parsed(
            "timestamp,OffsetLag_Maximum,Invocations_Sum\n\
             2025-01-01T00:00:00Z,10,1\n2025-01-01T00:01:00Z,,2\n2025-01-01T00:03:00Z,30,3\n",
        )
        .unwrap();
        assert_eq!(o.period_ns, 60 * NS_PER_SEC);
        assert_eq!(o.offset_lag, vec![Some(10.0), None, None, Some(30.0)]);
        assert_eq!((o.span_ns(), o.datapoints()), (240 * NS_PER_SEC, 2));
        // Seconds from the start work too.
        assert_eq!(parsed("timestamp,OffsetLag_Maximum\n0,5\n30,7\n").unwrap().offset_lag, vec![Some(5.0), Some(7.0)]);
    }

    #[test]
    fn bad_files_name_the_line_and_what_is_allowed() {
        let err = |text: &str| parsed(text).unwrap_err().to_string();
        assert!(err("time,OffsetLag_Maximum\n0,1\n60,2\n").contains("needs timestamp and OffsetLag_Maximum"));
        assert!(err("timestamp,OffsetLag_Maximum\n0,1\n60,-2\n").contains("line 3: OffsetLag_Maximum \"-2\""));
        assert!(err("timestamp,OffsetLag_Maximum\n60,1\n0,2\n").contains("line 3: timestamps must increase"));
        assert!(err("timestamp,OffsetLag_Maximum\n0,1\n60,\n").contains("at least two rows"));
        assert!(err("timestamp,OffsetLag_Maximum\n0,1\n0.5,2\n").contains("whole seconds"));
        assert!(err("timestamp,OffsetLag_Maximum\n0,1\n60,2\n150,3\n").contains("line 4: timestamp is not a whole"));
        assert!(err("timestamp,OffsetLag_Maximum\nsoon,1\n").contains("line 2: timestamp \"soon\""));
    }
}
