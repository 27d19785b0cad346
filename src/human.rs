//! Numbers as people read them: counts with thousands separators, durations in the unit that
//! suits their size. For the terminal summary and report.html; files keep plain numbers.

/// `36000000` → `36,000,000`.
pub fn count(n: u64) -> String {
    group(&n.to_string())
}

/// A decimal with thousands separators in its integer part: `10000.04` at 1 → `10,000.0`.
pub fn decimal(value: f64, decimals: usize) -> String {
    grouped(&format!("{value:.decimals$}"))
}

/// A number already formatted (`-22469.6667`) with thousands separators in its integer part
/// (`-22,469.6667`); text that is not a plain number (`inf`, `NaN`) is kept as it is.
pub fn grouped(text: &str) -> String {
    let (sign, digits) = text.strip_prefix('-').map_or(("", text), |d| ("-", d));
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    let grouped = if int.bytes().all(|b| b.is_ascii_digit()) { group(int) } else { int.to_string() };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A measured value of any size for a table: thousands separated, with fewer decimals the larger
/// it is (`101229.5424` → `101,230`, `56.896` → `56.9`, `0.0142` → `0.0142`).
pub fn number(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 1_000.0 => 0,
        v if v >= 10.0 => 1,
        v if v >= 1.0 => 2,
        _ => 4,
    };
    let text = decimal(value, decimals);
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".into() } else { text }
}

/// A sentence with every number in it as [`number`] writes it, for pages that show a reason
/// kept as plain text in files: `lag.max_age_ms = 64403.8512 > 60000` →
/// `lag.max_age_ms = 64,404 > 60,000`.
pub fn numbers_in(text: &str) -> String {
    let words = text.split(' ').map(|word| {
        let (body, tail) = word.strip_suffix([';', ',']).map_or((word, ""), |b| (b, &word[b.len()..]));
        match body.parse::<f64>() {
            Ok(v) if v.is_finite() => format!("{}{tail}", number(v)),
            _ => word.to_string(),
        }
    });
    words.collect::<Vec<_>>().join(" ")
}

/// A duration given in milliseconds as (value, unit): ms below 2 s, s below 2 min, min below
/// 2 h, h beyond; one decimal.
pub fn duration_parts(ms: f64) -> (String, &'static str) {
    let (value, unit) = match ms.abs() {
        m if m >= 7_200_000.0 => (ms / 3_600_000.0, "h"),
        m if m >= 120_000.0 => (ms / 60_000.0, "min"),
        m if m >= 2_000.0 => (ms / 1_000.0, "s"),
        _ => (ms, "ms"),
    };
    (decimal(value, 1), unit)
}

/// [`duration_parts`] as one string: `850.0 ms`, `5.5 s`, `12.9 min`.
pub fn duration_ms(ms: f64) -> String {
    let (value, unit) = duration_parts(ms);
    format!("{value} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(36_000_000), "36,000,000");
        assert_eq!(decimal(10_000.04, 1), "10,000.0");
        assert_eq!(number(101_229.542_4), "101,230");
        assert_eq!(number(-49_735.603_2), "-49,736");
        assert_eq!(number(56.896), "56.9");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.0142), "0.0142");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.00001), "0");
        assert_eq!(numbers_in("lag.max_age_ms = 64403.8512 > 60000"), "lag.max_age_ms = 64,404 > 60,000");
        assert_eq!(
            numbers_in("lag growing 891.1197 records/s > 10; x = 2.5"),
            "lag growing 891.1 records/s > 10; x = 2.5"
        );
        assert_eq!(decimal(-1_234.5, 2), "-1,234.50");
        assert_eq!(decimal(0.1234, 4), "0.1234");
        assert_eq!(decimal(f64::NAN, 1), "NaN");
    }

    #[test]
    fn durations_read_in_their_own_unit() {
        assert_eq!(duration_ms(850.0), "850.0 ms");
        assert_eq!(duration_ms(5_500.0), "5.5 s");
        // The 12.9 minutes: 774,000 ms.
        assert_eq!(duration_ms(774_000.0), "12.9 min");
        assert_eq!(duration_ms(3.0 * 3_600_000.0), "3.0 h");
        assert_eq!(duration_parts(66_000.0), ("66.0".to_string(), "s"));
    }
}
