//! HTTP basic authentication of the master and agents (`--credentials FILE`), as a Mesos
//! master with `--authenticate_http_readwrite` and `--authenticate_http_frameworks` does it:
//! every endpoint but `/health` wants `Authorization: Basic`, and the principal a request
//! authenticated as travels to the handlers (SUBSCRIBE compares it with
//! `framework_info.principal`). Secrets never reach `Debug`, logs or answers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The realm of the `WWW-Authenticate` challenge.
const REALM: &str = "mesos";

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid credentials file {path}: {detail}")]
    Format { path: String, detail: String },
}

/// Principals and their secrets.
#[derive(Clone, Default)]
pub struct Credentials {
    secrets: HashMap<String, String>,
    /// The file they were read from (the `credentials` flag names it).
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut principals: Vec<&String> = self.secrets.keys().collect();
        principals.sort();
        write!(f, "Credentials {{ principals: {principals:?} }}")
    }
}

/// The principal a request authenticated as (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

impl Credentials {
    /// Reads Mesos's JSON format `{"credentials": [{"principal", "secret"}]}` or the older
    /// plain-text one, `principal secret` per line.
    pub fn load(path: &Path) -> Result<Credentials, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut credentials =
            Credentials::parse(&text).map_err(|detail| CredentialsError::Format {
                path: path.display().to_string(),
                detail,
            })?;
        credentials.path = Some(std::fs::canonicalize(path).unwrap_or(path.to_path_buf()));
        Ok(credentials)
    }

    /// The file they were read from, if they came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn parse(text: &str) -> Result<Credentials, String> {
        let mut secrets = HashMap::new();
        if text.trim_start().starts_with('{') {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
            let list = value
                .get("credentials")
                .and_then(|c| c.as_array())
                .ok_or("expected {\"credentials\": [...]}")?;
            for (i, c) in list.iter().enumerate() {
                let field = |name: &str| {
                    c.get(name)
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                        .ok_or_else(|| format!("credential {i} has no string '{name}'"))
                };
                secrets.insert(field("principal")?, field("secret")?);
            }
        } else {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut parts = line.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(p), Some(s), None) => {
                        secrets.insert(p.to_string(), s.to_string());
                    }
                    _ => return Err(format!("line {}: expected 'principal secret'", n + 1)),
                }
            }
        }
        if secrets.is_empty() {
            return Err("no credentials".into());
        }
        Ok(Credentials {
            secrets,
            path: None,
        })
    }

    pub fn principals(&self) -> usize {
        self.secrets.len()
    }

    /// The principal an `Authorization` header proves, if it does.
    fn check(&self, authorization: Option<&HeaderValue>) -> Option<String> {
        let value = authorization?.to_str().ok()?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (principal, secret) = decoded.split_once(':')?;
        let expected = self.secrets.get(principal)?;
        constant_time_eq(expected.as_bytes(), secret.as_bytes()).then(|| principal.to_string())
    }
}

/// Compares without an early exit, so timing does not tell how much of a secret matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

/// The middleware: `/health` is open (load balancers probe it); anything else needs valid
/// credentials, else `401` with the Basic challenge and an empty body, as libprocess answers.
pub async fn require(
    State(credentials): State<Arc<Credentials>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The agents' executor API is open, as with Mesos's `--authenticate_http_executors`
    // left false (its default): executors are given no credentials.
    let path = request.uri().path();
    if path == "/health" || path == "/api/v1/executor" || path == "/slave(1)/api/v1/executor" {
        return next.run(request).await;
    }
    match credentials.check(request.headers().get(header::AUTHORIZATION)) {
        Some(principal) => {
            request.extensions_mut().insert(Principal(principal));
            next.run(request).await
        }
        None => {
            tracing::debug!(path = %request.uri().path(), "refused an unauthenticated request");
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\""))],
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> HeaderValue {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_pass);
        HeaderValue::from_str(&format!("Basic {encoded}")).unwrap()
    }

    #[test]
    fn both_formats_and_checks() {
        let json =
            Credentials::parse(r#"{"credentials": [{"principal": "ops", "secret": "s3cret"}]}"#)
                .unwrap();
        let text = Credentials::parse("# comment\nops s3cret\n\nother x\n").unwrap();
        assert_eq!(text.principals(), 2);
        for c in [&json, &text] {
            assert_eq!(c.check(Some(&basic("ops:s3cret"))), Some("ops".into()));
            assert_eq!(c.check(Some(&basic("ops:s3cre"))), None);
            assert_eq!(c.check(Some(&basic("ops:s3crett"))), None);
            assert_eq!(c.check(Some(&basic("nobody:s3cret"))), None);
            assert_eq!(c.check(None), None);
        }
        assert!(!format!("{json:?}").contains("s3cret"));
        assert!(Credentials::parse("ops").is_err());
        assert!(Credentials::parse("{}").is_err());
    }
}
