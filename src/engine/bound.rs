//! A bound value (`$_`, a name a cell bound): built, or a call's JSON answer kept as its
//! text. A big answer is shown from its projection (`display::projection`) and queried in
//! the jq worker, which is sent the text as it came; the kernel builds the `Value` only
//! when something of its own reads it (`%vars`, a helper's argument), once.

use serde_json::Value;
use std::fmt;
use std::sync::OnceLock;

/// An answer's text is worth keeping unparsed from this size on; below it, parsing costs
/// less than a second pass would.
pub const KEEP_AS_TEXT_FROM: usize = 1 << 20;

#[derive(Default)]
pub struct Bound {
    /// The JSON text it was read from, when it was kept unparsed.
    text: Option<Vec<u8>>,
    value: OnceLock<Value>,
}

impl Bound {
    pub fn of(value: Value) -> Bound {
        Bound {
            text: None,
            value: OnceLock::from(value),
        }
    }

    /// A value kept as `text`, which the caller has read as JSON already (so parsing it
    /// again cannot fail).
    pub fn json(text: Vec<u8>) -> Bound {
        Bound {
            text: Some(text),
            value: OnceLock::new(),
        }
    }

    /// The value, parsed from its text the first time it is asked for.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            self.text
                .as_deref()
                .and_then(|t| serde_json::from_slice(t).ok())
                .unwrap_or(Value::Null)
        })
    }

    /// The value, owned.
    pub fn into_value(self) -> Value {
        let Bound { text, value } = self;
        match (value.into_inner(), text) {
            (Some(v), _) => v,
            (None, Some(t)) => serde_json::from_slice(&t).unwrap_or(Value::Null),
            (None, None) => Value::Null,
        }
    }

    /// Its JSON text, when it is kept as text.
    pub fn text(&self) -> Option<&[u8]> {
        self.text.as_deref()
    }

    /// Whether it is big enough to be freed off the cell's thread.
    pub fn is_big(&self) -> bool {
        self.value.get().is_some_and(is_big)
            || self
                .text
                .as_ref()
                .is_some_and(|t| t.len() >= KEEP_AS_TEXT_FROM)
    }
}

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.text, self.value.get()) {
            (Some(t), None) => write!(f, "Bound(JSON text of {} bytes)", t.len()),
            (_, v) => write!(f, "Bound({v:?})"),
        }
    }
}

/// A value with more nodes than this is freed on the drop thread.
const BIG_VALUE_NODES: usize = 4096;

/// Whether `value` has more than `BIG_VALUE_NODES` nodes, looking at no more than that.
pub fn is_big(value: &Value) -> bool {
    let mut budget = BIG_VALUE_NODES;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        if budget == 0 {
            return true;
        }
        budget -= 1;
        match v {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_kept_as_text_is_parsed_once_when_read() {
        let b = Bound::json(br#"{"a": [1, 2]}"#.to_vec());
        assert_eq!(b.text(), Some(&br#"{"a": [1, 2]}"#[..]));
        assert_eq!(b.value(), &json!({"a": [1, 2]}));
        assert!(std::ptr::eq(b.value(), b.value()));
        assert_eq!(b.into_value(), json!({"a": [1, 2]}));
        assert_eq!(Bound::of(json!(3)).text(), None);
        assert_eq!(Bound::json(b"[]".to_vec()).into_value(), json!([]));
    }

    #[test]
    fn big_values_and_texts() {
        assert!(is_big(&json!({"items": (0..5000).collect::<Vec<u32>>()})));
        assert!(!is_big(&json!([1, 2, 3])));
        assert!(Bound::json(vec![b' '; KEEP_AS_TEXT_FROM]).is_big());
        assert!(!Bound::json(b"[1]".to_vec()).is_big());
    }
}
