//! The master's and the agents' own logs, as Mesos processes started with `--log_dir` keep
//! them: glog's files (`mesos-master.<host>.<user>.log.INFO.<date>-<time>.<pid>` and the
//! `mesos-master.INFO` link to it; `mesos-agent...` in each agent's own directory) with
//! glog's line format, readable as `/master/log` and `/slave/log` through `/files` and
//! LIST_FILES/READ_FILE. Each process has its verbosity (glog's `--v`), which
//! SET_LOGGING_LEVEL raises for a while and which then reverts (libprocess's `Logging`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// glog's severities, as the first letter of a line says them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    fn letter(self) -> char {
        match self {
            Severity::Info => 'I',
            Severity::Warning => 'W',
            Severity::Error => 'E',
        }
    }
}

/// One process's log: its file and its verbosity.
#[derive(Debug)]
pub struct ProcessLog {
    /// What `/master/log` or `/slave/log` shows: the `<program>.INFO` link.
    pub link: PathBuf,
    pub dir: PathBuf,
    file: Mutex<Option<File>>,
    /// The level it started with (glog's `--v`: 0) and the one in force.
    original: u32,
    level: u32,
    /// When a raised level reverts, and which SET_LOGGING_LEVEL armed it.
    until: Option<Instant>,
    generation: u64,
}

impl ProcessLog {
    /// Creates the directory, glog's file and its link; a log that cannot be written is
    /// said once on stderr and then not written (the cluster runs on without it).
    fn open(dir: &Path, program: &str, host: &str) -> ProcessLog {
        let now = chrono::Local::now();
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        let name = format!(
            "{program}.{host}.{user}.log.INFO.{}.{}",
            now.format("%Y%m%d-%H%M%S"),
            std::process::id()
        );
        let link = dir.join(format!("{program}.INFO"));
        let file = std::fs::create_dir_all(dir)
            .and_then(|_| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(&name))
            })
            .and_then(|mut f| {
                // glog's header, then the lines.
                writeln!(
                    f,
                    "Log file created at: {}\nRunning on machine: {host}\nLog line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg",
                    now.format("%Y/%m/%d %H:%M:%S")
                )?;
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&name, &link)?;
                Ok(f)
            });
        let file = match file {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot write the log; it is not kept");
                None
            }
        };
        ProcessLog {
            link,
            dir: dir.to_path_buf(),
            file: Mutex::new(file),
            original: 0,
            level: 0,
            until: None,
            generation: 0,
        }
    }

    /// Writes one line in glog's format: `Immdd hh:mm:ss.uuuuuu pid file:line] message`.
    fn write(&self, severity: Severity, at: &std::panic::Location<'_>, message: &str) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = file.as_mut() else {
            return;
        };
        let now = chrono::Local::now();
        let source = Path::new(at.file())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let line = format!(
            "{}{} {} {}:{}] {}\n",
            severity.letter(),
            now.format("%m%d %H:%M:%S%.6f"),
            std::process::id(),
            source,
            at.line(),
            message.replace('\n', " ")
        );
        if f.write_all(line.as_bytes()).is_err() {
            *file = None;
        }
    }

    pub fn level(&self) -> u32 {
        self.level
    }
}

/// The logs of one master and its agents.
#[derive(Debug, Default)]
pub struct Logs {
    root: Option<PathBuf>,
    host: String,
    master: Option<ProcessLog>,
    agents: HashMap<String, ProcessLog>,
}

/// Which process a call or a line is about: the master, or an agent by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Process {
    Master,
    Agent(String),
}

/// The master's log directory under the cluster's `--log_dir`, and an agent's.
pub fn master_dir(root: &Path) -> PathBuf {
    root.join("master")
}

pub fn agent_dir(root: &Path, port: u16) -> PathBuf {
    root.join(format!("agent-{port}"))
}

impl Logs {
    /// Starts the master's log under `root` (the cluster's `--log_dir`).
    pub fn open(&mut self, root: &Path, host: &str) {
        self.root = Some(root.to_path_buf());
        self.host = host.to_string();
        self.master = Some(ProcessLog::open(&master_dir(root), "mesos-master", host));
    }

    /// Starts an agent's log (in its own directory, kept by port: an agent that registers
    /// again on the same port writes on in the same directory).
    pub fn open_agent(&mut self, agent_id: &str, port: u16) {
        let Some(root) = &self.root else {
            return;
        };
        let log = ProcessLog::open(&agent_dir(root, port), "mesos-agent", &self.host);
        self.agents.insert(agent_id.to_string(), log);
    }

    pub fn of(&self, process: &Process) -> Option<&ProcessLog> {
        match process {
            Process::Master => self.master.as_ref(),
            Process::Agent(id) => self.agents.get(id),
        }
    }

    fn of_mut(&mut self, process: &Process) -> Option<&mut ProcessLog> {
        match process {
            Process::Master => self.master.as_mut(),
            Process::Agent(id) => self.agents.get_mut(id),
        }
    }

    /// A line at a severity (always written) to a process's log.
    pub fn line(
        &self,
        process: &Process,
        severity: Severity,
        at: &std::panic::Location<'_>,
        message: &str,
    ) {
        if let Some(log) = self.of(process) {
            log.write(severity, at, message);
        }
    }

    /// A `VLOG(n)` line: written only while the process's level is at least `n`.
    pub fn verbose(&self, process: &Process, n: u32, at: &std::panic::Location<'_>, message: &str) {
        if let Some(log) = self.of(process).filter(|l| l.level >= n) {
            log.write(Severity::Info, at, message);
        }
    }

    /// The level GET_LOGGING_LEVEL answers (0 for a process without a log).
    pub fn level(&self, process: &Process) -> u32 {
        self.of(process).map(ProcessLog::level).unwrap_or(0)
    }

    /// SET_LOGGING_LEVEL: the level now, and until when when it differs from the original
    /// (`Logging::set_level`). Returns the revert's generation and instant to arm, if any.
    #[track_caller]
    pub fn set_level(
        &mut self,
        process: &Process,
        level: u32,
        duration: Duration,
    ) -> Option<(u64, Instant)> {
        let at = std::panic::Location::caller();
        let log = self.of_mut(process)?;
        if log.level != level {
            // libprocess writes this at the old level, which is always on.
            log.write(
                Severity::Info,
                at,
                &format!("Setting verbose logging level to {level}"),
            );
            log.level = level;
        }
        if level == log.original {
            log.until = None;
            return None;
        }
        let until = Instant::now() + duration;
        log.generation += 1;
        log.until = Some(until);
        Some((log.generation, until))
    }

    /// The revert timer of one SET_LOGGING_LEVEL went off: only the latest one's counts.
    #[track_caller]
    pub fn revert(&mut self, process: &Process, generation: u64) {
        let at = std::panic::Location::caller();
        let Some(log) = self.of_mut(process) else {
            return;
        };
        if log.generation != generation || log.until.is_none() {
            return;
        }
        log.until = None;
        if log.level != log.original {
            log.write(
                Severity::Info,
                at,
                &format!("Setting verbose logging level to {}", log.original),
            );
            log.level = log.original;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_glogs_format_and_a_level_that_reverts() {
        let dir = std::env::temp_dir().join(format!("mk-log-{}", std::process::id()));
        let mut logs = Logs::default();
        logs.open(&dir, "127.0.0.1");
        let at = std::panic::Location::caller();
        logs.line(&Process::Master, Severity::Info, at, "hello");
        logs.verbose(&Process::Master, 1, at, "hidden");
        let (generation, _) = logs
            .set_level(&Process::Master, 2, Duration::from_secs(60))
            .unwrap();
        logs.verbose(&Process::Master, 1, at, "shown");
        assert_eq!(logs.level(&Process::Master), 2);
        logs.revert(&Process::Master, generation - 1); // an older timer: no effect
        assert_eq!(logs.level(&Process::Master), 2);
        logs.revert(&Process::Master, generation);
        assert_eq!(logs.level(&Process::Master), 0);
        let text = std::fs::read_to_string(master_dir(&dir).join("mesos-master.INFO")).unwrap();
        let lines: Vec<&str> = text.lines().skip(3).collect();
        assert!(lines[0].starts_with('I'));
        assert!(lines[0].contains("logging.rs:") && lines[0].ends_with("] hello"));
        assert!(!text.contains("hidden"));
        assert!(text.contains("] shown"));
        assert!(text.contains("Setting verbose logging level to 2"));
        assert!(text.contains("Setting verbose logging level to 0"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
