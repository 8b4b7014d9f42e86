//! The agent's streaming calls from cells: LAUNCH_NESTED_CONTAINER_SESSION and
//! ATTACH_CONTAINER_OUTPUT run, their ProcessIO records show as the cell's stdout and
//! stderr while they arrive, and an interrupt stops them (closing the connection, which
//! ends a session's container on the agent). `EXEC task=ID cmd="..."` does what
//! `mesos task exec` does on top of it.

use crate::engine::connect::mesos_error;
use crate::engine::errors::{self, Kind};
use crate::engine::{Engine, Outcome};
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::error::MesosError;
use crate::mesos::recordio::Decoder;
use crate::mesos::v1::ids::id_text;
use crate::mesos::v1::operator::agent::{DataType, ProcessIo, ProcessIoType};
use base64::Engine as _;
use futures::StreamExt;
use serde_json::{json, Value};

/// Text of a byte stream cut anywhere: what decodes now, the rest kept for the next chunk.
#[derive(Default)]
struct Utf8Carry(Vec<u8>);

impl Utf8Carry {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.0.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.0) {
            Ok(_) => self.0.len(),
            // An incomplete sequence at the end waits; a bad one is shown replaced.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.0.len(),
        };
        let text = String::from_utf8_lossy(&self.0[..valid]).into_owned();
        self.0.drain(..valid);
        text
    }
}

/// A raw wait status as a shell shows it: the exit code, or 128 + the signal.
fn exit_code(raw: i64) -> i64 {
    if raw & 0x7f == 0 {
        (raw >> 8) & 0xff
    } else {
        128 + (raw & 0x7f)
    }
}

impl Engine {
    /// Runs a streaming agent call, showing its output live; the result says what ran.
    pub(crate) async fn agent_stream(
        &mut self,
        name: &str,
        base: &str,
        body: &Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let url = format!("{}/api/v1", base.trim_end_matches('/'));
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let resp = tokio::select! {
            r = tokio::time::timeout(self.timeout, self.client.post_stream(&url, bytes)) => match r {
                Ok(r) => r.map_err(|e| mesos_error(&e))?,
                Err(_) => return Err(mesos_error(&MesosError::Timeout {
                    method: "POST".into(), url: url.clone(), after: self.timeout })),
            },
            _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
        };
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let message = resp.text().await.unwrap_or_default();
            return Err(mesos_error(&MesosError::Http {
                method: "POST".into(),
                url,
                status,
                message,
            }));
        }
        let container_id = body
            .get(name.to_ascii_lowercase())
            .and_then(|m| m.get("container_id"))
            .cloned()
            .unwrap_or(Value::Null);
        if status == 202 {
            // Mesos: a container with this id runs already; nothing streams.
            return Ok(Outcome::shown(
                json!({"container_id": container_id, "already_launched": true}),
                Some(name.to_string()),
            ));
        }
        let mut decoder = Decoder::new();
        let (mut out, mut err) = (Utf8Carry::default(), Utf8Carry::default());
        let mut records = 0u64;
        let mut stream = resp.bytes_stream();
        loop {
            let chunk = tokio::select! {
                c = stream.next() => c,
                _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
            };
            let Some(chunk) = chunk else { break };
            let chunk = chunk.map_err(|e| {
                CellError::new(
                    Kind::ConnectionError.name(),
                    format!("{name}: the stream from {url} broke off: {e}"),
                )
            })?;
            decoder.push(&chunk);
            while let Some(record) = decoder.next_record() {
                let record = record.map_err(|e| {
                    CellError::new(
                        Kind::ConnectionError.name(),
                        format!("{name}: bad RecordIO: {e}"),
                    )
                })?;
                let Ok(io) = serde_json::from_slice::<ProcessIo>(&record) else {
                    tracing::warn!("{name}: a record that is not a ProcessIO was dropped");
                    continue;
                };
                records += 1;
                let Some(data) = io.data.filter(|_| io.kind == Some(ProcessIoType::Data)) else {
                    continue; // CONTROL records (heartbeats) carry no output
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data.data.unwrap_or_default())
                    .unwrap_or_default();
                let (carry, stream_name) = match data.kind {
                    Some(DataType::Stderr) => (&mut err, "stderr"),
                    _ => (&mut out, "stdout"),
                };
                let text = carry.push(&bytes);
                if !text.is_empty() {
                    ctx.publisher.stream(stream_name, &text);
                }
            }
        }
        let mut result = json!({"container_id": container_id, "records": records});
        if name == "LAUNCH_NESTED_CONTAINER_SESSION" {
            let wait = json!({"type": "WAIT_NESTED_CONTAINER",
                "wait_nested_container": {"container_id": container_id}});
            let waited = self
                .client
                .operator(base, &wait, self.timeout, &ctx.cancel)
                .await
                .map_err(|e| mesos_error(&e))?;
            if let Some(raw) = waited
                .pointer("/wait_nested_container/exit_status")
                .and_then(Value::as_i64)
            {
                result["exit_status"] = json!(raw);
                result["exit_code"] = json!(exit_code(raw));
            }
        }
        Ok(Outcome::shown(result, Some(name.to_string())))
    }

    /// `EXEC task=ID cmd="..."`: `mesos task exec`.
    pub(crate) async fn task_exec(
        &mut self,
        args: &[(String, Value)],
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let arg = |key: &str| {
            args.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                // A bare string, or an id message `{"value": ...}` (a task id from `$_`).
                .map(|(_, v)| id_text(v).map_or_else(|| v.to_string(), str::to_string))
        };
        let (Some(task_id), Some(cmd)) = (arg("task"), arg("cmd")) else {
            return Err(CellError::new(
                Kind::InvalidCall.name(),
                "EXEC needs task=ID and cmd=\"...\" (e.g. EXEC task=web cmd=\"ls -l\")",
            ));
        };
        let master = self.master_base(ctx).await?;
        let tasks = self
            .client
            .operator(
                &master,
                &json!({"type": "GET_TASKS"}),
                self.timeout,
                &ctx.cancel,
            )
            .await
            .map_err(|e| mesos_error(&e))?;
        let task = tasks
            .pointer("/get_tasks/tasks")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|t| t["task_id"]["value"] == task_id.as_str()))
            .cloned()
            .ok_or_else(|| {
                CellError::new(
                    Kind::InvalidCall.name(),
                    format!("EXEC: no live task '{task_id}' at the master"),
                )
            })?;
        let parent = task["statuses"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .rev()
                    .find_map(|st| st.pointer("/container_status/container_id").cloned())
            })
            .ok_or_else(|| {
                CellError::new(
                    Kind::InvalidCall.name(),
                    format!(
                        "EXEC: task '{task_id}' has no container yet (state {})",
                        task["state"]
                    ),
                )
            })?;
        let agent_id = task["agent_id"]["value"].as_str().unwrap_or("").to_string();
        let base = self.agent_base(Some(&agent_id), ctx).await?;
        let body = json!({"type": "LAUNCH_NESTED_CONTAINER_SESSION",
            "launch_nested_container_session": {
                "container_id": {"parent": parent, "value": uuid::Uuid::new_v4().to_string()},
                "command": {"shell": true, "value": cmd}}});
        self.agent_stream("LAUNCH_NESTED_CONTAINER_SESSION", &base, &body, ctx)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cut_inside_a_character_waits_for_the_rest() {
        let mut c = Utf8Carry::default();
        let bytes = "héllo".as_bytes();
        assert_eq!(c.push(&bytes[..2]), "h");
        assert_eq!(c.push(&bytes[2..]), "éllo");
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(15), 143);
    }
}
