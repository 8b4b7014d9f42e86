//! The MIME bundle: the `data` and `metadata` pair that `display_data`, `execute_result`,
//! `inspect_reply` and `user_expressions` carry. It is the protocol's own shape, so the
//! Jupyter core owns it; what goes into one (tables, JSON trees, charts) is `display/`'s
//! business.

use serde_json::{Map, Value};

/// A `data` + `metadata` pair as display_data and execute_result carry it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    pub data: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

impl Bundle {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, mime: &str, value: impl Into<Value>) -> Self {
        self.data.insert(mime.to_string(), value.into());
        self
    }

    pub fn with_meta(mut self, key: &str, value: Value) -> Self {
        self.metadata.insert(key.to_string(), value);
        self
    }

    pub fn text(text: impl Into<String>) -> Self {
        Bundle::new().with("text/plain", Value::String(text.into()))
    }

    pub fn plain(&self) -> Option<&str> {
        self.data.get("text/plain").and_then(Value::as_str)
    }

    pub fn to_json(&self) -> (Value, Value) {
        (
            Value::Object(self.data.clone()),
            Value::Object(self.metadata.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_and_metadata_go_out_as_objects() {
        let b = Bundle::text("3")
            .with("text/html", "<b>3</b>")
            .with_meta("k", json!(1));
        assert_eq!(b.plain(), Some("3"));
        let (data, metadata) = b.to_json();
        assert_eq!(data, json!({"text/plain": "3", "text/html": "<b>3</b>"}));
        assert_eq!(metadata, json!({"k": 1}));
        assert_eq!(Bundle::new().to_json(), (json!({}), json!({})));
    }
}
