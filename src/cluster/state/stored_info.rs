//! A task's TaskInfo as the master keeps it: its JSON text, with the master's defaults,
//! read back a field at a time. Held as a `serde_json::Value` it took 3.2 KB of heap per
//! task for about 500 bytes of JSON (heaptrack, 3,000 tasks: 9.7 MB of the cluster's 68 MB
//! peak), and a task keeps its TaskInfo for its life. What the answers show of it every
//! time is written once (`task_json.rs`); the rest (a command, a kill policy, a check) is
//! read when it is needed, by scanning the text for that one field.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;

#[derive(Clone)]
pub struct StoredInfo(Box<RawValue>);

impl StoredInfo {
    pub fn new(info: &Value) -> StoredInfo {
        // Writing a `Value` cannot fail (its keys are strings); `null` would be kept were
        // it ever to.
        StoredInfo(
            serde_json::value::to_raw_value(info).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        )
    }

    /// A TaskInfo kept before (`text`).
    pub fn from_text(text: Box<RawValue>) -> StoredInfo {
        StoredInfo(text)
    }

    /// Its text, as it is kept.
    pub fn text(&self) -> &RawValue {
        &self.0
    }

    /// The whole TaskInfo, read again from its text.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// One top-level field (`container`, `kill_policy` ...), read from its text alone.
    pub fn get(&self, key: &str) -> Option<Value> {
        let mut de = serde_json::Deserializer::from_str(self.0.get());
        let raw = Field(key).deserialize(&mut de).ok().flatten()?;
        serde_json::from_str(raw.get()).ok()
    }

    /// One top-level field's text, as it is kept.
    pub fn raw(&self, key: &str) -> Option<Box<RawValue>> {
        let mut de = serde_json::Deserializer::from_str(self.0.get());
        Field(key)
            .deserialize(&mut de)
            .ok()
            .flatten()
            .map(RawValue::to_owned)
    }

    /// What a JSON pointer (`/command/user`) names, as `Value::pointer` finds it.
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        let rest = pointer.strip_prefix('/')?;
        let (first, inner) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let first = first.replace("~1", "/").replace("~0", "~");
        let top = self.get(&first)?;
        if inner.is_empty() {
            Some(top)
        } else {
            top.pointer(inner).cloned()
        }
    }
}

impl Serialize for StoredInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl fmt::Debug for StoredInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredInfo({})", self.0.get())
    }
}

/// Finds one field of a JSON object, borrowing its text; the others are skipped unparsed.
struct Field<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.0))? {
            if wanted && found.is_none() {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether an object's key is the one looked for (escaped keys compare once unescaped).
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_fields_and_pointers_from_the_text_and_writes_it_back_as_it_came() {
        let info = json!({"name": "t", "task_id": {"value": "t1"},
            "command": {"value": "sleep 1", "user": "nobody", "uris": [{"value": "u"}]},
            "a\"b": 1, "x/y": {"z~": 2}, "kill_policy": {"grace_period": {"nanoseconds": 5}}});
        let kept = StoredInfo::new(&info);
        assert_eq!(kept.value(), info);
        assert_eq!(kept.get("name"), Some(json!("t")));
        assert_eq!(kept.get("a\"b"), Some(json!(1)));
        assert_eq!(kept.get("missing"), None);
        assert_eq!(kept.get("kill_policy"), info.get("kill_policy").cloned());
        for p in [
            "/command/user",
            "/command/uris/0/value",
            "/x~1y/z~0",
            "/command",
            "/nope/x",
        ] {
            assert_eq!(kept.pointer(p), info.pointer(p).cloned(), "{p}");
        }
        assert_eq!(
            serde_json::to_string(&kept).ok(),
            serde_json::to_string(&info).ok()
        );
    }
}
