//! A producer's `rate_from`: a traffic file compiled into the same rate steps a `schedule` gives.
//!
//! - CSV: a header with `time` and `rate` (records/s) and optionally `bytes_per_second`; `time`
//!   is seconds from the start or an ISO-8601 timestamp. Rows are in increasing time order.
//! - CloudWatch: the JSON of `aws cloudwatch get-metric-data` for MSK's `MessagesInPerSec`
//!   (and `BytesInPerSec`), one result per broker (or per topic and broker): values at one
//!   timestamp are summed over results. The period is the spacing of the timestamps.
//!
//! Rates are piecewise constant: each row's rate holds until the next row, and the last row's for
//! one period (the spacing before it); after that the producer is silent. Times are shifted so the
//! first row is t = 0. Where bytes are given, the record size is total bytes / total records.

use super::{Problem, problem};
use crate::engine::{NS_PER_SEC, SimTime};
use crate::scenario::RateFrom;
use serde_json::Value;
use std::path::Path;

/// The largest traffic file read (a week of one-second rows is about 20 MB).
const MAX_TRAFFIC_BYTES: u64 = 64 << 20;

/// A traffic file's rates as steps from t = 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// (start, records per second), the first at 0, the last a 0 at `span_ns`.
    pub steps: Vec<(SimTime, f64)>,
    /// From the first row to the end of the last row's period.
    pub span_ns: SimTime,
    /// Mean value bytes per record, when the file gives bytes.
    pub record_bytes: Option<u64>,
    /// The file's bytes, for the config hash: the same scenario with other data is another run.
    pub digest: String,
}

/// One row: seconds (or ns since the epoch, for timestamps) and the values.
struct Row {
    time_ns: i128,
    rate: f64,
    bytes_per_second: Option<f64>,
}

/// Reads `from` (a path relative to `base`, the scenario's directory); `field` is its field path.
pub fn load(from: &RateFrom, base: &Path, field: &str) -> Result<Traffic, Problem> {
    let (kind, name) = match from {
        RateFrom::Csv(name) => ("csv", name),
        RateFrom::Cloudwatch(name) => ("cloudwatch", name),
    };
    let field = format!("{field}.{kind}");
    let path = base.join(name);
    let text = crate::text::read_capped(&path, MAX_TRAFFIC_BYTES, "a traffic file")
        .map_err(|e| problem(&field, e.to_string()))?;
    let at = |message: String| problem(&field, format!("{}: {message}", path.display()));
    let rows = match from {
        RateFrom::Csv(_) => csv_rows(&text).map_err(at)?,
        RateFrom::Cloudwatch(_) => cloudwatch_rows(&text).map_err(at)?,
    };
    let mut traffic = steps(&rows).map_err(at)?;
    traffic.digest = {
        use sha2::{Digest, Sha256};
        Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    };
    Ok(traffic)
}

fn steps(rows: &[Row]) -> Result<Traffic, String> {
    if rows.len() < 2 {
        return Err("needs at least two rows (the spacing of the rows is the period of the last one)".into());
    }
    let first = rows[0].time_ns;
    let mut steps = Vec::with_capacity(rows.len() + 1);
    for (i, pair) in rows.windows(2).enumerate() {
        if pair[1].time_ns <= pair[0].time_ns {
            return Err(format!("row {}: times must increase strictly", i + 2));
        }
    }
    for (i, row) in rows.iter().enumerate() {
        if !(row.rate.is_finite() && row.rate >= 0.0 && row.rate <= 1e9) {
            return Err(format!("row {}: rate {} is out of range; allowed: 0 to 1e9 records/s", i + 1, row.rate));
        }
        steps.push(((row.time_ns - first) as SimTime, row.rate));
    }
    let n = rows.len();
    let last_period = rows[n - 1].time_ns - rows[n - 2].time_ns;
    let span_ns = (rows[n - 1].time_ns - first + last_period) as SimTime;
    steps.push((span_ns, 0.0));
    // Records and bytes over the data: each row's rate times its period.
    let (mut records, mut bytes, mut with_bytes) = (0.0, 0.0, false);
    for (i, row) in rows.iter().enumerate() {
        let period_s = rows.get(i + 1).map_or(last_period, |next| next.time_ns - row.time_ns) as f64 / 1e9;
        records += row.rate * period_s;
        if let Some(b) = row.bytes_per_second {
            bytes += b * period_s;
            with_bytes = true;
        }
    }
    let record_bytes = (with_bytes && records > 0.0).then(|| (bytes / records).round().max(0.0) as u64);
    Ok(Traffic { steps, span_ns, record_bytes, digest: String::new() })
}

/// `time` as seconds (a number) or an ISO-8601 timestamp, in ns.
pub(crate) fn time_ns(text: &str) -> Option<i128> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Some((seconds * NS_PER_SEC as f64).round() as i128),
        Ok(_) => None,
        Err(_) => crate::timestamp::parse_ns(text),
    }
}

fn csv_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| format!("not CSV: {e}"))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(time), Some(rate)) = (column("time"), column("rate")) else {
        return Err(format!(
            "the header needs columns time and rate (and optionally bytes_per_second); found {:?}",
            header.iter().collect::<Vec<_>>()
        ));
    };
    if let Some(extra) = header.iter().find(|h| !["time", "rate", "bytes_per_second"].contains(h)) {
        return Err(format!("unknown column {extra:?}; allowed: time, rate, bytes_per_second"));
    }
    let bytes = column("bytes_per_second");
    let mut rows = vec![];
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let cell = |c: usize| record.get(c).unwrap_or("");
        let time_ns = time_ns(cell(time)).ok_or_else(|| {
            format!("line {line}: time {:?} is neither seconds ≥ 0 nor an ISO-8601 timestamp", cell(time))
        })?;
        let number = |c: usize, name: &str| -> Result<f64, String> {
            cell(c).parse::<f64>().map_err(|_| format!("line {line}: {name} {:?} is not a number", cell(c)))
        };
        let rate = number(rate, "rate")?;
        let bytes_per_second = bytes.map(|c| number(c, "bytes_per_second")).transpose()?;
        rows.push(Row { time_ns, rate, bytes_per_second });
    }
    Ok(rows)
}

/// Sums `MessagesInPerSec` (and `BytesInPerSec`) results per timestamp, in time order.
fn cloudwatch_rows(text: &str) -> Result<Vec<Row>, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let results = document
        .get("MetricDataResults")
        .and_then(Value::as_array)
        .ok_or("not get-metric-data output: no MetricDataResults list")?;
    // (timestamp ns, messages/s, bytes/s) summed over brokers.
    let mut sums: std::collections::BTreeMap<i128, (f64, Option<f64>)> = Default::default();
    let mut found = false;
    for (i, result) in results.iter().enumerate() {
        let label = result.get("Label").and_then(Value::as_str).unwrap_or("");
        let id = result.get("Id").and_then(Value::as_str).unwrap_or("");
        let is_bytes = label.contains("BytesInPerSec");
        if !is_bytes && !label.contains("MessagesInPerSec") {
            return Err(format!(
                "MetricDataResults.{i} ({id:?}): label {label:?} names neither MessagesInPerSec nor BytesInPerSec; \
                 keep the default labels (or put the metric name in each Label)"
            ));
        }
        found |= !is_bytes;
        let times = result
            .get("Timestamps")
            .and_then(Value::as_array)
            .ok_or(format!("MetricDataResults.{i}: no Timestamps"))?;
        let values =
            result.get("Values").and_then(Value::as_array).ok_or(format!("MetricDataResults.{i}: no Values"))?;
        if times.len() != values.len() {
            return Err(format!("MetricDataResults.{i}: {} timestamps but {} values", times.len(), values.len()));
        }
        for (t, v) in times.iter().zip(values) {
            let t = t
                .as_str()
                .and_then(crate::timestamp::parse_ns)
                .ok_or(format!("MetricDataResults.{i}: timestamp {t} is not ISO-8601"))?;
            let v = v.as_f64().ok_or(format!("MetricDataResults.{i}: value {v} is not a number"))?;
            let entry = sums.entry(t).or_insert((0.0, None));
            if is_bytes { *entry.1.get_or_insert(0.0) += v } else { entry.0 += v }
        }
    }
    if !found {
        return Err("no MessagesInPerSec result: the records' rate comes from it".into());
    }
    Ok(sums.into_iter().map(|(time_ns, (rate, bytes_per_second))| Row { time_ns, rate, bytes_per_second }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Traffic {
        steps(&csv_rows(text).unwrap()).unwrap()
    }

    #[test]
    fn csv_rows_become_steps_with_the_last_period() {
        // Rows at 0, 60 and 120 s: the last holds for one more 60 s period, so the span is 180 s.
        let t = rows("time,rate,bytes_per_second\n0,100,102400\n60,300,307200\n120,200,204800\n");
        let s = NS_PER_SEC;
        assert_eq!(t.steps, vec![(0, 100.0), (60 * s, 300.0), (120 * s, 200.0), (180 * s, 0.0)]);
        assert_eq!(t.span_ns, 180 * s);
        // 1024 bytes per record in every row.
        assert_eq!(t.record_bytes, Some(1024));
    }

    #[test]
    fn timestamps_start_at_zero_and_bytes_average_by_records() {
        // 60 s at 100/s of 500 B (6,000 records, 3 MB) and 60 s at 300/s of 2,000 B (18,000
        // records, 36 MB): 39 MB / 24,000 records = 1,625 B.
        let t = rows("time,rate,bytes_per_second\n2025-03-14T09:00:00Z,100,50000\n2025-03-14T09:01:00Z,300,600000\n");
        assert_eq!(t.steps, vec![(0, 100.0), (60 * NS_PER_SEC, 300.0), (120 * NS_PER_SEC, 0.0)]);
        assert_eq!(t.record_bytes, Some(1625));
    }

    #[test]
    fn bad_rows_name_the_line() {
        let err = |text: &str| steps(&csv_rows(text).unwrap()).map(|_| ()).unwrap_err();
        assert!(csv_rows("time,rate\n0,1\nsoon,2\n").err().unwrap().contains("line 3"));
        assert!(csv_rows("t,rate\n0,1\n").err().unwrap().contains("time and rate"));
        assert!(csv_rows("time,rate,size\n0,1,2\n").err().unwrap().contains("unknown column"));
        assert!(err("time,rate\n0,1\n60,-5\n").contains("row 2"));
        assert!(err("time,rate\n60,1\n0,5\n").contains("increase"));
        assert!(err("time,rate\n0,1\n").contains("two rows"));
    }

    #[test]
    fn cloudwatch_sums_brokers_per_timestamp() {
        // Two brokers, descending timestamps one minute apart (AWS's default order).
        let json = r#"{"MetricDataResults": [
          {"Id": "m1", "Label": "MessagesInPerSec", "Timestamps": ["2025-03-14T09:01:00Z", "2025-03-14T09:00:00Z"], "Values": [30, 10], "StatusCode": "Complete"},
          {"Id": "m2", "Label": "MessagesInPerSec", "Timestamps": ["2025-03-14T09:01:00Z", "2025-03-14T09:00:00Z"], "Values": [20, 40], "StatusCode": "Complete"},
          {"Id": "b1", "Label": "BytesInPerSec", "Timestamps": ["2025-03-14T09:01:00Z", "2025-03-14T09:00:00Z"], "Values": [51200, 51200], "StatusCode": "Complete"}
        ], "Messages": []}"#;
        let t = steps(&cloudwatch_rows(json).unwrap()).unwrap();
        // 10 + 40 = 50/s, then 30 + 20 = 50/s; 51,200 B/s over 50 records/s = 1,024 B.
        assert_eq!(t.steps, vec![(0, 50.0), (60 * NS_PER_SEC, 50.0), (120 * NS_PER_SEC, 0.0)]);
        assert_eq!(t.record_bytes, Some(1024));
        assert!(
            cloudwatch_rows(r#"{"MetricDataResults": [{"Id": "x", "Label": "CPU", "Timestamps": [], "Values": []}]}"#)
                .is_err()
        );
    }
}
