//! ISO-8601 / RFC 3339 timestamps of AWS exports (`2025-03-14T09:30:00Z`,
//! `2025-03-14T09:30:00.250+01:00`, `2025-03-14 09:30:00`), as nanoseconds since the Unix epoch,
//! without a calendar dependency. A time without a zone is UTC, as CloudWatch exports are.

/// Nanoseconds since 1970-01-01T00:00:00Z, or `None` when `text` is not such a timestamp.
pub fn parse_ns(text: &str) -> Option<i128> {
    let text = text.trim();
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let mut parts = date.split('-');
    let (year, month, day) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=days_in(year, month)).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut nanos: i128 = 0;
    let mut rest = rest;
    if let Some(time) = rest.strip_prefix(['T', 't', ' ']) {
        let (hms, tail) = time.split_at(time.find(|c: char| !(c.is_ascii_digit() || c == ':')).unwrap_or(time.len()));
        let mut fields = hms.split(':');
        let (h, m) = (number(fields.next()?)?, number(fields.next()?)?);
        let s = fields.next().map_or(Some(0), number)?;
        if fields.next().is_some() || h > 23 || m > 59 || s > 60 {
            return None;
        }
        seconds += h * 3600 + m * 60 + s;
        rest = tail;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.find(|c: char| !c.is_ascii_digit()).unwrap_or(fraction.len());
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = fraction[..digits].parse::<i128>().ok()? * 10i128.pow(9 - digits as u32);
            rest = &fraction[digits..];
        }
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            sign * (number(&digits[..2])? * 3600 + number(&digits[2..])? * 60)
        }
    };
    Some((seconds - offset) as i128 * 1_000_000_000 + nanos)
}

fn number(text: &str) -> Option<i64> {
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

fn days_in(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1]
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_ns;

    #[test]
    fn parses_the_forms_aws_exports_use() {
        const S: i128 = 1_000_000_000;
        // 2025-01-01 is 20,089 days after 1970-01-01 (55 years, 14 leap days: 55 × 365 + 14).
        assert_eq!(parse_ns("2025-01-01T00:00:00Z"), Some(20_089 * 86_400 * S));
        assert_eq!(parse_ns("2025-01-01T01:00:00+01:00"), parse_ns("2025-01-01T00:00:00Z"));
        assert_eq!(parse_ns("2025-01-01 00:00:30"), Some((20_089 * 86_400 + 30) * S));
        assert_eq!(parse_ns("2025-01-01T00:00:00.25Z"), Some(20_089 * 86_400 * S + S / 4));
        assert_eq!(parse_ns("2024-02-29T00:00:00Z").unwrap() + 86_400 * S, parse_ns("2024-03-01T00:00:00Z").unwrap());
        assert_eq!(parse_ns("1970-01-01"), Some(0));
        for bad in
            ["2025-02-29T00:00:00Z", "2025-13-01", "2025-01-01T24:00:00Z", "1.5", "yesterday", "2025-01-01T00:00:00+1"]
        {
            assert_eq!(parse_ns(bad), None, "{bad}");
        }
    }
}
