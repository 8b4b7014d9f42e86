//! Scanning cell text: bracket and string balance (jq strings with `\(...)` interpolation
//! and `#` comments included), top-level splitting, and whitespace-separated words.
//! Positions are 1-based lines and columns counted in Unicode code points.

/// A place in the cell, as a person counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub fn start() -> Self {
        Pos { line: 1, column: 1 }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Balance {
    Balanced,
    /// Something opened and not yet closed: more lines may follow.
    Open {
        what: &'static str,
        at: Pos,
    },
    /// A closer with no opener, or the wrong one: no continuation can fix this.
    Unexpected {
        ch: char,
        at: Pos,
    },
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Bracket(char, Pos),
    Str(Pos),
    Interp(Pos),
}

/// Walks `text` keeping track of brackets and strings. `on_code` is called with the byte
/// offset of every character outside strings and comments and the depth it is at (0 is
/// the top level; each bracket, string and interpolation around it adds one); returning
/// true stops the walk there.
fn walk(text: &str, start: Pos, mut on_code: impl FnMut(usize, char, usize) -> bool) -> Balance {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = start;

    let mut escaped = false;
    let mut in_comment = false;
    for (i, ch) in text.char_indices() {
        let here = pos;
        if ch == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
        if in_comment {
            if ch == '\n' {
                in_comment = false;
            }
            continue;
        }
        match stack.last().copied() {
            Some(Frame::Str(_)) => {
                if escaped {
                    escaped = false;
                    if ch == '(' {
                        stack.push(Frame::Interp(here));
                    }
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    stack.pop();
                }
            }
            top => {
                if on_code(i, ch, stack.len()) {
                    return Balance::Balanced;
                }
                match ch {
                    '"' => stack.push(Frame::Str(here)),
                    '#' => in_comment = true,
                    '(' | '[' | '{' => stack.push(Frame::Bracket(ch, here)),
                    ')' | ']' | '}' => {
                        let ok = match top {
                            Some(Frame::Bracket(open, _)) => {
                                matches!((open, ch), ('(', ')') | ('[', ']') | ('{', '}'))
                            }
                            Some(Frame::Interp(_)) => ch == ')',
                            _ => false,
                        };
                        if !ok {
                            return Balance::Unexpected { ch, at: here };
                        }
                        stack.pop();
                    }
                    _ => {}
                }
            }
        }
    }
    match stack.last() {
        None => Balance::Balanced,
        Some(Frame::Str(at)) => Balance::Open {
            what: "string",
            at: *at,
        },
        Some(Frame::Interp(at)) => Balance::Open {
            what: "string interpolation",
            at: *at,
        },
        Some(Frame::Bracket(c, at)) => Balance::Open {
            what: match c {
                '(' => "(",
                '[' => "[",
                _ => "{",
            },
            at: *at,
        },
    }
}

pub fn balance(text: &str, start: Pos) -> Balance {
    walk(text, start, |_, _, _| false)
}

/// How deeply `text` nests (brackets, strings and interpolations) and how many operators
/// it has outside strings: operator characters and the keywords that nest without
/// brackets (`try try 1`). Parsers such as jaq's recurse once per nesting level and once
/// per operator of a chain (`1, 2, ...`, `1 | 1 | ...`, `- - 1`), so these two numbers
/// bound how deep they go before they are given the text.
pub fn nesting(text: &str) -> (usize, usize) {
    const KEYWORDS: &[&str] = &[
        "if", "elif", "try", "reduce", "foreach", "def", "label", "and", "or",
    ];
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (mut depth, mut operators) = (0, 0);
    let mut prev = ' ';
    walk(text, Pos::start(), |i, ch, at| {
        let opens = matches!(ch, '(' | '[' | '{' | '"');
        depth = depth.max(at + usize::from(opens));
        if matches!(
            ch,
            '|' | ',' | '+' | '-' | '*' | '/' | '%' | '=' | '<' | '>' | '?' | ';' | ':'
        ) {
            operators += 1;
        } else if ch.is_ascii_lowercase() && !is_word(prev) && prev != '$' && prev != '.' {
            let word = text[i..].split(|c: char| !is_word(c)).next().unwrap_or("");
            operators += usize::from(KEYWORDS.contains(&word));
        }
        prev = ch;
        false
    });
    (depth, operators)
}

/// Byte offset of the first `|` at depth 0 (not `||`, which jq does not have, nor inside
/// strings or brackets).
pub fn top_level_pipe(text: &str) -> Option<usize> {
    let mut found = None;
    walk(text, Pos::start(), |i, ch, depth| {
        if depth == 0 && ch == '|' && !text[i + 1..].starts_with('=') {
            found = Some(i);
            true
        } else {
            false
        }
    });
    found
}

/// A whitespace-separated word at depth 0, with its byte range in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The text before its first top-level `#` comment.
pub fn strip_comment(text: &str) -> &str {
    let mut cut = text.len();
    walk(text, Pos::start(), |i, ch, depth| {
        if depth == 0 && ch == '#' {
            cut = i;
            true
        } else {
            false
        }
    });
    &text[..cut]
}

/// Splits at whitespace outside strings and brackets. Comments are not words.
pub fn words(text: &str) -> Vec<Word> {
    let text = strip_comment(text);
    let mut breaks = Vec::new();
    walk(text, Pos::start(), |i, ch, depth| {
        if depth == 0 && ch.is_whitespace() {
            breaks.push(i);
        }
        false
    });
    let mut out = Vec::new();
    let mut start = 0;
    for b in breaks.into_iter().chain(std::iter::once(text.len())) {
        if b > start {
            out.push(Word {
                text: text[start..b].to_string(),
                start,
                end: b,
            });
        }
        // Whitespace characters may be wider than one byte.
        start = b + text[b..].chars().next().map_or(0, char::len_utf8);
    }
    out
}

/// The position reached after `text`, starting at `start`.
pub fn advance(start: Pos, text: &str) -> Pos {
    let mut pos = start;
    for ch in text.chars() {
        if ch == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_and_open() {
        assert_eq!(balance(r#"{"a": [1, 2]}"#, Pos::start()), Balance::Balanced);
        assert_eq!(
            balance("{\"a\": [1,\n 2", Pos::start()),
            Balance::Open {
                what: "[",
                at: Pos { line: 1, column: 7 }
            }
        );
        assert_eq!(
            balance("\"abc", Pos::start()),
            Balance::Open {
                what: "string",
                at: Pos { line: 1, column: 1 }
            }
        );
    }

    #[test]
    fn strings_hide_brackets_and_interpolation_nests() {
        assert_eq!(balance(r#""}{""#, Pos::start()), Balance::Balanced);
        assert_eq!(
            balance(r#""a \(1 + (2)) b""#, Pos::start()),
            Balance::Balanced
        );
        assert_eq!(balance(r#""\"}""#, Pos::start()), Balance::Balanced);
    }

    #[test]
    fn wrong_closer_is_unexpected_with_position() {
        assert_eq!(
            balance("[1,\n 2}", Pos::start()),
            Balance::Unexpected {
                ch: '}',
                at: Pos { line: 2, column: 3 }
            }
        );
    }

    #[test]
    fn comments_hide_brackets() {
        assert_eq!(
            balance("1 + 2 # (not open", Pos::start()),
            Balance::Balanced
        );
    }

    #[test]
    fn pipe_at_top_level_only() {
        assert_eq!(top_level_pipe(r#"GET_AGENTS | .a | length"#), Some(11));
        assert_eq!(top_level_pipe(r#"X a="|" b=(1|2)"#), None);
        assert_eq!(top_level_pipe(r#".a |= 1"#), None);
    }

    #[test]
    fn words_respect_quotes_and_brackets() {
        let w: Vec<String> =
            words(r#"SUBSCRIBE name="Demo Framework" roles=["a", "b"] x=(1 + 2) # c"#)
                .into_iter()
                .map(|w| w.text)
                .collect();
        assert_eq!(
            w,
            vec![
                "SUBSCRIBE",
                r#"name="Demo Framework""#,
                r#"roles=["a", "b"]"#,
                "x=(1 + 2)"
            ]
        );
    }

    #[test]
    fn nesting_counts_levels_and_operators() {
        assert_eq!(nesting("1"), (0, 0));
        assert_eq!(nesting("[[1, 2], {a: (3)}]"), (3, 3));
        // Strings are one level; their brackets and operators do not count.
        assert_eq!(nesting(r#""[|,]""#), (1, 0));
        assert_eq!(nesting(r#""a \([1] | .[0]) b""#), (3, 1));
        assert_eq!(nesting(&"[".repeat(10_000)), (10_000, 0));
        assert_eq!(nesting(&["1"; 5].join(" | ")), (0, 4));
        assert_eq!(nesting("try try if . then 1 end"), (0, 3));
        assert_eq!(nesting("$if | .try | tryx"), (0, 2));
    }

    #[test]
    fn positions_count_code_points() {
        assert_eq!(advance(Pos::start(), "é€\nab"), Pos { line: 2, column: 3 });
        assert_eq!(
            balance("\"é€\" ]", Pos::start()),
            Balance::Unexpected {
                ch: ']',
                at: Pos { line: 1, column: 6 }
            }
        );
    }
}
