//! What the master and its agents write in their own logs (`logging.rs` keeps the files):
//! a line for each change operator streams hear of, the lines of maintenance and draining,
//! and SET_LOGGING_LEVEL / GET_LOGGING_LEVEL on each process. Every line also goes to
//! `tracing`, as the cluster logged before it kept logs.

use super::{Effect, Master, Timer};
use crate::cluster::logging::{Process, Severity};
use serde_json::Value;
use std::time::Duration;

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

impl Master {
    /// An INFO line in the master's log.
    #[track_caller]
    pub(crate) fn log_info(&self, message: &str) {
        tracing::info!(target: "mesos_kernel::cluster", "{message}");
        self.logs.line(
            &Process::Master,
            Severity::Info,
            std::panic::Location::caller(),
            message,
        );
    }

    /// A WARNING line in the master's log.
    #[track_caller]
    pub(crate) fn log_warning(&self, message: &str) {
        tracing::warn!(target: "mesos_kernel::cluster", "{message}");
        self.logs.line(
            &Process::Master,
            Severity::Warning,
            std::panic::Location::caller(),
            message,
        );
    }

    /// An INFO line in an agent's log.
    #[track_caller]
    pub(crate) fn log_agent(&self, agent_id: &str, message: &str) {
        self.logs.line(
            &Process::Agent(agent_id.to_string()),
            Severity::Info,
            std::panic::Location::caller(),
            message,
        );
    }

    /// The lines an operator event stands for, in the master's log and in the log of the
    /// agent it concerns, as Mesos's master and agent write them for the same changes.
    #[track_caller]
    pub(super) fn log_event(&self, event: &Value) {
        let at = std::panic::Location::caller();
        let master = |m: &str| {
            tracing::info!(target: "mesos_kernel::cluster", "{m}");
            self.logs.line(&Process::Master, Severity::Info, at, m);
        };
        let agent = |agent_id: &str, m: &str| {
            self.logs
                .line(&Process::Agent(agent_id.to_string()), Severity::Info, at, m);
        };
        match text(event, "/type") {
            "AGENT_ADDED" => {
                let a = &event["agent_added"]["agent"];
                let agent_id = text(a, "/agent_info/id/value");
                master(&format!(
                    "Registered agent {agent_id} at {} ({})",
                    text(a, "/pid"),
                    text(a, "/agent_info/hostname")
                ));
                agent(
                    agent_id,
                    &format!(
                        "Registered with master {}; given agent ID {agent_id}",
                        self.pid()
                    ),
                );
            }
            "AGENT_REMOVED" => {
                master(&format!(
                    "Removed agent {}",
                    text(event, "/agent_removed/agent_id/value")
                ));
            }
            "TASK_ADDED" => {
                let t = &event["task_added"]["task"];
                let (task_id, framework_id, agent_id) = (
                    text(t, "/task_id/value"),
                    text(t, "/framework_id/value"),
                    text(t, "/agent_id/value"),
                );
                master(&format!(
                    "Launching task {task_id} of framework {framework_id} on agent {agent_id}"
                ));
                agent(
                    agent_id,
                    &format!("Launching task '{task_id}' for framework {framework_id}"),
                );
            }
            "TASK_UPDATED" => {
                let u = &event["task_updated"];
                let s = &u["status"];
                let (state, task_id, framework_id, agent_id) = (
                    text(s, "/state"),
                    text(s, "/task_id/value"),
                    text(u, "/framework_id/value"),
                    text(s, "/agent_id/value"),
                );
                let line =
                    format!("Status update {state} for task {task_id} of framework {framework_id}");
                master(&line);
                if text(s, "/source") != "SOURCE_MASTER" {
                    agent(agent_id, &format!("Handling status update {state} for task {task_id} of framework {framework_id}"));
                }
            }
            _ => {}
        }
    }

    /// The master's line for a framework added, updated or removed (operator streams get
    /// these as events only when someone subscribed; the log always).
    #[track_caller]
    pub(super) fn log_framework(&self, kind: &str, framework_id: &str) {
        let name = self
            .framework(framework_id)
            .and_then(|f| f.info.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let line = match kind {
            "FRAMEWORK_ADDED" => format!("Added framework {framework_id} ({name})"),
            "FRAMEWORK_REMOVED" => format!("Removed framework {framework_id}"),
            _ => format!("Updated framework {framework_id} ({name})"),
        };
        self.log_info(&line);
    }

    /// After each allocation run: inverse offers, and the allocator's VLOG line.
    pub(super) fn after_allocation(&mut self, fx: &mut Vec<Effect>) {
        self.send_inverse_offers(fx);
        self.logs.verbose(
            &Process::Master,
            1,
            std::panic::Location::caller(),
            &format!(
                "Performed allocation for {} agents ({} offers outstanding)",
                self.agents.len(),
                self.offers.len()
            ),
        );
    }

    /// GET_LOGGING_LEVEL of the master or an agent.
    pub fn logging_level(&self, process: &Process) -> u32 {
        self.logs.level(process)
    }

    /// SET_LOGGING_LEVEL: the level until `duration` has passed, then the original again.
    pub fn set_logging_level(
        &mut self,
        process: Process,
        level: u32,
        duration: Duration,
        fx: &mut Vec<Effect>,
    ) {
        if let Some((generation, until)) = self.logs.set_level(&process, level, duration) {
            fx.push(Effect::Timer(
                until,
                Timer::RevertLogLevel {
                    process,
                    generation,
                },
            ));
        }
    }

    pub(super) fn revert_logging_level(&mut self, process: &Process, generation: u64) {
        self.logs.revert(process, generation);
    }
}
