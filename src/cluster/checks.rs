//! Health checks and checks of tasks, run beside the task as Mesos's command executor runs
//! them (`src/checks/health_checker.cpp`, `src/checks/checker.cpp`): after `delay_seconds`,
//! a probe every `interval_seconds`, each given `timeout_seconds`.
//!
//! - A **health check** (TaskInfo `health_check`) reports on its first success, on every
//!   failure, and on the first success after failures: a TASK_RUNNING update with `healthy`
//!   and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED. Failures in `grace_period_seconds`
//!   before the first success are ignored; after `consecutive_failures` failures in a row
//!   the executor kills the task, whose TASK_KILLED says `healthy: false`.
//! - A **check** (TaskInfo `check`) never kills: when its result changes, a TASK_RUNNING
//!   update with `check_status` and REASON_TASK_CHECK_STATUS_UPDATED. Every update of a task
//!   with a check carries a `check_status`, empty until the check has a result.
//!
//! Probes: COMMAND runs the command in the task's sandbox with its environment (exit code
//! 0 is healthy); HTTP asks `scheme://127.0.0.1:port/path` (200 to 399 is healthy; certificates
//! are not verified, as Mesos's `curl -k`); TCP connects to `127.0.0.1:port` (`::1` for IPv6).
//! A simulated Docker container serves no port: its HTTP and TCP probes fail, as they would
//! against a container that does not listen.

use crate::mesos::v1::checks::{CheckInfo, CheckType, HealthCheck};
use crate::mesos::v1::command::CommandInfo;
use crate::mesos::v1::container::Protocol;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// The shortest wait between probes: `interval_seconds: 0` would otherwise spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// A task's health check and check, as its TaskInfo gives them.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    pub health: Option<HealthCheck>,
    pub check: Option<CheckInfo>,
}

impl Probes {
    /// Read from a TaskInfo (validated at launch: `validate`).
    pub fn of(task: &Value) -> Probes {
        let read = |key: &str| task.get(key).filter(|v| v.is_object());
        Probes {
            health: read("health_check").and_then(|v| serde_json::from_value(v.clone()).ok()),
            check: read("check").and_then(|v| serde_json::from_value(v.clone()).ok()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.health.is_none() && self.check.is_none()
    }
}

/// Where probes run: the task's sandbox and environment.
#[derive(Debug, Clone)]
pub struct Target {
    pub sandbox: PathBuf,
    pub env: Vec<(String, String)>,
}

/// The master's checks of a TaskInfo's `health_check` and `check`, with Mesos's messages
/// (`validateHealthCheck`, `validateCheckInfo` of `src/common/validation.cpp`).
pub fn validate(task: &Value) -> Result<(), String> {
    if let Some(h) = task.get("health_check").filter(|v| !v.is_null()) {
        let h: HealthCheck = serde_json::from_value(h.clone())
            .map_err(|e| format!("Task uses invalid health check: {e}"))?;
        health_error(&h).map_or(Ok(()), |e| {
            Err(format!("Task uses invalid health check: {e}"))
        })?;
    }
    if let Some(c) = task.get("check").filter(|v| !v.is_null()) {
        let c: CheckInfo = serde_json::from_value(c.clone())
            .map_err(|e| format!("Task uses invalid check: {e}"))?;
        check_error(&c).map_or(Ok(()), |e| Err(format!("Task uses invalid check: {e}")))?;
    }
    Ok(())
}

fn command_error(command: &CommandInfo, what: &str) -> Option<String> {
    if command.value.is_some() {
        return None;
    }
    let kind = if command.shell() {
        "'shell command'"
    } else {
        "'executable path'"
    };
    Some(format!("Command {what} must contain {kind}"))
}

fn negative(fields: &[(&str, Option<f64>)]) -> Option<String> {
    fields
        .iter()
        .find(|(_, v)| v.is_some_and(|v| v < 0.0))
        .map(|(name, _)| format!("Expecting '{name}' to be non-negative"))
}

fn health_error(h: &HealthCheck) -> Option<String> {
    let kind = match &h.kind {
        None => return Some("HealthCheck must specify 'type'".into()),
        Some(k) => k,
    };
    let error = match kind {
        CheckType::Command => match &h.command {
            None => Some("Expecting 'command' to be set for COMMAND health check".into()),
            Some(c) => command_error(c, "health check"),
        },
        CheckType::Http => match &h.http {
            None => Some("Expecting 'http' to be set for HTTP health check".into()),
            Some(http) => match (&http.scheme, &http.path) {
                (Some(s), _) if s != "http" && s != "https" => {
                    Some(format!("Unsupported HTTP health check scheme: '{s}'"))
                }
                (_, Some(p)) if !p.starts_with('/') => Some(format!(
                    "The path '{p}' of HTTP health check must start with '/'"
                )),
                _ => None,
            },
        },
        CheckType::Tcp => h
            .tcp
            .is_none()
            .then(|| "Expecting 'tcp' to be set for TCP health check".into()),
        other => Some(format!(
            "'{}' is not a valid health check type",
            other.as_str()
        )),
    };
    error.or_else(|| {
        negative(&[
            ("delay_seconds", h.delay_seconds),
            ("grace_period_seconds", h.grace_period_seconds),
            ("interval_seconds", h.interval_seconds),
            ("timeout_seconds", h.timeout_seconds),
        ])
    })
}

fn check_error(c: &CheckInfo) -> Option<String> {
    let kind = match &c.kind {
        None => return Some("CheckInfo must specify 'type'".into()),
        Some(k) => k,
    };
    let error = match kind {
        CheckType::Command => match &c.command {
            None => Some("Expecting 'command' to be set for COMMAND check".into()),
            Some(c) => command_error(&c.command, "check"),
        },
        CheckType::Http => match &c.http {
            None => Some("Expecting 'http' to be set for HTTP check".into()),
            Some(http) => http
                .path
                .as_ref()
                .filter(|p| !p.starts_with('/'))
                .map(|p| format!("The path '{p}' of HTTP check must start with '/'")),
        },
        CheckType::Tcp => c
            .tcp
            .is_none()
            .then(|| "Expecting 'tcp' to be set for TCP check".into()),
        other => Some(format!("'{}' is not a valid check type", other.as_str())),
    };
    error.or_else(|| {
        negative(&[
            ("delay_seconds", c.delay_seconds),
            ("interval_seconds", c.interval_seconds),
            ("timeout_seconds", c.timeout_seconds),
        ])
    })
}

/// The `check_status` of a task whose check has no result yet: its type and an empty result
/// (`createEmptyCheckStatusInfo`), from the task's `check` field. `None` for a task without
/// a check.
pub fn empty_status(check: Option<Value>) -> Option<Value> {
    let check: CheckInfo = serde_json::from_value(check?).ok()?;
    Some(empty_of(&check))
}

fn empty_of(check: &CheckInfo) -> Value {
    match check.kind {
        Some(CheckType::Http) => json!({"type": "HTTP", "http": {}}),
        Some(CheckType::Tcp) => json!({"type": "TCP", "tcp": {}}),
        _ => json!({"type": "COMMAND", "command": {}}),
    }
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

fn loopback(protocol: Protocol) -> IpAddr {
    match protocol {
        Protocol::Ipv6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// Runs a command probe: its exit code, or `None` when it could not run or timed out.
async fn run_command(command: &CommandInfo, target: &Target, timeout: Duration) -> Option<i32> {
    let value = command.value.as_deref()?;
    let mut cmd = if command.shell() {
        let mut c = Command::new("sh");
        c.arg("-c").arg(value);
        c
    } else {
        let mut c = Command::new(value);
        c.args(command.arguments.iter().skip(1));
        c
    };
    cmd.current_dir(&target.sandbox)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("MESOS_SANDBOX", &target.sandbox)
        .envs(target.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(true);
    let mut child = cmd.spawn().ok()?;
    let status = if timeout.is_zero() {
        child.wait().await.ok()?
    } else {
        tokio::time::timeout(timeout, child.wait())
            .await
            .ok()?
            .ok()?
    };
    status.code()
}

/// An HTTP probe's status code, or `None` when no answer came in time.
async fn run_http(url: &str, timeout: Duration) -> Option<u16> {
    let mut client = reqwest::Client::builder().danger_accept_invalid_certs(true);
    if !timeout.is_zero() {
        client = client.timeout(timeout);
    }
    let response = client.build().ok()?.get(url).send().await.ok()?;
    Some(response.status().as_u16())
}

/// A TCP probe: whether a connection was made; `None` when it timed out.
async fn run_tcp(addr: SocketAddr, timeout: Duration) -> Option<bool> {
    let connect = tokio::net::TcpStream::connect(addr);
    if timeout.is_zero() {
        return Some(connect.await.is_ok());
    }
    tokio::time::timeout(timeout, connect)
        .await
        .ok()
        .map(|r| r.is_ok())
}

async fn healthy(h: &HealthCheck, target: &Target) -> bool {
    let timeout = seconds(h.timeout_seconds());
    match (&h.kind, &h.command, &h.http, &h.tcp) {
        (Some(CheckType::Command), Some(c), _, _) => {
            run_command(c, target, timeout).await == Some(0)
        }
        (Some(CheckType::Http), _, Some(http), _) => {
            let scheme = http.scheme.as_deref().unwrap_or("http");
            let addr = SocketAddr::new(loopback(http.protocol()), port(http.port));
            let path = http.path.as_deref().unwrap_or("/");
            let url = format!("{scheme}://{addr}{path}");
            run_http(&url, timeout)
                .await
                .is_some_and(|code| (200..400).contains(&code))
        }
        (Some(CheckType::Tcp), _, _, Some(tcp)) => {
            let addr = SocketAddr::new(loopback(tcp.protocol()), port(tcp.port));
            run_tcp(addr, timeout).await == Some(true)
        }
        _ => false,
    }
}

fn port(p: u32) -> u16 {
    u16::try_from(p).unwrap_or(0)
}

/// One check's result as a `check_status` (empty when the probe had no result).
async fn check_result(c: &CheckInfo, target: &Target) -> Value {
    let timeout = seconds(c.timeout_seconds());
    let empty = empty_of(c);
    match (&c.kind, &c.command, &c.http, &c.tcp) {
        (Some(CheckType::Command), Some(cmd), _, _) => {
            match run_command(&cmd.command, target, timeout).await {
                Some(code) => json!({"type": "COMMAND", "command": {"exit_code": code}}),
                None => empty,
            }
        }
        (Some(CheckType::Http), _, Some(http), _) => {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port(http.port));
            let path = http.path.as_deref().unwrap_or("/");
            match run_http(&format!("http://{addr}{path}"), timeout).await {
                Some(code) => json!({"type": "HTTP", "http": {"status_code": code}}),
                None => empty,
            }
        }
        (Some(CheckType::Tcp), _, _, Some(tcp)) => {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port(tcp.port));
            match run_tcp(addr, timeout).await {
                Some(ok) => json!({"type": "TCP", "tcp": {"succeeded": ok}}),
                None => empty,
            }
        }
        _ => empty,
    }
}

/// What a health check tells the executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub healthy: bool,
    /// `consecutive_failures` reached: the executor kills the task.
    pub kill: bool,
}

/// Runs a health check until `stop`, telling `report` what Mesos's health checker tells the
/// executor; ends after asking for a kill.
pub async fn health_checks(
    h: HealthCheck,
    target: Target,
    stop: CancellationToken,
    report: impl Fn(Health),
) {
    let started = Instant::now();
    let grace = seconds(h.grace_period_seconds());
    let interval = seconds(h.interval_seconds()).max(MIN_INTERVAL);
    let (mut initializing, mut failures) = (true, 0u32);
    let mut next = tokio::time::sleep(seconds(h.delay_seconds()));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = next => {}
        }
        let ok = tokio::select! {
            _ = stop.cancelled() => return,
            ok = healthy(&h, &target) => ok,
        };
        if ok {
            if initializing || failures > 0 {
                report(Health {
                    healthy: true,
                    kill: false,
                });
                initializing = false;
            }
            failures = 0;
        } else if !(initializing && !grace.is_zero() && started.elapsed() <= grace) {
            failures += 1;
            let kill = failures >= h.consecutive_failures();
            report(Health {
                healthy: false,
                kill,
            });
            if kill {
                return;
            }
        }
        next = tokio::time::sleep(interval);
    }
}

/// Runs a check until `stop`, telling `report` each new result.
pub async fn checks(c: CheckInfo, target: Target, stop: CancellationToken, report: impl Fn(Value)) {
    let interval = seconds(c.interval_seconds()).max(MIN_INTERVAL);
    let mut previous = empty_of(&c);
    let mut next = tokio::time::sleep(seconds(c.delay_seconds()));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = next => {}
        }
        let result = tokio::select! {
            _ = stop.cancelled() => return,
            r = check_result(&c, &target) => r,
        };
        if result != previous {
            report(result.clone());
            previous = result;
        }
        next = tokio::time::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(extra: Value) -> Value {
        let mut t = json!({"name": "t", "task_id": {"value": "t"}});
        if let (Some(o), Some(e)) = (t.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        t
    }

    #[test]
    fn health_checks_and_checks_are_validated_with_mesos_messages() {
        let cases = [
            (json!({"health_check": {"command": {"value": "true"}}}),
             "Task uses invalid health check: HealthCheck must specify 'type'"),
            (json!({"health_check": {"type": "COMMAND"}}),
             "Task uses invalid health check: Expecting 'command' to be set for COMMAND health check"),
            (json!({"health_check": {"type": "COMMAND", "command": {"shell": false}}}),
             "Task uses invalid health check: Command health check must contain 'executable path'"),
            (json!({"health_check": {"type": "HTTP", "http": {"port": 80, "scheme": "ftp"}}}),
             "Task uses invalid health check: Unsupported HTTP health check scheme: 'ftp'"),
            (json!({"health_check": {"type": "HTTP", "http": {"port": 80, "path": "x"}}}),
             "Task uses invalid health check: The path 'x' of HTTP health check must start with '/'"),
            (json!({"health_check": {"type": "TCP", "tcp": {"port": 1}, "interval_seconds": -1.0}}),
             "Task uses invalid health check: Expecting 'interval_seconds' to be non-negative"),
            (json!({"check": {"type": "TCP"}}),
             "Task uses invalid check: Expecting 'tcp' to be set for TCP check"),
            (json!({"check": {"type": "COMMAND", "command": {"command": {}}}}),
             "Task uses invalid check: Command check must contain 'shell command'"),
        ];
        for (extra, message) in cases {
            assert_eq!(
                validate(&task(extra.clone())),
                Err(message.to_string()),
                "{extra}"
            );
        }
        let fine = json!({"health_check": {"type": "TCP", "tcp": {"port": 1}},
                          "check": {"type": "HTTP", "http": {"port": 1, "path": "/ok"}}});
        assert_eq!(validate(&task(fine.clone())), Ok(()));
        let probes = Probes::of(&task(fine));
        assert!(probes.health.is_some() && probes.check.is_some());
        assert_eq!(
            empty_status(
                task(json!({"check": {"type": "HTTP", "http": {"port": 1}}}))
                    .get("check")
                    .cloned()
            ),
            Some(json!({"type": "HTTP", "http": {}}))
        );
        assert_eq!(empty_status(task(json!({})).get("check").cloned()), None);
    }

    fn target() -> Target {
        Target {
            sandbox: std::env::temp_dir(),
            env: vec![("PROBE_EXIT".into(), "3".into())],
        }
    }

    #[tokio::test]
    async fn a_health_check_reports_as_mesos_and_asks_for_a_kill() {
        // Fails at once, no grace period: three unhealthy reports, the last asking to kill.
        let h: HealthCheck = serde_json::from_value(json!({"type": "COMMAND",
            "command": {"value": "exit $PROBE_EXIT"}, "delay_seconds": 0.0,
            "interval_seconds": 0.0, "grace_period_seconds": 0.0, "consecutive_failures": 3}))
        .unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        health_checks(h, target(), CancellationToken::new(), |r| {
            seen.lock().unwrap().push(r)
        })
        .await;
        let seen = seen.into_inner().unwrap();
        let unhealthy = |kill| Health {
            healthy: false,
            kill,
        };
        assert_eq!(seen, [unhealthy(false), unhealthy(false), unhealthy(true)]);

        // Healthy: one report on the first success, none for the probes after it.
        let h: HealthCheck = serde_json::from_value(json!({"type": "COMMAND",
            "command": {"value": "true"}, "delay_seconds": 0.0, "interval_seconds": 0.0}))
        .unwrap();
        let stop = CancellationToken::new();
        let seen = std::sync::Mutex::new(Vec::new());
        let probes = health_checks(h, target(), stop.clone(), |r| seen.lock().unwrap().push(r));
        tokio::pin!(probes);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut first: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = &mut probes => break,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {
                    if first.is_none() && !seen.lock().unwrap().is_empty() {
                        first = Some(Instant::now());
                    }
                    // Probes every 10 ms: some 30 more after the first success.
                    let later = first.is_some_and(|t| t.elapsed() > Duration::from_millis(300));
                    if later || Instant::now() > deadline {
                        stop.cancel();
                    }
                }
            }
        }
        let got = seen.lock().unwrap().clone();
        assert_eq!(
            got,
            [Health {
                healthy: true,
                kill: false
            }]
        );
    }

    #[tokio::test]
    async fn a_check_reports_each_new_result() {
        let c: CheckInfo = serde_json::from_value(json!({"type": "COMMAND",
            "command": {"command": {"value": "exit $PROBE_EXIT"}},
            "delay_seconds": 0.0, "interval_seconds": 0.0}))
        .unwrap();
        let stop = CancellationToken::new();
        let seen = std::sync::Mutex::new(Vec::new());
        let run = checks(c, target(), stop.clone(), |v| {
            seen.lock().unwrap().push(v);
        });
        tokio::pin!(run);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            tokio::select! {
                _ = &mut run => break,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    if !seen.lock().unwrap().is_empty() || Instant::now() > deadline {
                        stop.cancel();
                    }
                }
            }
        }
        let got = seen.lock().unwrap().clone();
        assert_eq!(
            got,
            [json!({"type": "COMMAND", "command": {"exit_code": 3}})]
        );
        // A TCP check of a port nobody listens on: it did not succeed.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c: CheckInfo =
            serde_json::from_value(json!({"type": "TCP", "tcp": {"port": port}})).unwrap();
        assert_eq!(
            check_result(&c, &target()).await,
            json!({"type": "TCP", "tcp": {"succeeded": false}})
        );
    }
}
