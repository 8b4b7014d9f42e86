//! Parsing a cell into statements: one per line, except that open brackets, strings, a
//! leading `|` and HTTP headers and bodies continue a statement onto the next lines.
//! Every statement and argument keeps its position for error carets and completion.

use crate::cells::http;
pub use crate::cells::http::{HttpBody, HttpRequest, HTTP_METHODS};
use crate::cells::lexer::{self, advance, Balance, Pos};

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub pos: Pos,
    /// The statement's text as written, for error messages.
    pub source: String,
    /// `name = ...`
    pub bind: Option<String>,
    pub action: Action,
    /// `... | jq-filter` applied to the result (for calls, JSON calls and HTTP requests;
    /// a bare jq expression keeps its pipes).
    pub filter: Option<String>,
    /// Where the filter's text starts, when the parser knows better than the statement's
    /// first `|` (an HTTP body may hold one).
    pub filter_pos: Option<Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Magic {
        name: String,
        args: String,
    },
    Call(Call),
    /// A `{...}` statement: a jq object; when it evaluates to an object with a `type`,
    /// it is a Mesos call.
    JsonCall {
        code: String,
    },
    Http(HttpRequest),
    Print {
        stderr: bool,
        expr: String,
    },
    Assert {
        expr: String,
    },
    Wait {
        expr: String,
        timeout: Option<String>,
    },
    Expr {
        code: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Routed by name: scheduler for SUBSCRIBE/TEARDOWN and the scheduler's calls, else
    /// the master's operator API.
    Auto,
    Operator,
    /// `agent [ID-or-URL] NAME`
    Agent(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub target: Target,
    pub name: String,
    pub name_pos: Pos,
    pub args: Vec<Arg>,
    /// Bare words such as `watch` in `TASKS watch`.
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub key: String,
    pub value: ArgValue,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A bare word: a number, `true`/`false`/`null`, or else a string.
    Word(String),
    /// A double-quoted string, already decoded.
    Quoted(String),
    /// `$var...`, `(...)`, `{...}` or `[...]`: evaluated as jq.
    Jq(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub pos: Pos,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.message, self.pos)
    }
}

impl ParseError {
    fn new(message: impl Into<String>, pos: Pos) -> Self {
        ParseError {
            message: message.into(),
            pos,
        }
    }

    /// The cell's line with a caret under the column, as a traceback shows it.
    pub fn caret(&self, code: &str) -> Vec<String> {
        let line = code
            .lines()
            .nth(self.pos.line.saturating_sub(1))
            .unwrap_or("");
        vec![
            format!("line {}: {}", self.pos.line, line),
            format!(
                "{}{}^",
                " ".repeat(format!("line {}: ", self.pos.line).len()),
                " ".repeat(self.pos.column.saturating_sub(1))
            ),
        ]
    }
}

pub fn is_call_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && word.len() >= 2
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits `name = rest`, if the statement binds.
fn split_bind(text: &str) -> Option<(&str, &str, usize)> {
    let eq = text.find('=')?;
    let name = text[..eq].trim();
    let after = &text[eq + 1..];
    if !is_identifier(name) || after.starts_with('=') {
        return None;
    }
    let rest_start = eq + 1 + (after.len() - after.trim_start().len());
    Some((name, &text[rest_start..], rest_start))
}

/// Parses a whole cell.
pub fn parse_cell(code: &str) -> Result<Vec<Statement>, ParseError> {
    let lines: Vec<&str> = code.split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let indent = lines[i].chars().count() - lines[i].trim_start().chars().count();
        let pos = Pos {
            line: i + 1,
            column: indent + 1,
        };
        let bound = split_bind(trimmed);
        let head = bound.map_or(trimmed, |(_, rest, _)| rest);
        if http::is_http_line(head) {
            let head_pos = advance(pos, &trimmed[..trimmed.len() - head.len()]);
            let parsed = http::parse(&lines, i, head, head_pos)?;
            let (filter, filter_pos) = parsed.filter.unzip();
            out.push(Statement {
                pos,
                source: lines[i..parsed.end].join("\n").trim_start().to_string(),
                bind: bound.map(|(name, _, _)| name.to_string()),
                action: Action::Http(parsed.request),
                filter,
                filter_pos,
            });
            i = parsed.end;
            continue;
        }
        let mut end = i + 1;
        let mut chunk = trimmed.to_string();
        loop {
            let open = matches!(lexer::balance(&chunk, pos), Balance::Open { .. });
            let continues = end < lines.len()
                && (open || lines[end].trim_start().starts_with('|') || chunk.ends_with('\\'));
            if !continues {
                break;
            }
            if chunk.ends_with('\\') {
                chunk.pop();
            }
            chunk.push('\n');
            chunk.push_str(lines[end]);
            end += 1;
        }
        check_balance(&chunk, pos)?;
        out.push(parse_statement(&chunk, pos)?);
        i = end;
    }
    Ok(out)
}

fn check_balance(text: &str, pos: Pos) -> Result<(), ParseError> {
    match lexer::balance(text, pos) {
        Balance::Balanced => Ok(()),
        Balance::Open { what, at } => Err(ParseError::new(
            match what {
                "string" | "string interpolation" => format!("unterminated {what}"),
                _ => format!("unclosed '{what}'"),
            },
            at,
        )),
        Balance::Unexpected { ch, at } => Err(ParseError::new(format!("unexpected '{ch}'"), at)),
    }
}

/// Parses one statement's text (possibly several lines) starting at `pos`.
pub fn parse_statement(text: &str, pos: Pos) -> Result<Statement, ParseError> {
    let source = text.to_string();
    if let Some(magic) = text.strip_prefix('%') {
        let stripped = lexer::strip_comment(magic).trim();
        let (name, args) = stripped
            .split_once(char::is_whitespace)
            .unwrap_or((stripped, ""));
        if name.is_empty() {
            return Err(ParseError::new("a magic needs a name, e.g. %help", pos));
        }
        return Ok(Statement {
            pos,
            source,
            bind: None,
            action: Action::Magic {
                name: name.to_string(),
                args: args.trim().to_string(),
            },
            filter: None,
            filter_pos: None,
        });
    }
    let (bind, body, body_pos) = match split_bind(text) {
        Some((name, rest, offset)) => {
            if rest.trim().is_empty() {
                return Err(ParseError::new(
                    format!("nothing to bind to '{name}'"),
                    advance(pos, &text[..offset]),
                ));
            }
            (Some(name.to_string()), rest, advance(pos, &text[..offset]))
        }
        None => (None, text, pos),
    };
    if http::is_http_line(body) {
        // Lines before the statement's, so positions count from the cell's first line.
        let first = body_pos.line.saturating_sub(1);
        let lines: Vec<&str> = std::iter::repeat_n("", first)
            .chain(body.split('\n'))
            .collect();
        let parsed = http::parse(&lines, first, lines[first], body_pos)?;
        let (filter, filter_pos) = parsed.filter.unzip();
        return Ok(Statement {
            pos,
            source,
            bind,
            action: Action::Http(parsed.request),
            filter,
            filter_pos,
        });
    }
    let (action, filter) = parse_action(body, body_pos)?;
    Ok(Statement {
        pos,
        source,
        bind,
        action,
        filter,
        filter_pos: None,
    })
}

fn split_filter(text: &str) -> (&str, Option<String>) {
    match lexer::top_level_pipe(text) {
        Some(i) => {
            let filter = lexer::strip_comment(&text[i + 1..]).trim().to_string();
            (&text[..i], Some(filter))
        }
        None => (text, None),
    }
}

fn parse_action(text: &str, pos: Pos) -> Result<(Action, Option<String>), ParseError> {
    let first_line = text.lines().next().unwrap_or("");
    let words = lexer::words(first_line);
    let first = words.first().map(|w| w.text.as_str()).unwrap_or("");
    let rest_of = |w: usize| -> &str { words.get(w).map_or("", |word| &text[word.start..]) };

    match first {
        "PRINT" | "EPRINT" | "ASSERT" => {
            let expr = lexer::strip_comment(rest_of(1)).trim().to_string();
            if expr.is_empty() {
                return Err(ParseError::new(format!("{first} needs an expression"), pos));
            }
            let action = match first {
                "ASSERT" => Action::Assert { expr },
                _ => Action::Print {
                    stderr: first == "EPRINT",
                    expr,
                },
            };
            return Ok((action, None));
        }
        "WAIT" => {
            let rest = lexer::strip_comment(rest_of(1)).trim();
            let mut expr = rest.to_string();
            let mut timeout = None;
            if let Some(last) = lexer::words(rest).last() {
                if let Some(t) = last.text.strip_prefix("timeout=") {
                    timeout = Some(t.to_string());
                    expr = rest[..last.start].trim().to_string();
                }
            }
            if expr.is_empty() {
                return Err(ParseError::new(
                    "WAIT needs a condition, e.g. WAIT ($tasks | length) > 0",
                    pos,
                ));
            }
            return Ok((Action::Wait { expr, timeout }, None));
        }
        _ => {}
    }
    if first == "agent" || first == "operator" {
        let (head, filter) = split_filter(text);
        let words = lexer::words(head);
        let (target, name_idx) = if first == "operator" {
            (Target::Operator, 1)
        } else if words.get(2).is_some_and(|w| is_call_name(&w.text)) {
            (Target::Agent(words.get(1).map(|w| w.text.clone())), 2)
        } else if words.get(1).is_some_and(|w| is_call_name(&w.text)) {
            (Target::Agent(None), 1)
        } else {
            (Target::Agent(words.get(1).map(|w| w.text.clone())), 2)
        };
        let Some(name) = words.get(name_idx) else {
            return Err(ParseError::new(
                format!("'{first}' needs a call name after it, e.g. {first} GET_STATE"),
                advance(pos, head),
            ));
        };
        if !is_call_name(&name.text) {
            return Err(ParseError::new(
                format!(
                    "expected a call name such as GET_STATE, found '{}'",
                    name.text
                ),
                advance(pos, &head[..name.start]),
            ));
        }
        let call = parse_call(head, pos, target, name_idx)?;
        return Ok((Action::Call(call), filter));
    }
    if is_call_name(first) {
        let (head, filter) = split_filter(text);
        let call = parse_call(head, pos, Target::Auto, 0)?;
        return Ok((Action::Call(call), filter));
    }
    if text.trim_start().starts_with('{') {
        let (head, filter) = split_filter(text);
        return Ok((
            Action::JsonCall {
                code: head.trim().to_string(),
            },
            filter,
        ));
    }
    Ok((
        Action::Expr {
            code: text.trim().to_string(),
        },
        None,
    ))
}

fn parse_call(head: &str, pos: Pos, target: Target, name_idx: usize) -> Result<Call, ParseError> {
    let words = lexer::words(head);
    let name_word = &words[name_idx.min(words.len().saturating_sub(1))];
    let mut call = Call {
        target,
        name: name_word.text.clone(),
        name_pos: advance(pos, &head[..name_word.start]),
        args: Vec::new(),
        flags: Vec::new(),
    };
    for word in words.iter().skip(name_idx + 1) {
        let wpos = advance(pos, &head[..word.start]);
        let Some((key, value)) = word.text.split_once('=') else {
            call.flags.push(word.text.clone());
            continue;
        };
        if !is_identifier(key) {
            return Err(ParseError::new(
                format!("'{key}' is not an argument name (use lowercase words such as task_id=)"),
                wpos,
            ));
        }
        let vpos = advance(wpos, &word.text[..key.len() + 1]);
        if value.is_empty() {
            return Err(ParseError::new(format!("{key}= needs a value"), vpos));
        }
        let value = if value.starts_with('"') {
            match serde_json::from_str::<String>(value) {
                Ok(s) => ArgValue::Quoted(s),
                Err(e) => {
                    return Err(ParseError::new(format!("bad string for {key}=: {e}"), vpos));
                }
            }
        } else if value.starts_with(['$', '(', '{', '[']) {
            ArgValue::Jq(value.to_string())
        } else {
            ArgValue::Word(value.to_string())
        };
        call.args.push(Arg {
            key: key.to_string(),
            value,
            pos: wpos,
        });
    }
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(code: &str) -> Statement {
        let mut s = parse_cell(code).unwrap();
        assert_eq!(s.len(), 1, "{s:?}");
        s.remove(0)
    }

    #[test]
    fn bare_expressions_keep_their_pipes() {
        let s = one("[1, 2, 3] | length");
        assert_eq!(
            s.action,
            Action::Expr {
                code: "[1, 2, 3] | length".into()
            }
        );
        assert_eq!(s.filter, None);
    }

    #[test]
    fn comparisons_are_not_bindings() {
        let s = one("$x == 1");
        assert!(matches!(s.action, Action::Expr { .. }));
        assert_eq!(s.bind, None);
    }

    #[test]
    fn calls_with_arguments_bind_and_filter() {
        let s = one(r#"files = READ_FILE path="/tmp/a b" offset=0 length=$n | .read_file.data"#);
        assert_eq!(s.bind.as_deref(), Some("files"));
        assert_eq!(s.filter.as_deref(), Some(".read_file.data"));
        let Action::Call(call) = s.action else {
            panic!()
        };
        assert_eq!(call.name, "READ_FILE");
        assert_eq!(call.name_pos, Pos { line: 1, column: 9 });
        assert_eq!(call.args[0].value, ArgValue::Quoted("/tmp/a b".into()));
        assert_eq!(call.args[1].value, ArgValue::Word("0".into()));
        assert_eq!(call.args[2].value, ArgValue::Jq("$n".into()));
        assert_eq!(
            call.args[2].pos,
            Pos {
                line: 1,
                column: 44
            }
        );
    }

    #[test]
    fn agent_and_operator_targets() {
        let Action::Call(c) = one("agent S1 GET_STATE").action else {
            panic!()
        };
        assert_eq!(c.target, Target::Agent(Some("S1".into())));
        let Action::Call(c) = one("agent GET_CONTAINERS").action else {
            panic!()
        };
        assert_eq!(c.target, Target::Agent(None));
        let Action::Call(c) = one("operator SUBSCRIBE").action else {
            panic!()
        };
        assert_eq!(c.target, Target::Operator);
        assert!(parse_cell("agent").is_err());
    }

    #[test]
    fn flags_are_bare_words() {
        let Action::Call(c) = one("TASKS watch").action else {
            panic!()
        };
        assert_eq!(c.flags, vec!["watch".to_string()]);
    }

    #[test]
    fn multi_line_json_call_with_filter() {
        let s = one("{\"type\": \"GET_STATE\",\n \"x\": [1,\n 2]} | .get_state");
        assert_eq!(s.filter.as_deref(), Some(".get_state"));
        assert!(matches!(s.action, Action::JsonCall { .. }));
    }

    #[test]
    fn http_request_with_headers_and_body() {
        let cells = parse_cell(
            "POST /api/v1\nContent-Type: application/json\n\n{\"type\":\n \"GET_HEALTH\"}\nPRINT 1",
        )
        .unwrap();
        assert_eq!(cells.len(), 2);
        let Action::Http(req) = &cells[0].action else {
            panic!()
        };
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.headers,
            vec![("Content-Type".into(), "application/json".into())]
        );
        assert_eq!(
            req.body,
            Some(HttpBody::Json("{\"type\":\n \"GET_HEALTH\"}".into()))
        );
        assert_eq!(cells[1].pos.line, 6);
    }

    #[test]
    fn get_with_filter_then_next_statement() {
        let cells = parse_cell("state = GET /master/state | .slaves\nASSERT ($state | length) > 0")
            .unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].filter.as_deref(), Some(".slaves"));
        assert_eq!(
            cells[1].action,
            Action::Assert {
                expr: "($state | length) > 0".into()
            }
        );
    }

    #[test]
    fn wait_takes_a_timeout() {
        let s = one("WAIT ($tasks | length) > 0 timeout=30s");
        assert_eq!(
            s.action,
            Action::Wait {
                expr: "($tasks | length) > 0".into(),
                timeout: Some("30s".into())
            }
        );
    }

    #[test]
    fn leading_pipe_continues() {
        let s = one("[1, 2]\n  | length");
        assert_eq!(
            s.action,
            Action::Expr {
                code: "[1, 2]\n  | length".into()
            }
        );
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let e = parse_cell("PRINT 1\nx = [1,\n 2").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, column: 5 });
        assert!(e.message.contains("unclosed '['"));
        let e = parse_cell("  [1}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, column: 5 });
        let caret = e.caret("  [1}");
        assert_eq!(caret[1].find('^'), Some("line 1: ".len() + 4));
        let e = parse_cell("READ_FILE path=").unwrap_err();
        assert_eq!(
            e.pos,
            Pos {
                line: 1,
                column: 16
            }
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let cells = parse_cell("# a comment\n\n1 + 2 # trailing\n").unwrap();
        assert_eq!(cells.len(), 1);
    }

    #[test]
    fn magics() {
        let s = one("%timeout 5s");
        assert_eq!(
            s.action,
            Action::Magic {
                name: "timeout".into(),
                args: "5s".into()
            }
        );
    }
}
