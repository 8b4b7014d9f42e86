//! What can go wrong talking to Mesos, worded with the URL and the server's own message.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MesosError {
    /// The server answered with an error status.
    #[error("{method} {url} answered {status}: {message}")]
    Http {
        method: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach {url}: {detail}")]
    Connection { url: String, detail: String },
    #[error("{method} {url} did not answer within {after:?} (change the limit with %timeout)")]
    Timeout {
        method: String,
        url: String,
        after: Duration,
    },
    #[error("{url}: {detail}")]
    BadResponse { url: String, detail: String },
    /// The master answered SUBSCRIBE with an ERROR event instead of SUBSCRIBED (Mesos
    /// refuses a subscription so, with 200 OK and the reason in the event).
    #[error("the master refused the subscription: {message}")]
    Refused { message: String },
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    InvalidRequest(String),
    /// Replaying a cassette, a request that is not the recorded one.
    #[error("{0}")]
    Replay(String),
}

impl MesosError {
    /// The error kind a cell shows (`ename`).
    pub fn kind(&self) -> &'static str {
        match self {
            MesosError::Http { .. } => "MesosHttpError",
            MesosError::Connection { .. } => "ConnectionError",
            MesosError::Timeout { .. } => "Timeout",
            MesosError::BadResponse { .. } | MesosError::Refused { .. } => "MesosHttpError",
            MesosError::Interrupted => "Interrupted",
            MesosError::InvalidRequest(_) => "InvalidCall",
            MesosError::Replay(_) => "ReplayMismatch",
        }
    }
}

/// One readable line from an error body: plain text as is, HTML reduced to its title or
/// text, JSON compacted; long bodies are cut.
pub fn error_message(body: &[u8], status_text: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return status_text.to_string();
    }
    let lower = trimmed.to_ascii_lowercase();
    let line = if lower.starts_with("<!doctype")
        || lower.starts_with("<html")
        || lower.contains("<body")
    {
        let title = lower.find("<title>").and_then(|s| {
            lower[s + 7..]
                .find("</title>")
                .map(|e| trimmed[s + 7..s + 7 + e].to_string())
        });
        match title {
            Some(t) if !t.trim().is_empty() => format!("{} (an HTML page)", t.trim()),
            _ => format!("{} (an HTML page)", strip_tags(trimmed)),
        }
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let mut out: String = line.chars().take(400).collect();
    if line.chars().count() > 400 {
        out.push('…');
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_bodies() {
        assert_eq!(error_message(b"", "404 Not Found"), "404 Not Found");
        assert_eq!(
            error_message(
                b"Failed to validate scheduler::Call: Expecting 'framework_id' to be present\n",
                "400"
            ),
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
        );
        assert_eq!(
            error_message(
                b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                "502"
            ),
            "502 Bad Gateway (an HTML page)"
        );
        let long = vec![b'x'; 5000];
        assert!(error_message(&long, "500").chars().count() <= 401);
    }
}
