//! Help, completion and inspection: `%help`, Tab and Shift-Tab. Texts are written for
//! people at a notebook, in our own words.

use crate::display::Bundle;
use crate::engine::errors::MAGICS;
use crate::engine::session::{summarize, Variables};
use crate::jupyter::Completion;
use serde_json::json;

/// The language's own statements, with one-line help each.
pub const STATEMENTS: &[(&str, &str, &str)] = &[
    ("PRINT", "PRINT expr", "Writes the value of a jq expression to stdout: strings as they are, other values as JSON."),
    ("EPRINT", "EPRINT expr", "Like PRINT, to stderr."),
    ("ASSERT", "ASSERT expr", "Fails the cell with AssertionFailed unless the jq expression is true."),
    ("WAIT", "WAIT expr [timeout=30s]", "Re-evaluates the jq expression until it is true; a Timeout error when the time is up. Interruptible."),
];

pub fn all_names() -> Vec<&'static str> {
    STATEMENTS.iter().map(|(n, _, _)| *n).collect()
}

fn overview() -> String {
    let mut text = String::from(
        "mesos-kernel: cells speak the Apache Mesos HTTP API.\n\n\
         Statements (one per line; # starts a comment):\n",
    );
    for (_, usage, doc) in STATEMENTS {
        text.push_str(&format!("  {usage:<28} {doc}\n"));
    }
    text.push_str(
        "  expr                         any jq expression over the session's $variables: 1 + 2, $x.a\n\
         \x20 name = STATEMENT             binds the result to $name (and $_ is always the last result)\n\
         \x20 STATEMENT | filter           pipes the result through a jq filter\n\n\
         Magics:\n\
         \x20 %help [NAME]                 this page, or the page of a statement or call\n\
         \x20 %vars                        the session's variables\n\
         \x20 %timeout [DURATION]          the time limit of calls (30s by default)\n",
    );
    text
}

/// The help page for a topic, or the overview for an empty topic.
pub fn help(topic: &str) -> Option<Bundle> {
    if topic.is_empty() {
        return Some(Bundle::text(overview()));
    }
    let upper = topic.trim_start_matches('%').to_ascii_uppercase();
    if let Some((name, usage, doc)) = STATEMENTS.iter().find(|(n, _, _)| *n == upper) {
        return Some(Bundle::text(format!("{name}\n\n  {usage}\n\n{doc}\n")));
    }
    if MAGICS.contains(&topic.trim_start_matches('%')) {
        return Some(Bundle::text(overview()));
    }
    None
}

/// The word around the cursor: its start (in code points) and text up to the cursor.
fn word_at(code: &str, cursor: usize) -> (usize, String) {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let mut start = cursor;
    while start > 0 {
        let c = chars[start - 1];
        if c.is_alphanumeric() || c == '_' || c == '$' || c == '%' {
            start -= 1;
        } else {
            break;
        }
    }
    (start, chars[start..cursor].iter().collect())
}

pub fn complete(code: &str, cursor: usize, vars: &Variables) -> Completion {
    let (start, word) = word_at(code, cursor);
    let mut matches: Vec<String> = Vec::new();
    if let Some(prefix) = word.strip_prefix('$') {
        matches.extend(
            vars.names()
                .filter(|n| n.starts_with(prefix))
                .map(|n| format!("${n}")),
        );
    } else if let Some(prefix) = word.strip_prefix('%') {
        matches.extend(
            MAGICS
                .iter()
                .filter(|m| m.starts_with(prefix))
                .map(|m| format!("%{m}")),
        );
    } else if !word.is_empty() {
        let upper = word.to_ascii_uppercase();
        matches.extend(
            all_names()
                .into_iter()
                .filter(|n| n.starts_with(&upper))
                .map(String::from),
        );
    }
    matches.sort();
    matches.dedup();
    Completion {
        matches,
        cursor_start: start,
        cursor_end: cursor.min(code.chars().count()),
        metadata: json!({}),
    }
}

pub fn inspect(code: &str, cursor: usize, vars: &Variables) -> Option<Bundle> {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let mut end = cursor;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    let (start, _) = word_at(code, end);
    let word: String = chars[start..end].iter().collect();
    if let Some(name) = word.strip_prefix('$') {
        let value = vars.get(name)?;
        let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
        let shown: String = pretty.chars().take(2000).collect();
        return Some(Bundle::text(format!(
            "${name}: {}\n\n{shown}",
            summarize(value)
        )));
    }
    help(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_statements_magics_and_variables() {
        let mut vars = Variables::default();
        vars.set("state", json!({}));
        vars.set("stuff", json!(1));
        let c = complete("ASS", 3, &vars);
        assert_eq!(c.matches, vec!["ASSERT"]);
        let c = complete("PRINT $st", 9, &vars);
        assert_eq!(c.matches, vec!["$state", "$stuff"]);
        assert_eq!(c.cursor_start, 6);
        let c = complete("%ti", 3, &vars);
        assert_eq!(c.matches, vec!["%timeout"]);
    }

    #[test]
    fn completion_positions_are_code_points() {
        let vars = Variables::default();
        let c = complete("PRINT \"é\" # WA", 14, &vars);
        assert_eq!(c.cursor_start, 12);
        assert_eq!(c.matches, vec!["WAIT"]);
    }

    #[test]
    fn inspect_shows_variables_and_statements() {
        let mut vars = Variables::default();
        vars.set("x", json!([1, 2]));
        let b = inspect("PRINT $x", 7, &vars).unwrap();
        assert!(b.plain().unwrap().contains("array of 2 items"));
        assert!(inspect("WAIT true", 2, &vars)
            .unwrap()
            .plain()
            .unwrap()
            .contains("Re-evaluates"));
        assert!(inspect("nothing", 2, &vars).is_none());
    }
}
