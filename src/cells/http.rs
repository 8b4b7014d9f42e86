//! Raw HTTP requests in cells, in the style of REST-client `.http` files:
//!
//! ```text
//! POST /api/v1                      request line: METHOD TARGET [HTTP/1.1] [| filter]
//! Content-Type: application/json    header lines, directly below
//!                                   one blank line, then the body (not for GET or HEAD)
//! {"type": "GET_HEALTH"}            the body
//! | .get_health                     `|` lines: the answer's filter (| json, | table, jq)
//! ```
//!
//! Where the body ends: a body starting with `{` or `[` is JSON (or a jq program) and ends
//! where its brackets close; any other body is text and ends at the next blank line or `|`
//! line, or at the end of the cell. A line starting with `|` right after the request filters
//! the answer. A request without a body ends at its last header; so does one whose blank
//! line is followed by a second blank line. Nothing else ends a body: a text body takes the
//! lines below it as they are, statements included, until the blank line.

use crate::cells::lexer::{self, advance, Balance, Pos};
use crate::cells::parser::ParseError;

pub const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// A path (`/master/state`), a URL, or starting with `$` (`$agent/state`).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<HttpBody>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    /// Starting with `{` or `[`: sent as written when it is JSON; otherwise a jq program
    /// (`$offers[0].id` may stand for a value) whose value is sent as JSON.
    Json(String),
    /// Anything else, sent as written.
    Text(String),
}

/// A request, parsed from its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub request: HttpRequest,
    /// The answer's filter and where its text starts.
    pub filter: Option<Filter>,
    /// The index of the first line after the request.
    pub end: usize,
}

/// Whether a line (after any `name =`) starts an HTTP request.
pub fn is_http_line(text: &str) -> bool {
    let mut parts = text.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return false;
    };
    HTTP_METHODS.contains(&method)
        && (target.starts_with('/')
            || target.starts_with('$')
            || target.starts_with("http://")
            || target.starts_with("https://"))
}

fn is_header_line(line: &str) -> bool {
    let Some((name, _)) = line.split_once(':') else {
        return false;
    };
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn is_filter_line(line: &str) -> bool {
    line.trim_start().starts_with('|')
}

fn open_error(text: &str, pos: Pos) -> Result<(), ParseError> {
    match lexer::balance(text, pos) {
        Balance::Balanced => Ok(()),
        Balance::Open { what, at } => Err(ParseError {
            message: match what {
                "string" | "string interpolation" => format!("unterminated {what}"),
                _ => format!("unclosed '{what}'"),
            },
            pos: at,
        }),
        Balance::Unexpected { ch, at } => Err(ParseError {
            message: format!("unexpected '{ch}'"),
            pos: at,
        }),
    }
}

/// Lines from `k` while `text` (which they extend) has brackets or strings open.
fn while_open(lines: &[&str], mut k: usize, text: &mut String, pos: Pos) -> usize {
    while matches!(lexer::balance(text, pos), Balance::Open { .. }) && k < lines.len() {
        text.push('\n');
        text.push_str(lines[k]);
        k += 1;
    }
    k
}

fn pos_of(line: usize, col: usize) -> Pos {
    Pos {
        line: line + 1,
        column: col + 1,
    }
}

/// A filter and where its text starts.
type Filter = (String, Pos);

/// The request line: method, target, and a filter after a `|`.
fn request_line(
    first: &str,
    first_pos: Pos,
) -> Result<(String, String, Option<Filter>), ParseError> {
    let (line, filter) = match lexer::top_level_pipe(first) {
        Some(i) => {
            let text = lexer::strip_comment(&first[i + 1..]).trim().to_string();
            (
                &first[..i],
                Some((text, advance(first_pos, &first[..i + 1]))),
            )
        }
        None => (first, None),
    };
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    if let Some(extra) = parts.next().filter(|e| !e.starts_with("HTTP/")) {
        return Err(ParseError {
            message: format!(
                "unexpected '{extra}' after the request target (headers go on the next lines)"
            ),
            pos: advance(first_pos, &line[..line.find(extra).unwrap_or(0)]),
        });
    }
    Ok((method, target, filter))
}

/// The body starting at line `k`, the line after it, and a filter on its last line.
fn body(lines: &[&str], k: usize) -> Result<(HttpBody, usize, Option<Filter>), ParseError> {
    let line = lines[k];
    if !line.trim_start().starts_with(['{', '[']) {
        // Text: to the next blank line or `|` line, or the end of the cell.
        let mut j = k;
        while j < lines.len() && !lines[j].trim().is_empty() && !is_filter_line(lines[j]) {
            j += 1;
        }
        return Ok((HttpBody::Text(lines[k..j].join("\n")), j, None));
    }
    // JSON or jq: to where its brackets close, with `| filter` allowed on that line.
    let indent = line.chars().count() - line.trim_start().chars().count();
    let pos = pos_of(k, indent);
    let mut text = line.trim_start().to_string();
    let end = while_open(lines, k + 1, &mut text, pos);
    open_error(&text, pos)?;
    Ok(match lexer::top_level_pipe(&text) {
        Some(i) => {
            let filter = (text[i + 1..].to_string(), advance(pos, &text[..i + 1]));
            (
                HttpBody::Json(text[..i].trim().to_string()),
                end,
                Some(filter),
            )
        }
        None => (HttpBody::Json(text.trim().to_string()), end, None),
    })
}

/// `|` lines from `end` on: they continue `after` (a filter begun on the body's last line)
/// or begin one, over as many lines as the filter needs. Gives the line after them.
fn filter_lines(
    lines: &[&str],
    mut end: usize,
    after: Option<Filter>,
) -> Result<(Option<Filter>, usize), ParseError> {
    if end >= lines.len() || !is_filter_line(lines[end]) {
        return Ok((after, end));
    }
    let line = lines[end];
    let bar = line.len() - line.trim_start().len();
    let (mut text, pos) = match after {
        Some((text, pos)) => (format!("{text}\n{line}"), pos),
        None => (
            line[bar + 1..].to_string(),
            pos_of(end, line[..bar].chars().count() + 1),
        ),
    };
    end += 1;
    loop {
        end = while_open(lines, end, &mut text, pos);
        if end < lines.len() && is_filter_line(lines[end]) {
            text.push('\n');
            text.push_str(lines[end]);
            end += 1;
        } else {
            break;
        }
    }
    open_error(&text, pos)?;
    Ok((Some((text, pos)), end))
}

/// Parses the request whose request line is `first` (line `start` of `lines`, with any
/// `name =` already taken off; `first_pos` is where it starts).
pub fn parse(
    lines: &[&str],
    start: usize,
    first: &str,
    first_pos: Pos,
) -> Result<Parsed, ParseError> {
    let (method, target, on_request_line) = request_line(first, first_pos)?;
    let mut end = start + 1;
    let mut headers = Vec::new();
    while end < lines.len() && is_header_line(lines[end].trim()) {
        if let Some((name, value)) = lines[end].trim().split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        end += 1;
    }
    // One blank line, then a line of the body (a second blank line: no body).
    let takes_body = method != "GET" && method != "HEAD";
    let blank_then_text = end + 1 < lines.len()
        && lines[end].trim().is_empty()
        && !lines[end + 1].trim().is_empty()
        && !is_filter_line(lines[end + 1]);
    let (mut request_body, mut after) = (None, None);
    if takes_body && blank_then_text {
        let (b, next, filter) = body(lines, end + 1)?;
        (request_body, after, end) = (Some(b), filter, next);
    }
    let (after, end) = filter_lines(lines, end, after)?;
    let after = after.map(|(text, pos)| (lexer::strip_comment(&text).trim().to_string(), pos));
    if let (Some((_, first)), Some((_, second))) = (&on_request_line, &after) {
        return Err(ParseError {
            message: format!(
                "this request already has a filter (at {first}); give it one, on the request line or after the request"
            ),
            pos: *second,
        });
    }
    let filter = on_request_line.or(after);
    if let Some((f, pos)) = &filter {
        if f.is_empty() {
            return Err(ParseError {
                message: "a filter after '|' is missing".into(),
                pos: *pos,
            });
        }
    }
    Ok(Parsed {
        request: HttpRequest {
            method,
            target,
            headers,
            body: request_body,
        },
        filter,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(code: &str) -> Result<Parsed, ParseError> {
        let lines: Vec<&str> = code.split('\n').collect();
        parse(&lines, 0, lines[0], Pos::start())
    }

    #[test]
    fn a_json_body_ends_where_its_brackets_close() {
        let p = parse_text("POST /api/v1\nContent-Type: application/json\n\n{\"type\":\n\n \"GET_HEALTH\"}\nPRINT 1").unwrap();
        assert_eq!(
            p.request.body,
            Some(HttpBody::Json("{\"type\":\n\n \"GET_HEALTH\"}".into()))
        );
        assert_eq!(p.end, 6);
        assert_eq!(p.filter, None);
    }

    #[test]
    fn a_text_body_ends_at_a_blank_line_a_filter_or_the_end() {
        let p =
            parse_text("POST /master/teardown\n\nframeworkId=abc\nmore text\n\nPRINT 1").unwrap();
        assert_eq!(
            p.request.body,
            Some(HttpBody::Text("frameworkId=abc\nmore text".into()))
        );
        assert_eq!(p.end, 4);
        let p = parse_text("POST /x\n\nGET_HEALTH # not a statement\n| json").unwrap();
        assert_eq!(
            p.request.body,
            Some(HttpBody::Text("GET_HEALTH # not a statement".into()))
        );
        assert_eq!(p.filter.as_ref().map(|f| f.0.as_str()), Some("json"));
        assert_eq!(p.end, 4);
    }

    #[test]
    fn filters_below_the_request() {
        let p = parse_text(
            "POST /api/v1\nContent-Type: application/json\n\n{\"type\": \"GET_HEALTH\"}\n| json",
        )
        .unwrap();
        assert_eq!(p.filter, Some(("json".into(), Pos { line: 5, column: 2 })));
        let p = parse_text("GET /master/state\n  | .slaves\n  | map(\n  .id)\nPRINT 1").unwrap();
        assert_eq!(
            p.filter.as_ref().map(|f| f.0.as_str()),
            Some(".slaves\n  | map(\n  .id)")
        );
        assert_eq!(p.end, 4);
        let p = parse_text("POST /api/v1\n\n{\"type\": \"GET_HEALTH\"} | .get_health\n| .healthy")
            .unwrap();
        assert_eq!(
            p.filter.map(|f| f.0),
            Some(".get_health\n| .healthy".to_string())
        );
    }

    #[test]
    fn one_filter_per_request_and_no_empty_one() {
        let e = parse_text("GET /master/state | .a\n| .b").unwrap_err();
        assert!(e.message.contains("already has a filter"), "{e}");
        assert_eq!(e.pos.line, 2);
        let e = parse_text("GET /master/state\n|").unwrap_err();
        assert!(e.message.contains("missing"), "{e}");
    }

    #[test]
    fn no_body_without_its_blank_line() {
        // Two blank lines: no body; a GET never has one.
        let p = parse_text("POST /x\n\n\nGET_HEALTH").unwrap();
        assert_eq!((p.request.body, p.end), (None, 1));
        let p = parse_text("GET /x\n\n{\"a\": 1}").unwrap();
        assert_eq!((p.request.body, p.end), (None, 1));
        let p = parse_text("POST /x\n{\"a\": 1}").unwrap();
        assert_eq!((p.request.body, p.end), (None, 1));
    }

    #[test]
    fn an_open_json_body_is_an_error_where_it_opened() {
        let e = parse_text("POST /x\n\n  {\"a\": [1,").unwrap_err();
        assert_eq!(e.message, "unclosed '['");
        assert_eq!(e.pos, Pos { line: 3, column: 9 });
    }
}
