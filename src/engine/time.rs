//! Simulated time: `u64` nanoseconds since the start of the run.

use crate::error::DurationError;

/// Simulated time or duration in nanoseconds.
pub type SimTime = u64;

pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_SEC: u64 = 1_000_000_000;

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", NS_PER_US),
    ("ms", NS_PER_MS),
    ("s", NS_PER_SEC),
    ("m", 60 * NS_PER_SEC),
    ("h", 3_600 * NS_PER_SEC),
    ("d", 86_400 * NS_PER_SEC),
];

/// Parses `"500ms"`, `"1m30s"`, `"1.5s"` or `"0.5ms"` into nanoseconds.
///
/// Each term is a non-negative decimal number followed by one of `ns us ms s m h d`. Decimals are
/// converted exactly (no float rounding) and truncated below one nanosecond.
pub fn parse_duration(text: &str) -> Result<SimTime, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let bad = || DurationError::Invalid { text: text.to_string() };
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let (number, tail) = rest.split_at(num_len);
        let unit_len = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(bad)?.1;
        // Checked: terms near u128::MAX must not wrap around into a small duration.
        let term = decimal_times(number, scale).ok_or_else(bad)?;
        total = total.checked_add(term).ok_or_else(|| DurationError::TooLong { text: text.to_string() })?;
        rest = tail;
    }
    u64::try_from(total).map_err(|_| DurationError::TooLong { text: text.to_string() })
}

/// `number × scale` for a decimal string, exactly, truncated to an integer.
fn decimal_times(number: &str, scale: u64) -> Option<u128> {
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return None;
    }
    let int: u128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
    let value = int.checked_mul(scale as u128)?;
    let mut denominator: u128 = 1;
    let mut frac: u128 = 0;
    for digit in frac_part.chars().take(18) {
        frac = frac * 10 + digit.to_digit(10)? as u128;
        denominator *= 10;
    }
    value.checked_add(frac * scale as u128 / denominator)
}

/// Formats nanoseconds in the largest unit that divides them, e.g. `1500000000` → `"1500ms"`.
pub fn format_duration(ns: SimTime) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let (unit, scale) = UNITS.iter().rev().find(|(_, scale)| ns % scale == 0).copied().unwrap();
    format!("{}{}", ns / scale, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_that_overflow_are_too_long_not_wrapped() {
        // 2^127 ns twice would wrap a u128 to 0, leaving "10s".
        let huge = "170141183460469231731687303715884105728ns";
        let text = format!("{huge}{huge}10s");
        assert!(matches!(parse_duration(&text), Err(DurationError::TooLong { .. })), "{:?}", parse_duration(&text));
        let max = format!("{}ns", u128::MAX);
        assert!(matches!(parse_duration(&format!("{max}1.5s")), Err(DurationError::TooLong { .. })));
        assert!(parse_duration(&format!("{}ns", u64::MAX)).is_ok());
    }

    #[test]
    fn parses_units_combinations_and_decimals() {
        assert_eq!(parse_duration("500ms"), Ok(500 * NS_PER_MS));
        assert_eq!(parse_duration("1m30s"), Ok(90 * NS_PER_SEC));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * NS_PER_MS));
        assert_eq!(parse_duration("0.5ms"), Ok(500 * NS_PER_US));
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400 * NS_PER_SEC));
        assert_eq!(parse_duration("2h15m"), Ok((2 * 3600 + 15 * 60) * NS_PER_SEC));
        assert_eq!(parse_duration(".25s"), Ok(250 * NS_PER_MS));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "0", "5", "ms", "1.2.3s", "5 parsecs", "-1s", "1x", "1s5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn errors_say_what_a_duration_looks_like() {
        assert_eq!(
            parse_duration(" ").unwrap_err().to_string(),
            r#"empty duration; expected e.g. "500ms", "1m30s" or "1.5s""#
        );
        assert_eq!(
            parse_duration("5 parsecs").unwrap_err().to_string(),
            r#"invalid duration "5 parsecs"; expected a number with a unit (ns, us, ms, s, m, h, d), e.g. "500ms", "1m30s", "1.5s""#
        );
        assert_eq!(parse_duration("600000d").unwrap_err().to_string(), r#"duration "600000d" is too long"#);
    }

    #[test]
    fn formats_in_largest_exact_unit() {
        assert_eq!(format_duration(1_500 * NS_PER_MS), "1500ms");
        assert_eq!(format_duration(120 * NS_PER_SEC), "2m");
        assert_eq!(format_duration(0), "0s");
    }
}
