//! The values that resources and attributes hold, with Mesos's arithmetic
//! (`src/common/values.cpp`): scalars in fixed point with three decimals, ranges merged when
//! they touch or overlap, sets without duplicates; and their text forms (`2`, `[1-5, 8-9]`,
//! `{a,b}`), as the agent's `--resources` and `--attributes` flags write them.

use std::fmt;

crate::enumeration! {
    /// What kind of value a resource or attribute holds.
    pub enum ValueType {
        Scalar = "SCALAR",
        Ranges = "RANGES",
        Set = "SET",
        Text = "TEXT",
    }
}

crate::message! {
    /// A number (cpus, mem in MB, disk in MB, gpus).
    pub struct Scalar {
        req value: f64,
    }
}

crate::message! {
    /// An inclusive range of whole numbers.
    pub struct Range {
        req begin: u64,
        req end: u64,
    }
}

crate::message! {
    /// A list of ranges (ports).
    pub struct Ranges {
        rep range: Range,
    }
}

crate::message! {
    /// A set of strings.
    pub struct Set {
        rep item: String,
    }
}

crate::message! {
    /// A text value (attributes only).
    pub struct Text {
        req value: String,
    }
}

/// A scalar in Mesos's fixed point: thousandths, rounded half away from zero.
pub fn to_fixed(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

/// Back from fixed point, dividing whole and fraction apart as Mesos does so that 0.1 + 0.2
/// gives 0.3.
pub fn from_fixed(fixed: i64) -> f64 {
    (fixed / 1000) as f64 + (fixed % 1000) as f64 / 1000.0
}

impl Scalar {
    pub fn new(value: f64) -> Scalar {
        Scalar {
            value,
            ..Default::default()
        }
    }

    /// The value as Mesos compares and prints it (three decimals).
    pub fn rounded(&self) -> f64 {
        from_fixed(to_fixed(self.value))
    }

    pub fn add(&mut self, other: &Scalar) {
        self.value = from_fixed(to_fixed(self.value) + to_fixed(other.value));
    }

    pub fn subtract(&mut self, other: &Scalar) {
        self.value = from_fixed(to_fixed(self.value) - to_fixed(other.value));
    }

    /// Equal in fixed point.
    pub fn same(&self, other: &Scalar) -> bool {
        to_fixed(self.value) == to_fixed(other.value)
    }

    /// At most `other`, in fixed point.
    pub fn le(&self, other: &Scalar) -> bool {
        to_fixed(self.value) <= to_fixed(other.value)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rounded())
    }
}

impl Range {
    pub fn new(begin: u64, end: u64) -> Range {
        Range {
            begin,
            end,
            ..Default::default()
        }
    }
}

impl Ranges {
    /// Coalesced ranges from (begin, end) pairs; inverted pairs are dropped.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u64, u64)>) -> Ranges {
        let mut r = Ranges::default();
        r.set_pairs(pairs.into_iter().filter(|(b, e)| b <= e).collect());
        r
    }

    /// The ranges as (begin, end) pairs, in their order.
    pub fn pairs(&self) -> Vec<(u64, u64)> {
        self.range.iter().map(|r| (r.begin, r.end)).collect()
    }

    fn set_pairs(&mut self, pairs: Vec<(u64, u64)>) {
        self.range = coalesce(pairs)
            .into_iter()
            .map(|(b, e)| Range::new(b, e))
            .collect();
    }

    /// Sorts and merges the ranges that overlap or touch.
    pub fn coalesce(&mut self) {
        let pairs = self.pairs();
        self.set_pairs(pairs);
    }

    pub fn add(&mut self, other: &Ranges) {
        let mut pairs = self.pairs();
        pairs.extend(other.pairs());
        self.set_pairs(pairs);
    }

    pub fn subtract(&mut self, other: &Ranges) {
        let mut out = coalesce(self.pairs());
        for (mb, me) in coalesce(other.pairs()) {
            let mut next = Vec::with_capacity(out.len() + 1);
            for (b, e) in out {
                if me < b || mb > e {
                    next.push((b, e));
                    continue;
                }
                if b < mb {
                    next.push((b, mb - 1));
                }
                if me < e {
                    next.push((me + 1, e));
                }
            }
            out = next;
        }
        self.set_pairs(out);
    }

    /// Whether every number of `other` is in these ranges.
    pub fn contains(&self, other: &Ranges) -> bool {
        let outer = coalesce(self.pairs());
        coalesce(other.pairs())
            .iter()
            .all(|(b, e)| outer.iter().any(|(ob, oe)| ob <= b && e <= oe))
    }

    /// Equal as sets of numbers.
    pub fn same(&self, other: &Ranges) -> bool {
        coalesce(self.pairs()) == coalesce(other.pairs())
    }

    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    /// How many numbers the ranges hold.
    pub fn count(&self) -> u64 {
        coalesce(self.pairs()).iter().map(|(b, e)| e - b + 1).sum()
    }

    /// The numbers in order, at most `limit` of them.
    pub fn numbers(&self, limit: usize) -> Vec<u64> {
        coalesce(self.pairs())
            .into_iter()
            .flat_map(|(b, e)| b..=e)
            .take(limit)
            .collect()
    }
}

/// Sorted, merged (overlapping or adjacent) ranges.
fn coalesce(mut pairs: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    pairs.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(pairs.len());
    for (b, e) in pairs {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

/// `[9000-10000, 31000-32000]`, as Mesos prints ranges.
impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.range.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}-{}", r.begin, r.end)?;
        }
        f.write_str("]")
    }
}

impl Set {
    pub fn from_items(items: impl IntoIterator<Item = String>) -> Set {
        let mut s = Set::default();
        for item in items {
            if !s.item.contains(&item) {
                s.item.push(item);
            }
        }
        s
    }

    pub fn add(&mut self, other: &Set) {
        for i in &other.item {
            if !self.item.contains(i) {
                self.item.push(i.clone());
            }
        }
    }

    pub fn subtract(&mut self, other: &Set) {
        self.item.retain(|i| !other.item.contains(i));
    }

    pub fn contains(&self, other: &Set) -> bool {
        other.item.iter().all(|i| self.item.contains(i))
    }

    /// Equal as sets.
    pub fn same(&self, other: &Set) -> bool {
        self.item.len() == other.item.len() && self.contains(other)
    }
}

/// `{a, b}`, as Mesos prints sets.
impl fmt::Display for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.item.join(", "))
    }
}

impl Text {
    pub fn new(value: impl Into<String>) -> Text {
        Text {
            value: value.into(),
            ..Default::default()
        }
    }
}

/// A value read from its text form.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Scalar(Scalar),
    Ranges(Ranges),
    Set(Set),
    Text(Text),
}

/// Why a value's text does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("expecting a non-empty value")]
    Empty,
    #[error("mismatched brackets in '{0}'")]
    Brackets(String),
    #[error("expecting ranges of non-negative integers in '{0}'")]
    Ranges(String),
    #[error("subnormal values are not supported: '{0}'")]
    Subnormal(String),
}

/// Reads a value as Mesos's agent flags write them (spaces ignored): `[a-b,c-d]` is ranges,
/// `{x,y}` a set, a non-negative finite number a scalar, anything else text.
pub fn parse_value(text: &str) -> Result<Parsed, ValueError> {
    let t: String = text.chars().filter(|c| *c != ' ').collect();
    if t.is_empty() {
        return Err(ValueError::Empty);
    }
    for (open, close) in [('{', '}'), ('[', ']'), ('(', ')')] {
        if !brackets_match(&t, open, close) {
            return Err(ValueError::Brackets(text.to_string()));
        }
    }
    if t.starts_with('[') {
        let tokens: Vec<&str> = t
            .split(['[', ']', '-', ',', '\n'])
            .filter(|s| !s.is_empty())
            .collect();
        if tokens.len() % 2 != 0 {
            return Err(ValueError::Ranges(text.to_string()));
        }
        let mut pairs = Vec::new();
        for pair in tokens.chunks(2) {
            let (Ok(b), Ok(e)) = (pair[0].parse::<u64>(), pair[1].parse::<u64>()) else {
                return Err(ValueError::Ranges(text.to_string()));
            };
            pairs.push((b, e));
        }
        // Mesos keeps inverted ranges here; `Resources` validation refuses them later.
        let mut ranges = Ranges {
            range: pairs.into_iter().map(|(b, e)| Range::new(b, e)).collect(),
            ..Default::default()
        };
        if ranges.range.iter().all(|r| r.begin <= r.end) {
            ranges.coalesce();
        }
        return Ok(Parsed::Ranges(ranges));
    }
    if !t.contains('[') {
        if t.starts_with('{') {
            let items = t
                .split(['{', '}', ',', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            return Ok(Parsed::Set(Set {
                item: items.collect(),
                ..Default::default()
            }));
        }
        if !t.contains('{') {
            if let Some(v) = number(&t) {
                if v != 0.0 && v.abs() < f64::MIN_POSITIVE {
                    return Err(ValueError::Subnormal(text.to_string()));
                }
                if v.is_finite() && v >= 0.0 {
                    return Ok(Parsed::Scalar(Scalar::new(v)));
                }
            }
        }
    }
    Ok(Parsed::Text(Text::new(t)))
}

/// A number as Mesos's `numify<double>` reads one (decimal digits, a sign, an exponent).
fn number(t: &str) -> Option<f64> {
    let plain = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    plain.then(|| t.parse::<f64>().ok()).flatten()
}

fn brackets_match(t: &str, open: char, close: char) -> bool {
    let mut depth: i64 = 0;
    for c in t.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth < 0 {
                return false;
            }
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_fixed_point() {
        let mut a = Scalar::new(0.1);
        a.add(&Scalar::new(0.2));
        assert_eq!(a.value, 0.3);
        a.subtract(&Scalar::new(0.3));
        assert_eq!(a.value, 0.0);
        assert!(Scalar::new(1.0004).same(&Scalar::new(1.0)));
        assert!(!Scalar::new(1.0005).same(&Scalar::new(1.0)));
        assert!(Scalar::new(0.9999).le(&Scalar::new(1.0)));
        assert_eq!(Scalar::new(2.0).to_string(), "2");
        assert_eq!(Scalar::new(0.12345).to_string(), "0.123");
    }

    #[test]
    fn ranges_merge_and_split() {
        let mut r = Ranges::from_pairs([(5, 6), (1, 3), (4, 4), (10, 12)]);
        assert_eq!(r.pairs(), vec![(1, 6), (10, 12)]);
        r.subtract(&Ranges::from_pairs([(2, 2), (11, 20)]));
        assert_eq!(r.pairs(), vec![(1, 1), (3, 6), (10, 10)]);
        assert!(r.contains(&Ranges::from_pairs([(4, 5)])));
        assert!(!r.contains(&Ranges::from_pairs([(6, 7)])));
        r.add(&Ranges::from_pairs([(2, 2), (7, 9)]));
        assert_eq!(r.pairs(), vec![(1, 10)]);
        assert_eq!(r.count(), 10);
        assert_eq!(r.numbers(3), vec![1, 2, 3]);
        assert_eq!(r.to_string(), "[1-10]");
        assert!(Ranges::from_pairs([(1, 2), (3, 4)]).same(&Ranges::from_pairs([(1, 4)])));
        assert_eq!(Ranges::from_pairs([(3, 1)]).range.len(), 0);
    }

    #[test]
    fn sets_have_no_duplicates() {
        let mut s = Set::from_items(["a".to_string(), "b".into(), "a".into()]);
        assert_eq!(s.item, vec!["a", "b"]);
        s.add(&Set::from_items(["c".to_string(), "a".into()]));
        assert_eq!(s.to_string(), "{a, b, c}");
        s.subtract(&Set::from_items(["b".to_string()]));
        assert!(s.contains(&Set::from_items(["c".to_string()])));
        assert!(s.same(&Set::from_items(["c".to_string(), "a".into()])));
    }

    #[test]
    fn values_read_from_text() {
        assert_eq!(parse_value("2"), Ok(Parsed::Scalar(Scalar::new(2.0))));
        assert_eq!(parse_value(" 0.5 "), Ok(Parsed::Scalar(Scalar::new(0.5))));
        assert_eq!(
            parse_value("[31000-32000, 9000-10000]"),
            Ok(Parsed::Ranges(Ranges::from_pairs([
                (9000, 10000),
                (31000, 32000)
            ])))
        );
        assert_eq!(
            parse_value("{a,b}"),
            Ok(Parsed::Set(Set::from_items(["a".to_string(), "b".into()])))
        );
        assert_eq!(parse_value("r2d2"), Ok(Parsed::Text(Text::new("r2d2"))));
        assert_eq!(parse_value("-1"), Ok(Parsed::Text(Text::new("-1"))));
        assert_eq!(
            parse_value("demo,dev"),
            Ok(Parsed::Text(Text::new("demo,dev")))
        );
        assert_eq!(parse_value(""), Err(ValueError::Empty));
        assert!(matches!(parse_value("[1-2"), Err(ValueError::Brackets(_))));
        assert!(matches!(parse_value("[1-2,3]"), Err(ValueError::Ranges(_))));
        assert!(matches!(parse_value("[a-b]"), Err(ValueError::Ranges(_))));
    }
}
