//! The error kinds a cell can end with, and how each is worded: `ename` is the kind,
//! `evalue` one line a person understands, the traceback what they need to fix it.

use crate::cells::lexer::{advance, Pos};
use crate::cells::parser::Statement;
use crate::cells::registry;
use crate::engine::jq::JqError;
use crate::engine::session::Variables;
use crate::jupyter::CellError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ParseError,
    JqError,
    AssertionFailed,
    Timeout,
    Interrupted,
    UnknownCall,
    UnknownMagic,
    InvalidCall,
    MesosHttpError,
    ConnectionError,
    Internal,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::ParseError => "ParseError",
            Kind::JqError => "JqError",
            Kind::AssertionFailed => "AssertionFailed",
            Kind::Timeout => "Timeout",
            Kind::Interrupted => "Interrupted",
            Kind::UnknownCall => "UnknownCall",
            Kind::UnknownMagic => "UnknownMagic",
            Kind::InvalidCall => "InvalidCall",
            Kind::MesosHttpError => "MesosHttpError",
            Kind::ConnectionError => "ConnectionError",
            Kind::Internal => "InternalError",
        }
    }
}

pub const MAGICS: &[&str] = &[
    "help", "vars", "timeout", "master", "agent", "ack", "auth", "http", "record", "replay",
];

pub fn interrupted() -> CellError {
    CellError::new(Kind::Interrupted.name(), "interrupted by the user")
}

/// Adds the statement (and its line) to the traceback, so a multi-statement cell says
/// which statement failed. The evalue is made one line: messages quote the statement
/// (`ASSERT expr is not true`), and a statement may span lines.
pub fn locate(mut e: CellError, stmt: &Statement) -> CellError {
    if e.evalue.contains(['\n', '\r']) {
        e.evalue = e.evalue.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if e.traceback.len() <= 1 {
        let first_line = stmt.source.lines().next().unwrap_or("");
        e.traceback = vec![
            format!("line {}: {}", stmt.pos.line, first_line),
            format!("{}: {}", e.ename, e.evalue),
        ];
    }
    e
}

/// Up to `max` of `candidates` close to `name`, best first (for magics; calls use the
/// registry's own ranking).
pub fn close_matches<'a>(name: &str, candidates: &[&'a str], max: usize) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(max).map(|(_, c)| c).collect()
}

fn did_you_mean(matches: &[&str], prefix: &str) -> String {
    match matches {
        [] => String::new(),
        [one] => format!(" (did you mean {prefix}{one}?)"),
        many => format!(
            " (did you mean {}?)",
            many.iter()
                .map(|m| format!("{prefix}{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn unknown_call(name: &str) -> CellError {
    let matches = registry::suggest(name, 3);
    CellError::new(
        Kind::UnknownCall.name(),
        format!(
            "{name} is not a Mesos call or statement{}",
            did_you_mean(&matches, "")
        ),
    )
}

pub fn unknown_magic(name: &str) -> CellError {
    let matches = close_matches(name, MAGICS, 2);
    CellError::new(
        Kind::UnknownMagic.name(),
        format!(
            "%{name} is not a magic{}; %help lists them",
            did_you_mean(&matches, "%")
        ),
    )
}

pub fn unknown_help(topic: &str) -> CellError {
    let matches = registry::suggest(topic, 3);
    CellError::new(
        Kind::UnknownCall.name(),
        format!("no help for '{topic}'{}", did_you_mean(&matches, "")),
    )
}

/// A jq error, with a caret under the place when jaq gave one.
pub fn jq_error(e: &JqError, code: &str, at: Pos, vars: &Variables) -> CellError {
    let mut message = e.to_string();
    if let JqError::Compile(m) = e {
        // `GET_HEALTH | .healthy` inside a jq expression: calls are statements, not filters.
        let call = m
            .split_whitespace()
            .skip_while(|w| *w != "filter")
            .nth(1)
            .filter(|name| crate::cells::parser::is_call_name(name));
        if let Some(name) = call {
            message = format!(
                "{m}: {name} is a call, and calls cannot run inside a jq expression; bind its result first (x = {name}) and use $x"
            );
        } else if m.contains("variable") {
            let known: Vec<String> = vars.names().map(|n| format!("${n}")).collect();
            message = if known.is_empty() {
                format!("{m} (no variables are bound yet)")
            } else {
                format!("{m} (bound: {})", known.join(", "))
            };
        }
    }
    let mut err = CellError::new(Kind::JqError.name(), message.clone());
    if let Some(offset) = e.offset() {
        let prefix: String = code.chars().take(offset).collect();
        let pos = advance(at, &prefix);
        let line = code
            .lines()
            .nth(prefix.matches('\n').count())
            .unwrap_or(code);
        let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count());
        err.evalue = format!("{message} (at line {}, column {})", pos.line, pos.column);
        err.traceback = vec![
            format!("  {line}"),
            format!("  {}^", " ".repeat(col)),
            format!("JqError: {}", err.evalue),
        ];
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_errors_are_one_line() {
        // Found by tests/bad_input: `ASSERT [1,\n 2] == 3` quoted both lines in its evalue.
        let stmt = crate::cells::parser::parse_cell("ASSERT [1,\n 2] == 3")
            .unwrap()
            .remove(0);
        let e = CellError::new("AssertionFailed", "ASSERT [1,\n 2] == 3 is not true");
        let e = locate(e, &stmt);
        assert_eq!(e.evalue, "ASSERT [1, 2] == 3 is not true");
        assert_eq!(
            e.traceback[1],
            "AssertionFailed: ASSERT [1, 2] == 3 is not true"
        );
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        assert!(unknown_call("GET_VERSON")
            .evalue
            .contains("did you mean GET_VERSION"));
        assert!(unknown_magic("tiemout").evalue.contains("%timeout"));
        assert!(!unknown_call("XYZZYQ").evalue.contains("did you mean"));
    }
}
