//! Time in the vocabulary: `TimeInfo` (a moment, nanoseconds since the epoch), `DurationInfo`
//! (nanoseconds), `google.protobuf.Duration` (seconds and nanos, used by a few operator
//! calls), and the one text form of durations that the cell language and the cluster's
//! flags both read: Mesos's flag units (`15secs`, `500ms`, `2mins`) and the short ones
//! (`30s`, `1m30s`, `1.5h`), or a bare number of seconds.

use std::time::Duration;

crate::message! {
    /// A moment, as nanoseconds since the Unix epoch.
    pub struct TimeInfo {
        req nanoseconds: i64,
    }
}

crate::message! {
    /// A span of time in nanoseconds.
    pub struct DurationInfo {
        req nanoseconds: i64,
    }
}

crate::message! {
    /// `google.protobuf.Duration`, as stout writes it: whole seconds and the nanoseconds beyond.
    pub struct ProtoDuration {
        opt seconds: i64,
        opt nanos: i32,
    }
}

impl TimeInfo {
    /// Seconds since the epoch (as legacy endpoints and TaskStatus.timestamp write time).
    pub fn from_secs(secs: f64) -> TimeInfo {
        TimeInfo {
            nanoseconds: (secs * 1e9) as i64,
            ..Default::default()
        }
    }

    pub fn as_secs(&self) -> f64 {
        self.nanoseconds as f64 / 1e9
    }
}

impl DurationInfo {
    /// The duration, saturating at `i64::MAX` nanoseconds (about 292 years).
    pub fn from_duration(d: Duration) -> DurationInfo {
        DurationInfo {
            nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            ..Default::default()
        }
    }

    /// None for a negative duration.
    pub fn to_duration(&self) -> Option<Duration> {
        u64::try_from(self.nanoseconds)
            .ok()
            .map(Duration::from_nanos)
    }
}

impl ProtoDuration {
    pub fn from_duration(d: Duration) -> ProtoDuration {
        let nanos = d.subsec_nanos();
        ProtoDuration {
            seconds: Some(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            nanos: (nanos != 0).then_some(nanos as i32),
            ..Default::default()
        }
    }
}

/// Why a duration's text does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration '{0}'")]
    Invalid(String),
    #[error("invalid duration unit '{unit}' in '{text}'")]
    Unit { unit: String, text: String },
    #[error("duration '{0}' is too long")]
    Overflow(String),
}

/// Nanoseconds in one of each unit a duration may be written in.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" | "nsec" | "nsecs" => 1,
        "us" | "µs" | "usec" | "usecs" => 1_000,
        "ms" | "msec" | "msecs" => 1_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000_000_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000_000_000,
        "d" | "day" | "days" => 86_400_000_000_000,
        "w" | "week" | "weeks" => 604_800_000_000_000,
        _ => return None,
    })
}

/// Reads a duration: one or more `<number><unit>` parts (`15secs`, `100ms`, `1.5s`, `1m30s`;
/// units as [`unit_nanos`] lists them, Mesos's flag spellings among them), or a bare number of
/// seconds (`5`, `0.1`). Decimals are exact to the nanosecond (the rest is cut). No sign, no
/// exponent, no spaces inside.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let invalid = || DurationError::Invalid(text.to_string());
    if t.is_empty() {
        return Err(invalid());
    }
    let overflow = || DurationError::Overflow(text.to_string());
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let n = decimal_nanos(t, 1_000_000_000).ok_or_else(invalid)?;
        return nanos_to_duration(n).ok_or_else(overflow);
    }
    let mut rest = t;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(invalid());
        }
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let factor = unit_nanos(unit).ok_or_else(|| DurationError::Unit {
            unit: unit.to_string(),
            text: text.to_string(),
        })?;
        let part = decimal_nanos(num, factor).ok_or_else(invalid)?;
        total = total.checked_add(part).ok_or_else(overflow)?;
        rest = next;
    }
    nanos_to_duration(total).ok_or_else(overflow)
}

/// `num` (digits with at most one '.') times `factor` nanoseconds, exactly (fraction cut).
fn decimal_nanos(num: &str, factor: u128) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') || int.len() > 30 {
        return None;
    }
    let int_val: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_val.checked_mul(factor)?;
    let mut scale = factor;
    for c in frac.chars() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        total = total.checked_add(u128::from(c.to_digit(10)?) * scale)?;
    }
    Some(total)
}

fn nanos_to_duration(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_in_every_spelling() {
        let d = |s| parse_duration(s).ok();
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("15secs"), Some(Duration::from_secs(15)));
        assert_eq!(d("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(d("500msecs"), Some(Duration::from_millis(500)));
        assert_eq!(d("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(d("2m"), Some(Duration::from_secs(120)));
        assert_eq!(d("2mins"), Some(Duration::from_secs(120)));
        assert_eq!(d("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(d("3hrs"), Some(Duration::from_secs(10_800)));
        assert_eq!(d("250us"), Some(Duration::from_micros(250)));
        assert_eq!(d("5"), Some(Duration::from_secs(5)));
        assert_eq!(d("0.1"), Some(Duration::from_millis(100)));
        assert_eq!(d(" 10ns "), Some(Duration::from_nanos(10)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(d("1weeks"), Some(Duration::from_secs(604_800)));
        assert_eq!(d(".5s"), Some(Duration::from_millis(500)));
        for bad in [
            "", "abc", "-5s", "1e400s", "5x", "s", "1..5s", ".", "5 s", "1e3", "nan", "inf", "-1",
            "1s-", "soon",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            parse_duration("99999999999999999999999999999999999h"),
            Err(DurationError::Invalid(_) | DurationError::Overflow(_))
        ));
        assert_eq!(
            parse_duration("184467440737095516160s"),
            Err(DurationError::Overflow("184467440737095516160s".into()))
        );
        assert_eq!(
            parse_duration("5 parsecs").unwrap_err().to_string(),
            "invalid duration unit ' parsecs' in '5 parsecs'"
        );
    }

    #[test]
    fn durations_never_panic() {
        let pieces = [
            "",
            "0",
            "1",
            "9",
            ".",
            "..",
            "-",
            "+",
            "e",
            "s",
            "ms",
            "us",
            "µs",
            "ns",
            "m",
            "h",
            "d",
            "min",
            "secs",
            " ",
            "秒",
            "1e400",
            "18446744073709551616",
            "99999999999999999999999999999999",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let _ = parse_duration(&format!("{a}{b}{c}"));
                }
            }
        }
    }

    #[test]
    fn time_messages() {
        let t = TimeInfo::from_secs(1.5);
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"nanoseconds": 1_500_000_000})
        );
        assert_eq!(t.as_secs(), 1.5);
        let d = DurationInfo::from_duration(Duration::from_millis(20));
        assert_eq!(d.nanoseconds, 20_000_000);
        assert_eq!(d.to_duration(), Some(Duration::from_millis(20)));
        let p = ProtoDuration::from_duration(Duration::from_millis(1500));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"seconds": 1, "nanos": 500_000_000})
        );
        let p = ProtoDuration::from_duration(Duration::from_secs(600));
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"seconds": 600}));
    }
}
