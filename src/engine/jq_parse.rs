//! JSON read into jaq values for the jq worker, faster than jaq-json's own `Deserialize`.
//!
//! Why: a filter on a 15.7 MB GET_STATE spent most of the worker's time reading the
//! answer (`perf`: allocating and checking every string twice over, growing every
//! object's table key by key, then freeing it all). Here a string without escapes is a
//! slice of the buffer it came in (one shared allocation for all of them, no copy, no
//! second UTF-8 check: serde_json checked it), and an object's table is made once with
//! room for all of its keys.
//!
//! Numbers become what jaq-json makes of them (integers exact, the rest `f64`), so a
//! value read here is the value read by jaq-json.

use bytes::Bytes;
use jaq_json::{Map, Num, Val};
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::rc::Rc;

/// Reads `buf` as one JSON value of any depth (the caller runs this on a big stack), its
/// strings slices of `buf`: the fastest read, for a value used once (a filter's input; a
/// held variable is read as `held::HeldVar`, with its strings near its objects).
pub fn parse(buf: &Bytes) -> serde_json::Result<Val> {
    let mut de = serde_json::Deserializer::from_slice(buf);
    de.disable_recursion_limit();
    let value = Seed { buf }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    buf: &'a Bytes,
}

impl Seed<'_> {
    /// A string seen in `buf` shares it; one that had escapes (decoded elsewhere) is copied.
    fn string(&self, s: &str) -> Val {
        let range = self.buf.as_ptr_range();
        let bytes = s.as_bytes().as_ptr_range();
        if range.start <= bytes.start && bytes.end <= range.end {
            return Val::utf8_str(self.buf.slice_ref(s.as_bytes()));
        }
        Val::utf8_str(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Val;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Val, E> {
        Ok(Val::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Val, E> {
        Ok(Val::Num(Num::from_integral(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Val, E> {
        Ok(Val::Num(Num::from_integral(n)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Val, E> {
        Ok(Val::Num(Num::Float(n)))
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Val, E> {
        Ok(self.string(s))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Val, E> {
        Ok(self.string(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Val::Arr(Rc::new(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry_seed(self, self)? {
            entries.push(entry);
        }
        let mut out = Map::with_capacity_and_hasher(entries.len(), Default::default());
        // A repeated key keeps its first place and its last value, as jaq-json reads it.
        out.extend(entries);
        Ok(Val::obj(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theirs(text: &str) -> Val {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_what_jaq_json_reads() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e300, 18446744073709551615, true, null, "x"], "b": {}}"#,
            r#"{"k": 1, "k": 2, "j": 3}"#,
            r#""esc\"aped \u00e9 \ud83d\ude00""#,
            r#"[[], [[]], {"": ""}]"#,
            "123456789012345678901234567890",
        ] {
            let ours = parse(&Bytes::copy_from_slice(text.as_bytes())).unwrap();
            assert_eq!(ours, theirs(text), "{text}");
            assert_eq!(ours.to_string(), theirs(text).to_string(), "{text}");
        }
    }

    #[test]
    fn broken_json_is_an_error() {
        for text in ["{", r#"{"a" 1}"#, "[1,]", "1 2", "\"\\x\""] {
            assert!(
                parse(&Bytes::copy_from_slice(text.as_bytes())).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn deep_values_are_read() {
        let text = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let buf = Bytes::from(text.into_bytes());
        stacker::grow(64 * 1024 * 1024, || {
            assert!(parse(&buf).is_ok());
        });
    }
}
