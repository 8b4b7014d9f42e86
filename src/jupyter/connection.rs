//! The connection file Jupyter writes for a kernel: where to bind and how to sign.

use serde::Deserialize;
use std::path::Path;

/// What a front end tells us in the connection file. Unknown keys (such as `kernel_name`)
/// are ignored, because front ends add their own.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    #[serde(default = "default_transport")]
    pub transport: String,
    #[serde(default = "default_ip")]
    pub ip: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_transport() -> String {
    "tcp".into()
}
fn default_ip() -> String {
    "127.0.0.1".into()
}
fn default_scheme() -> String {
    "hmac-sha256".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionFileError {
    #[error("cannot read connection file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("connection file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("connection file asks for transport '{0}'; only tcp is supported")]
    Transport(String),
    #[error("connection file asks for signature scheme '{0}'; only hmac-sha256 is supported")]
    Scheme(String),
}

impl ConnectionInfo {
    pub fn from_file(path: &Path) -> Result<Self, ConnectionFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConnectionFileError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text).map_err(|e| match e {
            ConnectionFileError::Parse { source, .. } => ConnectionFileError::Parse {
                path: shown,
                source,
            },
            other => other,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, ConnectionFileError> {
        let info: ConnectionInfo =
            serde_json::from_str(text).map_err(|source| ConnectionFileError::Parse {
                path: String::new(),
                source,
            })?;
        if info.transport != "tcp" {
            return Err(ConnectionFileError::Transport(info.transport));
        }
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            return Err(ConnectionFileError::Scheme(info.signature_scheme));
        }
        Ok(info)
    }

    pub fn endpoint(&self, port: u16) -> String {
        format!("tcp://{}:{}", self.ip, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_ignored() {
        let info = ConnectionInfo::from_json(
            r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4,
                "hb_port": 5, "ip": "127.0.0.1", "key": "k", "transport": "tcp",
                "signature_scheme": "hmac-sha256", "kernel_name": "mesos", "jupyter_session": "x"}"#,
        )
        .unwrap();
        assert_eq!(info.control_port, 4);
        assert_eq!(info.endpoint(5), "tcp://127.0.0.1:5");
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = ConnectionInfo::from_json(
            r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4,
                "hb_port": 5, "key": "k", "signature_scheme": "hmac-md5"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("hmac-md5"));
    }
}
