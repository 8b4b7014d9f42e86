//! The input history of this session, answering `history_request` (tail, range, search).

use serde_json::{json, Value};

/// This kernel keeps history in memory for its own session, numbered 1.
pub const SESSION: i64 = 1;

#[derive(Debug, Default)]
pub struct History {
    entries: Vec<(u64, String)>,
}

impl History {
    pub fn push(&mut self, line: u64, input: &str) {
        self.entries.push((line, input.to_string()));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `history` array of a history_reply for the request's content.
    pub fn query(&self, content: &Value) -> Vec<Value> {
        let output = content
            .get("output")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let access = content
            .get("hist_access_type")
            .and_then(Value::as_str)
            .unwrap_or("tail");
        let n = content.get("n").and_then(Value::as_u64).map(|n| n as usize);
        let selected: Vec<&(u64, String)> = match access {
            "range" => {
                let session = content.get("session").and_then(Value::as_i64).unwrap_or(0);
                // 0 is "this session" and negative numbers count back from it.
                if session != 0 && session != SESSION {
                    Vec::new()
                } else {
                    let start = content.get("start").and_then(Value::as_u64).unwrap_or(0);
                    let stop = content.get("stop").and_then(Value::as_u64);
                    self.entries
                        .iter()
                        .filter(|(line, _)| *line >= start && stop.is_none_or(|s| *line < s))
                        .collect()
                }
            }
            "search" => {
                let pattern = content
                    .get("pattern")
                    .and_then(Value::as_str)
                    .unwrap_or("*");
                let unique = content
                    .get("unique")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let matcher = glob::Pattern::new(pattern).ok();
                let mut hits: Vec<&(u64, String)> = self
                    .entries
                    .iter()
                    .filter(|(_, input)| matcher.as_ref().is_some_and(|m| m.matches(input)))
                    .collect();
                if unique {
                    // Keep the latest occurrence of each input, in order.
                    let mut seen = std::collections::HashSet::new();
                    let mut kept: Vec<&(u64, String)> = hits
                        .iter()
                        .rev()
                        .filter(|(_, input)| seen.insert(input.as_str()))
                        .copied()
                        .collect();
                    kept.reverse();
                    hits = kept;
                }
                tail(hits, n)
            }
            _ => tail(self.entries.iter().collect(), n.or(Some(10))),
        };
        selected
            .into_iter()
            .map(|(line, input)| {
                if output {
                    json!([SESSION, line, [input, null]])
                } else {
                    json!([SESSION, line, input])
                }
            })
            .collect()
    }
}

fn tail<T>(mut items: Vec<T>, n: Option<usize>) -> Vec<T> {
    if let Some(n) = n {
        if items.len() > n {
            items.drain(..items.len() - n);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::default();
        for (i, code) in ["1+1", "1+2", "PRINT 3", "1+1", "GET_STATE"]
            .iter()
            .enumerate()
        {
            h.push(i as u64 + 1, code);
        }
        h
    }

    #[test]
    fn tail_gives_the_last_n() {
        let got = sample().query(&json!({"hist_access_type": "tail", "n": 2}));
        assert_eq!(got, vec![json!([1, 4, "1+1"]), json!([1, 5, "GET_STATE"])]);
    }

    #[test]
    fn range_is_half_open() {
        let got = sample()
            .query(&json!({"hist_access_type": "range", "session": 0, "start": 2, "stop": 4}));
        assert_eq!(got, vec![json!([1, 2, "1+2"]), json!([1, 3, "PRINT 3"])]);
        let other = sample().query(&json!({"hist_access_type": "range", "session": 7, "start": 1}));
        assert!(other.is_empty());
    }

    #[test]
    fn search_globs_unique_and_n() {
        let h = sample();
        let all = h.query(&json!({"hist_access_type": "search", "pattern": "1+*"}));
        assert_eq!(all.len(), 3);
        let unique =
            h.query(&json!({"hist_access_type": "search", "pattern": "1+*", "unique": true}));
        assert_eq!(unique, vec![json!([1, 2, "1+2"]), json!([1, 4, "1+1"])]);
        let n = h.query(&json!({"hist_access_type": "search", "pattern": "*", "n": 2}));
        assert_eq!(n.len(), 2);
        let q = h.query(&json!({"hist_access_type": "search", "pattern": "1?2*"}));
        assert_eq!(q, vec![json!([1, 2, "1+2"])]);
    }

    #[test]
    fn output_form_pairs_input_and_output() {
        let got = sample().query(&json!({"hist_access_type": "tail", "n": 1, "output": true}));
        assert_eq!(got, vec![json!([1, 5, ["GET_STATE", null]])]);
    }
}
