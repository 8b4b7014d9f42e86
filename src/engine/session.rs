//! Session variables: every name a cell bound, `$_` (the last result), and the values the
//! kernel maintains (later `$master`, `$agent`, `$offers` ...). All are jq variables.

use super::bound::Bound;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

/// Values are shared: a result bound to a name is also `$_` without a copy (a big
/// cluster's state is tens of MB of JSON, and copying it took longer than parsing it).
#[derive(Debug, Default)]
pub struct Variables {
    values: BTreeMap<String, Arc<Bound>>,
    /// Bumped on every assignment: the jq worker keeps converted copies of the variables
    /// and is sent a value again only when its generation changed.
    generations: BTreeMap<String, u64>,
    assignments: u64,
}

impl Variables {
    pub fn set(&mut self, name: &str, value: Value) {
        self.set_shared(name, Arc::new(Bound::of(value)));
    }

    /// Binds a value another variable may hold too.
    pub fn set_shared(&mut self, name: &str, value: Arc<Bound>) {
        self.assignments += 1;
        self.generations.insert(name.to_string(), self.assignments);
        if let Some(old) = self.values.insert(name.to_string(), value) {
            release(old);
        }
    }

    /// Changes each time `name` is assigned; `None` when it is not set.
    pub fn generation(&self, name: &str) -> Option<u64> {
        self.generations.get(name).copied()
    }

    /// Its value (parsed now if it was kept as JSON text).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).map(|v| v.value())
    }

    /// It as it is held: the jq worker takes a value kept as text without a parse.
    pub fn bound(&self, name: &str) -> Option<&Bound> {
        self.values.get(name).map(|v| &**v)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.values.iter().map(|(k, v)| (k, v.value()))
    }

    /// The variables `code` mentions, cloned for an evaluation. Only those are converted,
    /// so a large `$state` costs nothing to expressions that do not use it.
    pub fn referenced(&self, code: &str) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for name in referenced_names(code) {
            if out.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Some(v) = self.values.get(name) {
                out.push((name.to_string(), v.value().clone()));
            }
        }
        out
    }
}

/// Quiet time on the drop thread after which freed memory is given back to the system.
const GIVE_BACK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Drops a replaced value. A big one (the previous `$_` of a 19 MB GET_STATE took about
/// 170 ms to free) goes to a thread of its own, so the cell that replaced it need not wait.
fn release(old: Arc<Bound>) {
    static DROPPER: OnceLock<Option<mpsc::Sender<Arc<Bound>>>> = OnceLock::new();
    if Arc::strong_count(&old) > 1 || !old.is_big() {
        return;
    }
    let dropper = DROPPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Arc<Bound>>();
        std::thread::Builder::new()
            .name("drop-values".into())
            .spawn(move || {
                // Memory goes back to the system once no big value was freed for a while:
                // giving it back after each one made the next big result fault its pages
                // in again (about 80 ms on a 19 MB GET_STATE run back to back).
                let mut freed = false;
                loop {
                    match rx.recv_timeout(GIVE_BACK_AFTER) {
                        Ok(value) => {
                            drop(value);
                            freed = true;
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if std::mem::take(&mut freed) {
                                give_back_free_memory();
                            }
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = dropper {
        // If the thread is gone, the value comes back in the error and is dropped here.
        let _ = tx.send(old);
    }
}

/// Returns the pages big values left free to the system: glibc keeps them in the arena of
/// the thread that parsed the value otherwise, and the kernel's RSS would stay at its peak
/// after one big result or one flood of events.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and releases the allocator's own free lists; it is
    // thread-safe and takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `$name` occurrences in jq code (outside strings is not checked: an extra variable is
/// harmless).
pub fn referenced_names(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start {
                out.push(&code[start..end]);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// One line saying what a value is, for `%vars` and inspection.
pub fn summarize(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let shown: String = s.chars().take(60).collect();
            if shown.len() < s.len() {
                format!("string ({} chars): {:?}…", s.chars().count(), shown)
            } else {
                format!("{s:?}")
            }
        }
        Value::Array(items) => format!("array of {} items", items.len()),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
            let more = if map.len() > 6 { ", …" } else { "" };
            format!(
                "object with {} keys: {}{}",
                map.len(),
                keys.join(", "),
                more
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_referenced_variables_are_passed() {
        let mut v = Variables::default();
        v.set("state", json!({"big": [1, 2, 3]}));
        v.set("x", json!(1));
        v.set("_", json!(2));
        let got = v.referenced("$x + $_ + $x + $missing");
        assert_eq!(
            got,
            vec![("x".to_string(), json!(1)), ("_".to_string(), json!(2))]
        );
    }

    #[test]
    fn shared_values_and_big_replacements() {
        let mut v = Variables::default();
        let big = Arc::new(Bound::of(json!({"items": (0..5000).collect::<Vec<u32>>()})));
        assert!(big.is_big());
        v.set_shared("_", big.clone());
        v.set_shared("state", big);
        assert_eq!(v.get("_"), v.get("state"));
        // Replacing both frees it (on the drop thread); the names see the new values.
        v.set("_", json!(1));
        v.set("state", json!(2));
        assert_eq!(v.get("_"), Some(&json!(1)));
        assert_eq!(v.get("state"), Some(&json!(2)));
    }

    #[test]
    fn summaries() {
        assert_eq!(summarize(&json!([1, 2])), "array of 2 items");
        assert!(summarize(&json!({"a": 1})).starts_with("object with 1 keys: a"));
    }
}
