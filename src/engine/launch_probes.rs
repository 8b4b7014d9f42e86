//! LAUNCH's `health=` and `check=`: a task's health check and check (`TaskInfo.health_check`,
//! `TaskInfo.check`). A string is a command line for `sh -c` in the task's sandbox (a
//! COMMAND probe with Mesos's timings); an object is Mesos's own HealthCheck or CheckInfo,
//! for HTTP and TCP probes and other timings.

use crate::mesos::v1::checks::{CheckInfo, CheckType, CommandCheck, HealthCheck};
use crate::mesos::v1::command::CommandInfo;
use serde::Deserialize;
use serde_json::Value;

fn command(line: &str) -> CommandInfo {
    CommandInfo {
        value: Some(line.to_string()),
        shell: Some(true),
        ..Default::default()
    }
}

/// `health=`: a command line, or a HealthCheck.
pub fn health_check(v: &Value) -> Result<HealthCheck, String> {
    match v {
        Value::String(line) if !line.trim().is_empty() => Ok(HealthCheck {
            kind: Some(CheckType::Command),
            command: Some(command(line)),
            ..Default::default()
        }),
        Value::Object(_) => HealthCheck::deserialize(v)
            .map_err(|e| format!("health={v} is not a Mesos HealthCheck: {e}")),
        other => Err(format!(
            "health={other}: give a command line (\"curl -fs localhost:$PORT\") or a HealthCheck object"
        )),
    }
}

/// `check=`: a command line, or a CheckInfo.
pub fn check(v: &Value) -> Result<CheckInfo, String> {
    match v {
        Value::String(line) if !line.trim().is_empty() => Ok(CheckInfo {
            kind: Some(CheckType::Command),
            command: Some(CommandCheck {
                command: command(line),
                ..Default::default()
            }),
            ..Default::default()
        }),
        Value::Object(_) => CheckInfo::deserialize(v)
            .map_err(|e| format!("check={v} is not a Mesos CheckInfo: {e}")),
        other => Err(format!(
            "check={other}: give a command line or a CheckInfo object"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_command_line_or_mesos_own_form() {
        let h = health_check(&json!("test -f ready")).unwrap();
        assert_eq!(
            serde_json::to_value(&h).unwrap()["command"]["value"],
            "test -f ready"
        );
        assert_eq!(h.kind, Some(CheckType::Command));
        let h = health_check(&json!({"type": "TCP", "tcp": {"port": 8080}, "delay_seconds": 1.0}))
            .unwrap();
        assert_eq!(h.delay_seconds(), 1.0);
        assert!(health_check(&json!(3)).is_err());
        assert!(health_check(&json!("")).is_err());
        let c = check(&json!("exit 0")).unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["command"]["command"]["value"],
            "exit 0"
        );
        assert!(check(&json!({"type": "HTTP", "http": {"port": "x"}})).is_err());
    }
}
