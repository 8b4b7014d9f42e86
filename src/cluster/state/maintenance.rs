//! Maintenance as Mesos 1.11's master does it (`src/master/maintenance.cpp`,
//! `Master::Http::*Maintenance*` in `src/master/http.cpp`, `Master::updateUnavailability`
//! in `src/master/master.cpp`): one schedule of windows, machines (a hostname and an IP,
//! both matched) in modes UP, DRAINING and DOWN, and machines brought down (their agents
//! removed) and up again (their agents register anew). The inverse offers to frameworks
//! with resources on draining machines are `inverse_offers.rs`.

use super::{Agent, CallError, Effect, Master};
use crate::mesos::v1::agent::{MachineId, MachineMode as Mode};
use crate::mesos::v1::maintenance::{
    ClusterStatus, DrainingMachine, InverseOfferStatus, Schedule, Window,
};
use crate::mesos::v1::master::{Address, Url};
use crate::mesos::v1::offer::Unavailability;
use crate::mesos::v1::{DurationInfo, TimeInfo};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// `stringify(JSON::protobuf(id))`, as Mesos's errors name a machine.
fn quoted(m: &MachineId) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

/// A machine as the scheduler's inverse offers and the logs name it.
fn machine(hostname: Option<String>, ip: Option<String>) -> MachineId {
    MachineId {
        hostname,
        ip,
        ..Default::default()
    }
}

/// A machine the master knows of, through a schedule or an agent on it (Mesos's
/// `master->machines`: kept once known, `UP` unless a schedule says otherwise).
#[derive(Debug, Clone)]
pub struct Machine {
    pub id: MachineId,
    pub mode: Mode,
    pub unavailability: Option<Unavailability>,
}

/// An inverse offer out to a framework.
#[derive(Debug, Clone)]
pub struct Outstanding {
    pub id: String,
    pub framework_id: String,
    pub agent_id: String,
    pub unavailability: Unavailability,
}

/// A framework's last answer to an inverse offer for an agent.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) agent_id: String,
    pub(super) status: InverseOfferStatus,
}

#[derive(Debug, Default)]
pub struct Maintenance {
    /// Mesos keeps a list of schedules and uses only the first; `None` is none at all.
    schedule: Option<Vec<Window>>,
    pub machines: Vec<Machine>,
    pub inverse_offers: Vec<Outstanding>,
    pub(super) answers: Vec<Answer>,
    /// (agent, framework) pairs with an inverse offer out, as the allocator counts them.
    pub(super) outstanding: HashSet<(String, String)>,
    /// Inverse offers a framework answered stay away from it until then.
    pub(super) filters: Vec<(String, String, Instant)>,
    /// Agents shut down by a machine going DOWN, waiting to register again when it is UP.
    down_agents: Vec<Agent>,
}

/// What the operator sent, as protobuf's conversion reads it: a message where one is due.
fn object<'a>(v: &'a Value, name: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("Not expecting a JSON {} for field '{name}'", kind(v)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn list<'a>(v: Option<&'a Value>, name: &str) -> Result<Vec<&'a Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.iter().collect()),
        // stout takes a lone value for a repeated field as a list of one.
        Some(other) => {
            object(other, name)?;
            Ok(vec![other])
        }
    }
}

fn string(o: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "Not expecting a JSON {} for field '{name}'",
            kind(other)
        )),
    }
}

/// An int64 field: a JSON number or a string of one, as stout parses it.
fn int64(v: &Value, name: &str) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| format!("Failed to convert '{n}' to int64 for field '{name}'")),
        Value::String(s) => s
            .parse()
            .map_err(|_| format!("Failed to convert '{s}' to int64 for field '{name}'")),
        other => Err(format!(
            "Not expecting a JSON {} for field '{name}'",
            kind(other)
        )),
    }
}

/// `{"nanoseconds": N}` (a required field of TimeInfo and DurationInfo).
fn nanoseconds(v: &Value, name: &str, path: &str) -> Result<i64, String> {
    let o = object(v, name)?;
    match o.get("nanoseconds") {
        None | Some(Value::Null) => Err(format!("Missing required fields: {path}.nanoseconds")),
        Some(n) => int64(n, "nanoseconds"),
    }
}

pub fn parse_machine(v: &Value, name: &str) -> Result<MachineId, String> {
    let o = object(v, name)?;
    Ok(machine(string(o, "hostname")?, string(o, "ip")?))
}

/// A list of MachineIDs (`start_maintenance.machines`, `/machine/down`'s body).
pub fn parse_machines(v: Option<&Value>, name: &str) -> Result<Vec<MachineId>, String> {
    list(v, name)?
        .into_iter()
        .map(|m| parse_machine(m, name))
        .collect()
}

/// A Schedule; `path` names it in "Missing required fields" as protobuf does.
pub fn parse_schedule(v: &Value, path: &str) -> Result<Vec<Window>, String> {
    let o = object(v, "schedule")?;
    let mut windows = Vec::new();
    for (i, w) in list(o.get("windows"), "windows")?.into_iter().enumerate() {
        let wo = object(w, "windows")?;
        let machine_ids = parse_machines(wo.get("machine_ids"), "machine_ids")?;
        let here = format!("{}windows[{i}].unavailability", prefix(path));
        let Some(u) = wo.get("unavailability").filter(|u| !u.is_null()) else {
            return Err(format!("Missing required fields: {here}"));
        };
        let uo = object(u, "unavailability")?;
        let Some(start) = uo.get("start").filter(|s| !s.is_null()) else {
            return Err(format!("Missing required fields: {here}.start"));
        };
        let start = TimeInfo {
            nanoseconds: nanoseconds(start, "start", &format!("{here}.start"))?,
            ..Default::default()
        };
        let duration = match uo.get("duration").filter(|d| !d.is_null()) {
            Some(d) => Some(DurationInfo {
                nanoseconds: nanoseconds(d, "duration", &format!("{here}.duration"))?,
                ..Default::default()
            }),
            None => None,
        };
        windows.push(Window {
            machine_ids,
            unavailability: Unavailability {
                start,
                duration,
                ..Default::default()
            },
            ..Default::default()
        });
    }
    Ok(windows)
}

fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    }
}

/// `maintenance::validation::machine`: a hostname or an IP, and an IP that parses.
fn validate_machine(m: &MachineId) -> Result<(), String> {
    let empty = |s: &Option<String>| s.as_deref().unwrap_or("").is_empty();
    if empty(&m.hostname) && empty(&m.ip) {
        return Err("Both 'hostname' and 'ip' for a machine are empty".into());
    }
    if let Some(ip) = m.ip.as_deref().filter(|ip| !ip.is_empty()) {
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!("Failed to parse IPv4: {ip}"));
        }
    }
    Ok(())
}

/// `maintenance::validation::machines`: not empty, each valid and named once.
fn validate_machines(ids: &[MachineId]) -> Result<(), String> {
    if ids.is_empty() {
        return Err("List of machines is empty".into());
    }
    for (i, m) in ids.iter().enumerate() {
        validate_machine(m)?;
        if ids[..i].iter().any(|other| other.same_machine(m)) {
            return Err(format!(
                "Machine '{}' appears more than once in the schedule",
                quoted(m)
            ));
        }
    }
    Ok(())
}

/// The agent's URL an inverse offer carries (`Master::inverseOffer` always says "http").
pub(super) fn agent_url(m: &Master, a: &Agent) -> Url {
    Url {
        scheme: "http".into(),
        address: Address {
            hostname: Some(a.hostname.clone()),
            ip: Some(m.settings.ip.to_string()),
            port: i32::from(a.port),
            ..Default::default()
        },
        path: Some("/slave(1)".into()),
        ..Default::default()
    }
}

impl Master {
    /// An agent registers: its machine is known from now on (`UP` if new), as Mesos's
    /// `machines[machineId].slaves.insert` makes it.
    pub(super) fn know_machine_of(&mut self, a: &Agent) {
        let id = self.machine_of(a);
        if self.machine_index(&id).is_none() {
            self.maintenance.machines.push(Machine {
                id,
                mode: Mode::Up,
                unavailability: None,
            });
        }
    }

    /// Whether the schedule names this machine (DRAIN_AGENT refuses its agents).
    pub(super) fn scheduled(&self, machine: &MachineId) -> bool {
        self.maintenance
            .schedule
            .iter()
            .flatten()
            .any(|w| w.machine_ids.iter().any(|m| m.same_machine(machine)))
    }

    /// The machine an agent runs on: its hostname and the IP of its pid.
    pub fn machine_of(&self, a: &Agent) -> MachineId {
        machine(Some(a.hostname.clone()), Some(self.settings.ip.to_string()))
    }

    pub(super) fn machine_index(&self, id: &MachineId) -> Option<usize> {
        self.maintenance
            .machines
            .iter()
            .position(|m| m.id.same_machine(id))
    }

    /// The maintenance mode of an agent's machine (UP when no schedule names it).
    pub fn machine_mode(&self, a: &Agent) -> Mode {
        let id = self.machine_of(a);
        self.machine_index(&id)
            .map(|i| self.maintenance.machines[i].mode.clone())
            .unwrap_or(Mode::Up)
    }

    /// The unavailability offers of this agent carry (its machine's, while it has one).
    pub fn unavailability_of(&self, agent_id: &str) -> Option<&Unavailability> {
        let a = self.agent(agent_id)?;
        let id = self.machine_of(a);
        let i = self.machine_index(&id)?;
        self.maintenance.machines[i].unavailability.as_ref()
    }

    /// The schedule as GET_MAINTENANCE_SCHEDULE and `/maintenance/schedule` write it.
    pub fn maintenance_schedule(&self) -> Schedule {
        Schedule {
            windows: self.maintenance.schedule.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The ClusterStatus of GET_MAINTENANCE_STATUS and `/maintenance/status`: draining
    /// machines with the frameworks' answers to inverse offers for their agents, and down
    /// machines.
    pub fn maintenance_status(&self) -> ClusterStatus {
        let mut status = ClusterStatus::default();
        for machine in &self.maintenance.machines {
            match machine.mode {
                Mode::Draining => {
                    let agents: Vec<&str> = self
                        .agents
                        .iter()
                        .filter(|a| self.machine_of(a).same_machine(&machine.id))
                        .map(|a| a.id.as_str())
                        .collect();
                    status.draining_machines.push(DrainingMachine {
                        id: machine.id.clone(),
                        statuses: self
                            .maintenance
                            .answers
                            .iter()
                            .filter(|s| agents.contains(&s.agent_id.as_str()))
                            .map(|s| s.status.clone())
                            .collect(),
                        ..Default::default()
                    });
                }
                Mode::Down => status.down_machines.push(machine.id.clone()),
                _ => {}
            }
        }
        status
    }

    /// UPDATE_MAINTENANCE_SCHEDULE and `POST /maintenance/schedule`: validated as
    /// `maintenance::validation::schedule`, then machines new to it become DRAINING, those
    /// left out become UP again, and every agent whose unavailability changed has its offers
    /// and inverse offers rescinded, so frameworks hear of the change at once.
    pub fn update_schedule(
        &mut self,
        windows: Vec<Window>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        let mut seen: Vec<&MachineId> = Vec::new();
        for w in &windows {
            if w.machine_ids.is_empty() {
                return Err(CallError::new(
                    400,
                    "List of machines in the maintenance window is empty",
                ));
            }
            if w.unavailability
                .duration
                .as_ref()
                .is_some_and(|d| d.nanoseconds < 0)
            {
                return Err(CallError::new(400, "Unavailability 'duration' is negative"));
            }
            for m in &w.machine_ids {
                validate_machine(m).map_err(|e| CallError::new(400, e))?;
                if seen.iter().any(|s| s.same_machine(m)) {
                    return Err(CallError::new(
                        400,
                        format!(
                            "Machine '{}' appears more than once in the schedule",
                            quoted(m)
                        ),
                    ));
                }
                seen.push(m);
            }
        }
        for machine in &self.maintenance.machines {
            if machine.mode == Mode::Down && !seen.iter().any(|s| s.same_machine(&machine.id)) {
                return Err(CallError::new(
                    400,
                    format!(
                        "Machine '{}' is deactivated and cannot be removed from the schedule",
                        quoted(&machine.id)
                    ),
                ));
            }
        }
        let wanted: Vec<(MachineId, Unavailability)> = windows
            .iter()
            .flat_map(|w| {
                w.machine_ids
                    .iter()
                    .map(|m| (m.clone(), w.unavailability.clone()))
            })
            .collect();
        // As `___updateMaintenanceSchedule`: machines in the new schedule that are DRAINING
        // or DOWN keep their mode and take the new unavailability; UP ones (and new ones)
        // start DRAINING; every other machine the master knows is UP, without one. Each of
        // them has its unavailability updated, changed or not, as Mesos does: every agent's
        // offers are rescinded.
        let mut kept = Vec::new();
        for mut machine in std::mem::take(&mut self.maintenance.machines) {
            match wanted.iter().find(|(id, _)| id.same_machine(&machine.id)) {
                Some((_, u)) => {
                    if machine.mode == Mode::Up {
                        machine.mode = Mode::Draining;
                    }
                    machine.unavailability = Some(u.clone());
                }
                None => {
                    if machine.mode != Mode::Up {
                        self.log_info(&format!("Machine {} is UP again", quoted(&machine.id)));
                    }
                    machine.mode = Mode::Up;
                    machine.unavailability = None;
                }
            }
            kept.push(machine);
        }
        for (mid, u) in &wanted {
            if !kept.iter().any(|m: &Machine| m.id.same_machine(mid)) {
                kept.push(Machine {
                    id: mid.clone(),
                    mode: Mode::Draining,
                    unavailability: Some(u.clone()),
                });
            }
        }
        let touched: Vec<MachineId> = kept.iter().map(|m| m.id.clone()).collect();
        self.maintenance.machines = kept;
        self.maintenance.schedule = Some(windows);
        for mid in touched {
            self.unavailability_changed(&mid);
        }
        self.allocate(fx);
        Ok(())
    }

    /// `Master::updateUnavailability` for every agent of a machine: offers rescinded,
    /// inverse offers rescinded and forgotten, answers and filters cleared.
    fn unavailability_changed(&mut self, machine: &MachineId) {
        let agents: Vec<String> = self
            .agents
            .iter()
            .filter(|a| self.machine_of(a).same_machine(machine))
            .map(|a| a.id.clone())
            .collect();
        let start = self
            .machine_index(machine)
            .and_then(|i| self.maintenance.machines[i].unavailability.as_ref())
            .map(|u| u.start.nanoseconds);
        for agent_id in agents {
            match start {
                // Mesos writes the start as a Duration since the epoch (`Nanoseconds(...)`).
                Some(ns) => self.log_info(&format!(
                    "Updating unavailability of agent {agent_id}, starting at {}",
                    crate::cluster::flags::duration(Duration::from_nanos(ns.max(0) as u64))
                )),
                None => self.log_info(&format!("Removing unavailability of agent {agent_id}")),
            }
            self.rescind_offers_of(&agent_id);
            self.rescind_inverse_offers_of(&agent_id);
            self.maintenance.answers.retain(|a| a.agent_id != agent_id);
            self.maintenance.filters.retain(|f| f.1 != agent_id);
        }
    }

    /// Mesos's checks before START_ and STOP_MAINTENANCE: valid ids, each machine in the
    /// schedule and in `want` mode.
    fn machines_in_mode(&self, ids: &[MachineId], want: Mode, verb: &str) -> Result<(), CallError> {
        validate_machines(ids).map_err(|e| CallError::new(400, e))?;
        for mid in ids {
            let mode = self
                .machine_index(mid)
                .map(|i| &self.maintenance.machines[i].mode);
            let wrong = match mode {
                None => "is not part of a maintenance schedule".to_string(),
                Some(m) if *m == want => continue,
                Some(_) => format!("is not in {} mode and cannot be {verb}", want.as_str()),
            };
            return Err(CallError::new(
                400,
                format!("Machine '{}' {wrong}", quoted(mid)),
            ));
        }
        Ok(())
    }

    /// START_MAINTENANCE and `POST /machine/down`: DRAINING machines go DOWN; each of
    /// their agents is told to shut down and removed (`removeSlave`, "Operator initiated
    /// 'Machine DOWN'"): its tasks are TASK_LOST, its offers rescinded, frameworks hear
    /// FAILURE and operator streams AGENT_REMOVED.
    pub fn start_maintenance(
        &mut self,
        ids: &[MachineId],
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        self.machines_in_mode(ids, Mode::Draining, "brought down")?;
        for mid in ids {
            let agents: Vec<String> = self
                .agents
                .iter()
                .filter(|a| self.machine_of(a).same_machine(mid))
                .map(|a| a.id.clone())
                .collect();
            for agent_id in agents {
                self.rescind_inverse_offers_of(&agent_id);
                self.maintenance.answers.retain(|a| a.agent_id != agent_id);
                if let Some(agent) = self.remove_for_maintenance(&agent_id, fx) {
                    self.maintenance.down_agents.push(agent);
                }
            }
            if let Some(i) = self.machine_index(mid) {
                self.maintenance.machines[i].mode = Mode::Down;
            }
            self.log_info(&format!("Machine {} is DOWN", quoted(mid)));
        }
        Ok(())
    }

    /// STOP_MAINTENANCE and `POST /machine/up`: DOWN machines are UP and leave the
    /// schedule (emptied windows go too); the agents their going down shut down start
    /// again and register as new agents, as a Mesos agent whose master shut it down does
    /// when its supervisor restarts it.
    pub fn stop_maintenance(
        &mut self,
        ids: &[MachineId],
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        self.machines_in_mode(ids, Mode::Down, "brought up")?;
        let named = |m: &MachineId| ids.iter().any(|id| id.same_machine(m));
        for machine in &mut self.maintenance.machines {
            if named(&machine.id) {
                machine.mode = Mode::Up;
                machine.unavailability = None;
            }
        }
        if let Some(windows) = &mut self.maintenance.schedule {
            for w in windows.iter_mut() {
                w.machine_ids.retain(|m| !named(m));
            }
            windows.retain(|w| !w.machine_ids.is_empty());
            if windows.is_empty() {
                self.maintenance.schedule = None;
            }
        }
        let (back, still): (Vec<Agent>, Vec<Agent>) =
            std::mem::take(&mut self.maintenance.down_agents)
                .into_iter()
                .partition(|a| named(&self.machine_of(a)));
        self.maintenance.down_agents = still;
        for mid in ids {
            self.log_info(&format!("Machine {} is UP", quoted(mid)));
        }
        for old in back {
            let new_id = self.add_agent_named(
                old.port,
                old.hostname.clone(),
                old.total.clone(),
                old.attributes.clone(),
                fx,
            );
            fx.push(Effect::ServeAgent {
                agent_id: new_id,
                port: old.port,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::master;
    use super::*;
    use serde_json::json;

    fn schedule(host: &str) -> Vec<Window> {
        parse_schedule(
            &json!({"windows": [{"machine_ids": [{"hostname": host, "ip": "127.0.0.1"}],
                "unavailability": {"start": {"nanoseconds": 1}}}]}),
            "",
        )
        .unwrap()
    }

    #[test]
    fn a_scheduled_machine_drains_and_its_offers_carry_the_unavailability() {
        let mut m = master();
        let agent_id = m.agents[0].id.clone();
        m.update_schedule(schedule("127.0.0.1"), &mut Vec::new())
            .unwrap();
        assert_eq!(m.machine_mode(&m.agents[0]), Mode::Draining);
        assert_eq!(
            m.unavailability_of(&agent_id).map(|u| u.start.nanoseconds),
            Some(1)
        );
        assert_eq!(
            serde_json::to_value(m.maintenance_status()).unwrap(),
            json!({"draining_machines": [{"id": {"hostname": "127.0.0.1", "ip": "127.0.0.1"}}]})
        );
        // Hostnames match in any case; the IP must match too.
        let upper = parse_machines(
            Some(&json!([{"hostname": "127.0.0.1", "ip": "127.0.0.1"}])),
            "m",
        )
        .unwrap();
        m.start_maintenance(&upper, &mut Vec::new()).unwrap();
        assert!(m.agents.is_empty());
        assert_eq!(
            serde_json::to_value(m.maintenance_status()).unwrap(),
            json!({"down_machines": [{"hostname": "127.0.0.1", "ip": "127.0.0.1"}]})
        );
        let err = m.update_schedule(Vec::new(), &mut Vec::new()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("is deactivated and cannot be removed"));
        let mut fx = Vec::new();
        m.stop_maintenance(&upper, &mut fx).unwrap();
        assert_eq!(m.agents.len(), 1);
        assert_ne!(m.agents[0].id, agent_id, "it registers as a new agent");
        assert!(fx.iter().any(|e| matches!(e, Effect::ServeAgent { .. })));
        assert_eq!(
            serde_json::to_value(m.maintenance_schedule()).unwrap(),
            json!({})
        );
    }

    #[test]
    fn the_schedules_checks_are_mesoss() {
        let mut m = master();
        let empty = parse_schedule(
            &json!({"windows": [{"machine_ids": [], "unavailability": {"start": {"nanoseconds": 1}}}]}),
            "",
        )
        .unwrap();
        assert_eq!(
            m.update_schedule(empty, &mut Vec::new())
                .unwrap_err()
                .message,
            "List of machines in the maintenance window is empty"
        );
        assert_eq!(
            parse_schedule(
                &json!({"windows": [{"machine_ids": [{"ip": "1.2.3.4"}]}]}),
                "s"
            )
            .unwrap_err(),
            "Missing required fields: s.windows[0].unavailability"
        );
        let twice = parse_schedule(
            &json!({"windows": [{"machine_ids": [{"hostname": "A"}, {"hostname": "a"}],
                "unavailability": {"start": {"nanoseconds": 1}}}]}),
            "",
        )
        .unwrap();
        assert_eq!(
            m.update_schedule(twice, &mut Vec::new())
                .unwrap_err()
                .message,
            r#"Machine '{"hostname":"a"}' appears more than once in the schedule"#
        );
        let bad_ip = parse_machines(Some(&json!([{"ip": "nope"}])), "m").unwrap();
        assert_eq!(
            m.start_maintenance(&bad_ip, &mut Vec::new())
                .unwrap_err()
                .message,
            "Failed to parse IPv4: nope"
        );
        assert_eq!(
            m.start_maintenance(&[], &mut Vec::new())
                .unwrap_err()
                .message,
            "List of machines is empty"
        );
    }
}
