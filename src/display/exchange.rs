//! `%http on`: a cell's HTTP exchanges under its outputs, one collapsed section each
//! (`<details>` for JupyterLab, a text form for nbconvert and the console): the request
//! line and the headers that matter (Authorization masked), the JSON body pretty-printed,
//! the status line and the answer's headers that matter, the body cut with its size, the
//! time, for a stream its first records with their RecordIO lengths, and a `curl` line that
//! repeats the exchange without writing the secret.

use crate::display::table::escape_html;
use crate::display::Bundle;
use crate::mesos::exchange::{
    header, Answer, CellExchanges, Exchange, Lane, Preview, StreamRecord, CELL_EXCHANGES,
    CELL_RECORDS,
};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// A body's text is cut after this many characters (its size is always given).
pub const BODY_CHARS: usize = 3000;
/// The answer's headers worth showing.
const ANSWER_HEADERS: &[&str] = &[
    "Content-Type",
    "Location",
    "Mesos-Stream-Id",
    "WWW-Authenticate",
];

fn status_line(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn millis(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The path and query of a URL (the host is in the Host line).
fn target(url: &str) -> (String, String) {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or("")),
                None => u.host_str().unwrap_or("").to_string(),
            };
            let mut path = u.path().to_string();
            if let Some(q) = u.query() {
                path.push('?');
                path.push_str(q);
            }
            (host, path)
        }
        Err(_) => (String::new(), url.to_string()),
    }
}

/// A call's `type`, when the body is a Mesos call.
fn call_type(x: &Exchange) -> Option<String> {
    let body = x.sent.body.as_ref()?;
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("type").and_then(Value::as_str).map(str::to_string)
}

/// A body as text: JSON pretty-printed when it is whole, cut at `BODY_CHARS`, with its size.
fn body_text(p: &Preview) -> String {
    if p.size == 0 {
        return String::new();
    }
    let size = format!("{} bytes", p.size);
    let text = match std::str::from_utf8(&p.bytes) {
        Ok(t) => t,
        // A preview may end inside a character.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&p.bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return format!("({size} of binary data)"),
    };
    let pretty = match p.is_whole() {
        true => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok()),
        false => None,
    };
    let shown = pretty.as_deref().unwrap_or(text);
    if shown.chars().count() > BODY_CHARS || !p.is_whole() {
        let cut: String = shown.chars().take(BODY_CHARS).collect();
        format!("{cut}\n… (cut: {size} in all)")
    } else {
        format!("{shown}\n({size})")
    }
}

/// POSIX shell single quotes.
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Inside shell double quotes.
fn dq_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A curl command line that repeats the exchange: the same method, URL, headers and body.
/// The secret is never written: `-u "principal:$VAR"` when it came from an environment
/// variable, else `-u principal` (curl asks for it).
pub fn curl(x: &Exchange) -> String {
    let mut words: Vec<String> = vec!["curl".into(), "-sS".into()];
    if matches!(x.lane, Lane::Stream) {
        // Records as they come, not when the stream ends.
        words.push("-N".into());
    }
    let body = x.sent.body.as_deref();
    let implied = match body {
        Some(_) => x.sent.method == "POST",
        None => x.sent.method == "GET",
    };
    if !implied {
        words.push(format!("-X {}", x.sent.method));
    }
    words.push(sq(&x.sent.url));
    let mut own_authorization = false;
    for (name, value) in &x.sent.headers {
        if name.eq_ignore_ascii_case("authorization") {
            own_authorization = x.auth.is_none();
            continue;
        }
        words.push(format!("-H {}", sq(&format!("{name}: {value}"))));
    }
    match &x.auth {
        Some(a) => match &a.env {
            Some(var) => words.push(format!("-u \"{}:${var}\"", dq_escape(&a.principal))),
            None => words.push(format!("-u {}", sq(&a.principal))),
        },
        None if own_authorization => {
            words.push("-H \"Authorization: $MESOS_AUTHORIZATION\"".into());
        }
        None => {}
    }
    if let Some(ca) = &x.tls.ca {
        words.push(format!("--cacert {}", sq(ca)));
    }
    if x.tls.insecure {
        words.push("-k".into());
    }
    if let Some(b) = body {
        let text = String::from_utf8_lossy(b);
        // `-d @x` would read a file named x.
        let flag = if text.starts_with('@') {
            "--data-raw"
        } else {
            "-d"
        };
        words.push(format!("{flag} {}", sq(&text)));
    }
    words.join(" ")
}

/// The one-line summary of an exchange.
fn summary(x: &Exchange) -> String {
    let (_, path) = target(&x.sent.url);
    let mut s = format!("{} {path}", x.sent.method);
    if let Some(t) = call_type(x) {
        let _ = write!(s, " {t}");
    }
    let outcome = match &x.answer {
        Answer::Head { status, .. } | Answer::Reply { status, .. } => status_line(*status),
        Answer::Stream { status, count, .. } => format!(
            "{} (stream, {count} record{} so far)",
            status_line(*status),
            if *count == 1 { "" } else { "s" }
        ),
        Answer::Failed(_) => "failed".into(),
        Answer::Abandoned => "no answer (given up)".into(),
    };
    let _ = write!(s, " → {outcome} · {}", millis(x.elapsed));
    if x.recorded.is_some() {
        s.push_str(" (replayed)");
    }
    match x.lane {
        Lane::Background => s.push_str(" · background"),
        Lane::Stream | Lane::Cell => {}
    }
    s
}

/// The request, the answer and the time, as text.
fn detail(x: &Exchange) -> (String, String) {
    let (host, path) = target(&x.sent.url);
    let mut req = format!("> {} {path}\n> Host: {host}\n", x.sent.method);
    for (n, v) in &x.sent.headers {
        let _ = writeln!(req, "> {n}: {v}");
    }
    if let Some(b) = &x.sent.body {
        req.push('\n');
        req.push_str(&body_text(&Preview::of(b)));
        req.push('\n');
    }
    let mut ans = String::new();
    let answer_head = |ans: &mut String, status: u16, headers: &[(String, String)]| {
        let _ = writeln!(ans, "< {}", status_line(status));
        for name in ANSWER_HEADERS {
            if let Some(v) = header(headers, name) {
                let _ = writeln!(ans, "< {name}: {v}");
            }
        }
    };
    match &x.answer {
        Answer::Head { status, headers } => {
            answer_head(&mut ans, *status, headers);
            ans.push_str("(body not read: the kernel moves on)\n");
        }
        Answer::Reply {
            status,
            headers,
            body,
        } => {
            answer_head(&mut ans, *status, headers);
            if body.size > 0 {
                ans.push('\n');
                ans.push_str(&body_text(body));
                ans.push('\n');
            } else {
                ans.push_str("(no body)\n");
            }
        }
        Answer::Stream {
            status,
            headers,
            records,
            count,
            end,
        } => {
            answer_head(&mut ans, *status, headers);
            for (i, r) in records.iter().enumerate() {
                let _ = writeln!(ans, "\nrecord {} (RecordIO length {}):", i + 1, r.size);
                ans.push_str(&body_text(r));
                ans.push('\n');
            }
            let _ = writeln!(
                ans,
                "\n{count} record{} so far{}",
                if *count == 1 { "" } else { "s" },
                match end {
                    Some(why) => format!("; the stream ended ({why})"),
                    None => "; the stream stays open".into(),
                }
            );
        }
        Answer::Failed(why) => {
            let _ = writeln!(ans, "(no answer: {why})");
        }
        Answer::Abandoned => {
            ans.push_str("(no answer: the kernel gave up first, a timeout or an interrupt)\n")
        }
    }
    let _ = write!(ans, "\ntook {}", millis(x.elapsed));
    if let Some(r) = x.recorded {
        let _ = write!(
            ans,
            " (answered from the cassette; {} when recorded)",
            millis(r)
        );
    }
    ans.push('\n');
    (req, ans)
}

/// What a stream record is, in a few words: its type, and for an UPDATE the task's state.
fn record_summary(r: &StreamRecord) -> String {
    let (_, path) = target(&r.url);
    let v: Option<Value> = match r.record.is_whole() {
        true => serde_json::from_slice(&r.record.bytes).ok(),
        false => None,
    };
    let mut what = v
        .as_ref()
        .and_then(|v| v.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("record")
        .to_string();
    if let Some(status) = v.as_ref().and_then(|v| v.pointer("/update/status")) {
        for key in ["/task_id/value", "/state"] {
            if let Some(s) = status.pointer(key).and_then(Value::as_str) {
                let _ = write!(what, " {s}");
            }
        }
    }
    format!(
        "record on {path}: {what} (RecordIO length {})",
        r.record.size
    )
}

/// One exchange as text, as HTML and as metadata (with its curl line).
fn exchange_entry(x: &Exchange) -> (String, String, Value) {
    let head = summary(x);
    let (req, ans) = detail(x);
    let curl = curl(x);
    let pre = "<pre style=\"margin:0.3em 0\">";
    let text = format!("\n── {head}\n{req}\n{ans}$ {curl}\n");
    let html = format!(
        "<details><summary><code>{}</code></summary>{pre}{}</pre>{pre}{}</pre>\
         <pre style=\"margin:0.3em 0;white-space:pre-wrap\">$ {}</pre></details>",
        escape_html(&head),
        escape_html(&req),
        escape_html(&ans),
        escape_html(&curl)
    );
    let status = match &x.answer {
        Answer::Head { status, .. }
        | Answer::Reply { status, .. }
        | Answer::Stream { status, .. } => {
            json!(status)
        }
        Answer::Failed(_) | Answer::Abandoned => Value::Null,
    };
    let meta = json!({
        "method": x.sent.method,
        "url": x.sent.url,
        "status": status,
        "lane": x.lane.name(),
        "ms": (x.elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "curl": curl,
    });
    (text, html, meta)
}

enum Entry<'a> {
    Exchange(&'a Exchange),
    Record(&'a StreamRecord),
}

/// One bundle for what a cell (or `%http log`) kept: its exchanges and the stream records
/// that came meanwhile, in the session's order; `title` heads it.
pub fn bundle(title: &str, shown: &CellExchanges) -> Bundle {
    let mut entries: Vec<(u64, Entry)> = shown
        .exchanges
        .iter()
        .map(|x| (x.n, Entry::Exchange(x)))
        .chain(shown.records.iter().map(|r| (r.n, Entry::Record(r))))
        .collect();
    entries.sort_by_key(|(n, _)| *n);
    let mut text = format!("{title}\n");
    let mut html = format!(
        "<div class=\"mk-http\"><div style=\"font-size:0.9em;opacity:0.8\">{}</div>",
        escape_html(title)
    );
    let pre = "<pre style=\"margin:0.3em 0\">";
    let mut meta = Vec::new();
    for (_, entry) in entries {
        match entry {
            Entry::Exchange(x) => {
                let (t, h, m) = exchange_entry(x);
                text.push_str(&t);
                html.push_str(&h);
                meta.push(m);
            }
            Entry::Record(r) => {
                let head = record_summary(r);
                let body = body_text(&r.record);
                let _ = write!(text, "\n·· {head}\n{body}\n");
                let _ = write!(
                    html,
                    "<details><summary><code>{}</code></summary>{pre}{}</pre></details>",
                    escape_html(&head),
                    escape_html(&body)
                );
            }
        }
    }
    let mut notes = Vec::new();
    if shown.more > 0 {
        notes.push(format!(
            "… and {} more exchanges, not kept (a cell keeps {CELL_EXCHANGES})",
            shown.more
        ));
    }
    if shown.more_records > 0 {
        notes.push(format!(
            "… and {} more stream records, not kept (a cell keeps {CELL_RECORDS})",
            shown.more_records
        ));
    }
    for note in notes {
        let _ = write!(text, "\n{note}\n");
        let _ = write!(html, "<div>{}</div>", escape_html(&note));
    }
    html.push_str("</div>");
    Bundle::text(text)
        .with("text/html", html)
        .with_meta("mesos-kernel", json!({ "http": meta }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::exchange::{AuthHint, Sent, TlsHint};
    use std::time::Duration;

    fn exchange(auth: Option<AuthHint>) -> Exchange {
        Exchange {
            n: 1,
            lane: Lane::Cell,
            sent: Sent {
                method: "POST".into(),
                url: "http://127.0.0.1:5050/api/v1/scheduler".into(),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Mesos-Stream-Id".into(), "abc-1".into()),
                    ("Authorization".into(), "Basic ****".into()),
                ],
                body: Some(br#"{"type":"KILL","note":"it's"}"#.to_vec()),
            },
            answer: Answer::Reply {
                status: 202,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Preview::of(b""),
            },
            elapsed: Duration::from_micros(1500),
            recorded: None,
            auth,
            tls: TlsHint::default(),
        }
    }

    #[test]
    fn curl_lines_repeat_the_exchange_without_the_secret() {
        let x = exchange(Some(AuthHint {
            principal: "ops".into(),
            env: Some("MESOS_SECRET".into()),
        }));
        assert_eq!(
            curl(&x),
            "curl -sS 'http://127.0.0.1:5050/api/v1/scheduler' -H 'Content-Type: application/json' \
             -H 'Mesos-Stream-Id: abc-1' -u \"ops:$MESOS_SECRET\" -d '{\"type\":\"KILL\",\"note\":\"it'\\''s\"}'"
        );
        let x = exchange(Some(AuthHint {
            principal: "ops".into(),
            env: None,
        }));
        assert!(curl(&x).contains(" -u 'ops' "), "{}", curl(&x));
        let mut get = exchange(None);
        get.sent.method = "GET".into();
        get.sent.body = None;
        get.sent.headers.clear();
        assert_eq!(
            curl(&get),
            "curl -sS 'http://127.0.0.1:5050/api/v1/scheduler'"
        );
        get.sent.method = "DELETE".into();
        assert!(curl(&get).contains("-X DELETE"));
    }

    #[test]
    fn exchanges_show_as_details_and_text() {
        let shown = CellExchanges {
            exchanges: vec![exchange(None)],
            records: vec![StreamRecord {
                n: 0,
                url: "http://127.0.0.1:5050/api/v1/scheduler".into(),
                record: Preview::of(
                    br#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"web"},"state":"TASK_RUNNING"}}}"#,
                ),
            }],
            ..CellExchanges::default()
        };
        let b = bundle("HTTP exchanges of this cell (1)", &shown);
        let text = b.plain().unwrap();
        assert!(
            text.contains("── POST /api/v1/scheduler KILL → 202 Accepted · 1.5 ms"),
            "{text}"
        );
        // In the session's order: the record (n 0) before the exchange (n 1).
        let record = text
            .find("·· record on /api/v1/scheduler: UPDATE web TASK_RUNNING (RecordIO length 88)")
            .expect(text);
        assert!(record < text.find("── POST").unwrap());
        assert!(text.contains("> Mesos-Stream-Id: abc-1"));
        assert!(text.contains("> Authorization: Basic ****"));
        assert!(text.contains("  \"type\": \"KILL\""), "pretty JSON: {text}");
        assert!(text.contains("< Content-Type: application/json"));
        let html = b.data["text/html"].as_str().unwrap();
        assert!(html.contains("<details><summary>"));
        assert!(html.contains("it&#39;s"));
    }

    #[test]
    fn bodies_are_cut_with_their_size() {
        let big = format!("\"{}\"", "x".repeat(10_000));
        let t = body_text(&Preview::of(big.as_bytes()));
        assert!(
            t.ends_with("… (cut: 10002 bytes in all)"),
            "{}",
            &t[t.len() - 60..]
        );
        assert_eq!(
            body_text(&Preview::of(b"{\"a\":1}")),
            "{\n  \"a\": 1\n}\n(7 bytes)"
        );
        assert_eq!(
            body_text(&Preview::of(&[0xff, 0xfe])),
            "(2 bytes of binary data)"
        );
    }
}
