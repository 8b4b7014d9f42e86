//! jq runs in a child process, the jq worker (`mesos-kernel jq-worker`). jq is a whole
//! language: a function that recurses without end overflows any stack, `[repeat(1)]` or
//! `"x" * 1e12` asks for more memory than the machine has, and `last(range(1e18))` never
//! ends. In the kernel's own process each of those would abort the kernel or leave a thread
//! spinning after the interrupt; in the worker they cost one error. The kernel kills the
//! worker when a cell is interrupted and starts a new one at the next expression.
//!
//! The worker keeps the variables it was sent, already converted to jaq values, and is sent
//! a variable again only after it was reassigned: a filter over a large `$state` pays for
//! the transfer once.
//!
//! Frames on the pipes are a 4-byte little-endian length and a body: for a request, a
//! 4-byte little-endian length, the `Header` as JSON, then the values' JSON (see `Header`);
//! for a reply, a JSON document.
//!
//! The worker ends with its kernel on every Unix: when its stdin closes, even in the middle
//! of an evaluation. Linux adds a parent-death signal and the memory limit (RLIMIT_AS);
//! macOS has no enforced address-space limit, so there the worker runs without one.

use crate::engine::held::{self, HeldVar};
use crate::engine::jq::{self, JqError};
use crate::engine::session::Variables;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio_util::sync::CancellationToken;

/// The worker's address-space limit when `MESOS_KERNEL_JQ_MEMORY_MB` does not set one.
pub const DEFAULT_MEMORY_MB: u64 = 4096;
/// The worker evaluates on a thread with this much stack (reserved, not committed).
const WORKER_STACK_BYTES: usize = 256 * 1024 * 1024;
/// A frame longer than this is a broken peer, not a value.
const MAX_FRAME: usize = 1 << 31;
/// The worker keeps variables up to about this much JSON (the values it holds take several
/// times that as jaq values); past it, those used longest ago are forgotten, and sent again
/// if an expression needs them. Without a bound, every large result ever used in jq would
/// stay in the worker until it ran into its memory limit on some innocent expression.
pub const HELD_BUDGET: usize = 256 * 1024 * 1024;
/// Lines of the worker's stderr kept to tell why it died.
const STDERR_LINES: usize = 8;

/// A request is this header as JSON, then the input's and the sent variables' JSON, one
/// after the other: the worker parses each value straight into a jaq value, with no
/// `serde_json::Value` in between.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    code: String,
    /// Bytes of the input's JSON, which comes first.
    input_len: usize,
    vars: Vec<VarHeader>,
    /// Variables the worker is to forget first (see `HELD_BUDGET`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    forget: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct VarHeader {
    name: String,
    generation: u64,
    /// Bytes of its JSON; absent when the worker already holds this generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    len: Option<usize>,
}

type Reply<T = Value> = Result<Vec<T>, JqError>;

/// What an evaluation's outputs are read as: `Value`s, or each output's JSON text (a
/// call's body goes to Mesos as the text jq wrote, never built as a `Value`).
pub trait Output: serde::de::DeserializeOwned + Send + 'static {
    fn from_value(value: Value) -> Self;
}

impl Output for Value {
    fn from_value(value: Value) -> Self {
        value
    }
}

impl Output for Box<serde_json::value::RawValue> {
    fn from_value(value: Value) -> Self {
        // A Value's own text is JSON; the fallback is never taken.
        serde_json::value::to_raw_value(&value)
            .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned())
    }
}

/// What `.` is: a value the kernel holds, or JSON as it came over HTTP. A filter on a
/// call's answer (`GET_STATE | ...`) hands the worker the answer's bytes, so a big answer
/// is parsed once, in the worker, and never built as a `Value` in the kernel.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Value(&'a Value),
    Json(&'a [u8]),
}

/// Why an evaluation in the worker gave no values.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Jq(#[from] JqError),
    #[error("interrupted")]
    Interrupted,
}

/// The kernel's handle on its jq worker.
pub struct JqWorker {
    exe: Option<PathBuf>,
    memory_mb: u64,
    held_budget: usize,
    /// Request bytes written to workers, for tests and diagnostics.
    sent: std::sync::atomic::AtomicU64,
    /// Set when the worker could not be started: the session goes on in the kernel's
    /// process, with one warning rather than one per expression.
    cannot_start: std::sync::atomic::AtomicBool,
    proc: tokio::sync::Mutex<Option<Proc>>,
}

/// One variable as the worker holds it.
#[derive(Debug, Clone, Copy)]
struct Held {
    generation: u64,
    /// Bytes of JSON it was sent as.
    bytes: usize,
    last_used: u64,
}

/// What a request changes in what the worker holds.
#[derive(Debug, Default)]
struct Plan {
    used: Vec<(String, Held)>,
    forget: Vec<String>,
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// What the worker holds of each variable.
    holds: HashMap<String, Held>,
    /// Bumped per request, to find the variables used longest ago.
    requests: u64,
    held_budget: usize,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_task: tokio::task::JoinHandle<()>,
    /// Set while a request is on the pipes: if the evaluation's future is dropped half-way,
    /// the pipes are out of step and the next evaluation starts a fresh worker.
    in_flight: bool,
}

impl JqWorker {
    /// A worker started from `exe` (the `mesos-kernel` binary); `None` evaluates in the
    /// kernel's own process, as library users and unit tests without the binary do.
    pub fn new(exe: Option<PathBuf>) -> Self {
        JqWorker {
            exe,
            memory_mb: memory_mb_from_env(),
            held_budget: HELD_BUDGET,
            sent: std::sync::atomic::AtomicU64::new(0),
            cannot_start: std::sync::atomic::AtomicBool::new(false),
            proc: tokio::sync::Mutex::new(None),
        }
    }

    /// The worker binary for the running kernel: `MESOS_KERNEL_JQ_WORKER` when set (`off`
    /// evaluates in the kernel's process, without the worker's protection), else this
    /// executable when it is `mesos-kernel` (a test binary is not).
    pub fn from_env() -> Self {
        let configured = std::env::var_os("MESOS_KERNEL_JQ_WORKER");
        if configured.as_deref() == Some(std::ffi::OsStr::new("off")) {
            return Self::new(None);
        }
        let exe = configured.map(PathBuf::from).or_else(|| {
            std::env::current_exe().ok().filter(|p| {
                p.file_stem()
                    .is_some_and(|s| s.to_string_lossy() == "mesos-kernel")
            })
        });
        Self::new(exe)
    }

    /// The worker's memory limit, in MiB (at least 64).
    pub fn with_memory_mb(mut self, memory_mb: u64) -> Self {
        self.memory_mb = memory_mb.max(64);
        self
    }

    /// How much JSON of variables the worker keeps (`HELD_BUDGET` by default).
    pub fn with_held_budget(mut self, bytes: usize) -> Self {
        self.held_budget = bytes;
        self
    }

    pub fn memory_mb(&self) -> u64 {
        self.memory_mb
    }

    /// The running worker's process id, if one is running.
    pub async fn pid(&self) -> Option<u32> {
        self.proc.lock().await.as_ref().and_then(|p| p.child.id())
    }

    /// Bytes of requests written to worker processes so far.
    pub fn sent_bytes(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Evaluates `code` with `input` as `.` and the variables it mentions.
    pub async fn eval(
        &self,
        code: &str,
        input: &Value,
        vars: &Variables,
        cancel: &CancellationToken,
    ) -> Result<Vec<Value>, WorkerError> {
        self.eval_as(code, Input::Value(input), vars, cancel).await
    }

    /// Evaluates `code` with `input` (a value, or JSON text) as `.`, its outputs read as
    /// `T` (`Value`s, or their JSON text).
    pub async fn eval_as<T: Output>(
        &self,
        code: &str,
        input: Input<'_>,
        vars: &Variables,
        cancel: &CancellationToken,
    ) -> Result<Vec<T>, WorkerError> {
        let Some(exe) = &self.exe else {
            return in_process(code, input, vars, cancel).await;
        };
        if self.cannot_start.load(std::sync::atomic::Ordering::Relaxed) {
            return in_process(code, input, vars, cancel).await;
        }
        let mut guard = self.proc.lock().await;
        if guard.as_ref().is_some_and(|p| p.in_flight) {
            if let Some(old) = guard.take() {
                old.kill().await;
            }
        }
        if guard.is_none() {
            match spawn(exe, self.memory_mb, self.held_budget) {
                Ok(p) => *guard = Some(p),
                Err(e) => {
                    tracing::warn!(
                        "cannot start the jq worker {}: {e}; jq runs in the kernel's process \
                         for the rest of the session, without the worker's limits",
                        exe.display()
                    );
                    self.cannot_start
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    drop(guard);
                    return in_process(code, input, vars, cancel).await;
                }
            }
        }
        let Some(proc) = guard.as_mut() else {
            return Err(JqError::WorkerDied("no worker".into()).into());
        };
        let (request, plan) = proc.request(code, input, vars);
        self.sent
            .fetch_add(request.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let exchanged = tokio::select! {
            r = proc.exchange(&request) => Some(r),
            _ = cancel.cancelled() => None,
        };
        match exchanged {
            Some(Ok(reply)) => {
                proc.remember(plan);
                Ok(reply?)
            }
            Some(Err(e)) => {
                let why = match guard.take() {
                    Some(p) => p.death(self.memory_mb).await,
                    None => JqError::WorkerDied(e.to_string()),
                };
                Err(why.into())
            }
            None => {
                // Killed, not waited for politely: it may be looping or swapping.
                if let Some(p) = guard.take() {
                    p.kill().await;
                }
                Err(WorkerError::Interrupted)
            }
        }
    }
}

/// The old way, for when there is no worker binary: a blocking thread, abandoned when the
/// cell is interrupted.
async fn in_process<T: Output>(
    code: &str,
    input: Input<'_>,
    vars: &Variables,
    cancel: &CancellationToken,
) -> Result<Vec<T>, WorkerError> {
    let vars = vars.referenced(code);
    let owned = code.to_string();
    let input = match input {
        Input::Value(v) => v.clone(),
        // serde_json's depth limit here: the worker's unlimited parser runs on a stack of
        // WORKER_STACK_BYTES, this on one of the kernel's.
        Input::Json(json) => serde_json::from_slice(json)
            .map_err(|e: serde_json::Error| JqError::InputNotJson(e.to_string()))?,
    };
    let task = tokio::task::spawn_blocking(move || {
        jq::eval(&owned, &input, &vars).map(|vs| vs.into_iter().map(T::from_value).collect())
    });
    tokio::select! {
        r = task => match r {
            Ok(values) => Ok(values?),
            Err(e) => Err(JqError::WorkerDied(format!("the evaluation panicked: {e}")).into()),
        },
        _ = cancel.cancelled() => Err(WorkerError::Interrupted),
    }
}

fn spawn(exe: &std::path::Path, memory_mb: u64, held_budget: usize) -> std::io::Result<Proc> {
    let mut child = tokio::process::Command::new(exe)
        .arg("jq-worker")
        .env("MESOS_KERNEL_JQ_MEMORY_MB", memory_mb.to_string())
        .env("MESOS_KERNEL_JQ_PARENT", std::process::id().to_string())
        // mimalloc (the binary's allocator) reserves 1 GiB of address space at a time;
        // under the worker's RLIMIT_AS that left no room for its stack, and the worker
        // exited instead of reporting the memory limit. Smaller reservations fit.
        .env("MIMALLOC_ARENA_RESERVE", "64MiB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(std::io::Error::other("the worker's pipes are missing"));
    };
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    let tail = stderr_tail.clone();
    // The worker's stderr is forwarded to the kernel's log; its last lines say why it died.
    let stderr_task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::warn!(target: "jq_worker", "{line}");
            if let Ok(mut t) = tail.lock() {
                if t.len() == STDERR_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
    });
    Ok(Proc {
        child,
        stdin,
        stdout: BufReader::new(stdout),
        holds: HashMap::new(),
        requests: 0,
        held_budget,
        stderr_tail,
        stderr_task,
        in_flight: false,
    })
}

impl Proc {
    /// The request frame's body (header length, header, then the values), and what the
    /// worker will hold once it has answered.
    fn request(&self, code: &str, input: Input<'_>, vars: &Variables) -> (Vec<u8>, Plan) {
        let mut values = match input {
            // Serializing JSON values into a Vec cannot fail (string keys, finite numbers).
            Input::Value(v) => serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec()),
            Input::Json(json) => json.to_vec(),
        };
        let input_len = values.len();
        let mut headers = Vec::new();
        let mut plan = Plan::default();
        for name in crate::engine::session::referenced_names(code) {
            if plan.used.iter().any(|(n, _)| n == name) {
                continue;
            }
            let (Some(value), Some(generation)) = (vars.bound(name), vars.generation(name)) else {
                continue;
            };
            let len = match self.holds.get(name) {
                Some(held) if held.generation == generation => {
                    plan.used.push((name.to_string(), *held));
                    None
                }
                _ => {
                    let start = values.len();
                    match value.text() {
                        // An answer kept as its text goes as it came: no parse, no writing.
                        Some(text) => values.extend_from_slice(text),
                        None => {
                            if serde_json::to_writer(&mut values, value.value()).is_err() {
                                values.truncate(start);
                                values.extend_from_slice(b"null");
                            }
                        }
                    }
                    let bytes = values.len() - start;
                    let held = Held {
                        generation,
                        bytes,
                        last_used: 0,
                    };
                    plan.used.push((name.to_string(), held));
                    Some(bytes)
                }
            };
            headers.push(VarHeader {
                name: name.to_string(),
                generation,
                len,
            });
        }
        // Over the budget, forget what this expression does not use, oldest use first.
        let used = |n: &str| plan.used.iter().any(|(u, _)| u == n);
        let mut total: usize = plan.used.iter().map(|(_, h)| h.bytes).sum::<usize>()
            + self
                .holds
                .iter()
                .filter(|(n, _)| !used(n))
                .map(|(_, h)| h.bytes)
                .sum::<usize>();
        let mut idle: Vec<(&String, &Held)> = self.holds.iter().filter(|(n, _)| !used(n)).collect();
        idle.sort_by_key(|(_, h)| h.last_used);
        for (name, held) in idle {
            if total <= self.held_budget {
                break;
            }
            total -= held.bytes;
            plan.forget.push(name.clone());
        }
        let header = Header {
            code: code.to_string(),
            input_len,
            vars: headers,
            forget: plan.forget.clone(),
        };
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let mut body = Vec::with_capacity(4 + header.len() + values.len());
        body.extend_from_slice(&(header.len() as u32).to_le_bytes());
        body.extend_from_slice(&header);
        body.extend_from_slice(&values);
        (body, plan)
    }

    /// The worker answered: it now holds what the request sent and forgot what it said.
    fn remember(&mut self, plan: Plan) {
        self.requests += 1;
        for name in &plan.forget {
            self.holds.remove(name);
        }
        for (name, mut held) in plan.used {
            held.last_used = self.requests;
            self.holds.insert(name, held);
        }
    }

    async fn exchange<T: Output>(&mut self, request: &[u8]) -> std::io::Result<Reply<T>> {
        self.in_flight = true;
        write_frame_async(&mut self.stdin, request).await?;
        let frame = read_frame_async(&mut self.stdout).await?;
        self.in_flight = false;
        parse_json::<Reply<T>>(&frame).map_err(std::io::Error::other)
    }

    async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.stderr_task.abort();
    }

    /// Why the worker stopped answering: its exit status and last words.
    async fn death(mut self, memory_mb: u64) -> JqError {
        drop(self.stdin);
        let status = match tokio::time::timeout(
            std::time::Duration::from_secs(2),
            self.child.wait(),
        )
        .await
        {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                None
            }
        };
        // The last lines arrive with the end of stderr.
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(1), &mut self.stderr_task).await;
        let said = self
            .stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        classify_death(status, &said, memory_mb)
    }
}

fn classify_death(status: Option<std::process::ExitStatus>, said: &str, memory_mb: u64) -> JqError {
    use std::os::unix::process::ExitStatusExt;
    if said.contains("overflowed its stack") {
        return JqError::StackOverflow;
    }
    if said.contains("memory allocation of") || said.contains("capacity overflow") {
        return JqError::OutOfMemory(memory_mb);
    }
    match status.and_then(|s| s.signal()) {
        Some(libc::SIGSEGV) | Some(libc::SIGBUS) => JqError::StackOverflow,
        // The system's out-of-memory killer.
        Some(libc::SIGKILL) => JqError::OutOfMemory(memory_mb),
        Some(sig) => JqError::WorkerDied(format!("signal {sig}")),
        None => match status {
            Some(s) => JqError::WorkerDied(s.to_string()),
            None => JqError::WorkerDied("it did not exit".into()),
        },
    }
}

/// `MESOS_KERNEL_JQ_MEMORY_MB`, at least 64; the kernel sets it for the worker it starts.
fn memory_mb_from_env() -> u64 {
    std::env::var("MESOS_KERNEL_JQ_MEMORY_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|mb| *mb >= 64)
        .unwrap_or(DEFAULT_MEMORY_MB)
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    // Values are at most `jq::MAX_VALUE_DEPTH` levels deep (the kernel's variables, and
    // what jq gives back), deeper than serde_json's default limit of 128; the worker reads
    // them on a `WORKER_STACK_BYTES` stack.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

async fn write_frame_async(w: &mut ChildStdin, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
    w.write_all(&len.to_le_bytes()).await?;
    w.write_all(body).await?;
    w.flush().await
}

async fn read_frame_async(r: &mut BufReader<ChildStdout>) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too long"));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(body)
}

/// `mesos-kernel jq-worker`: answers requests on stdin until it closes.
pub fn serve() -> Result<(), String> {
    limit_memory(memory_mb_from_env())?;
    die_with_the_kernel()?;
    // Requests are read on a thread of their own, so that the end of stdin is seen even
    // while the jq thread is busy in a filter that never ends (see `read_requests`).
    let (requests, received) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("requests".into())
        .spawn(move || read_requests(requests))
        .map_err(|e| format!("cannot start the request reader: {e}"))?;
    // A thread of our own, so the stack overflow handler knows its guard page and says so.
    let worker = std::thread::Builder::new()
        .name("jq".into())
        .stack_size(WORKER_STACK_BYTES)
        .spawn(move || serve_loop(received))
        .map_err(|e| format!("cannot start the jq thread: {e}"))?;
    match worker.join() {
        Ok(r) => r,
        Err(_) => Err("the jq thread panicked".into()),
    }
}

/// Reads request frames from stdin and hands them to the jq thread. When stdin ends, the
/// kernel has closed its end of the pipe (it is done with us, or it is gone: the pipe
/// closes with the process, however it ends): the worker exits at once, even in the middle
/// of an evaluation that would never end. This is how a worker ends with its kernel on
/// every Unix; Linux also has the parent-death signal (`die_with_the_kernel`).
fn read_requests(requests: std::sync::mpsc::SyncSender<Result<Vec<u8>, String>>) {
    use std::io::Read;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let mut len = [0u8; 4];
        match input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => std::process::exit(0),
            Err(e) => {
                let _ = requests.send(Err(e.to_string()));
                return;
            }
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME {
            let _ = requests.send(Err("frame too long".into()));
            return;
        }
        let mut body = vec![0u8; len];
        match input.read_exact(&mut body) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => std::process::exit(0),
            Err(e) => {
                let _ = requests.send(Err(e.to_string()));
                return;
            }
        }
        if requests.send(Ok(body)).is_err() {
            return;
        }
    }
}

/// A worker busy in an endless filter never reads its closed pipe in the jq thread: on
/// Linux the kernel's death also kills it with a signal. Elsewhere the request reader's
/// end of stdin does (see `read_requests`).
fn die_with_the_kernel() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
        let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
        if rc != 0 {
            return Err(format!(
                "cannot tie the jq worker to the kernel: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    // The kernel may have died before the line above: then our parent is someone else.
    let expected = std::env::var("MESOS_KERNEL_JQ_PARENT")
        .ok()
        .and_then(|p| p.parse::<u32>().ok());
    match expected {
        Some(pid) if pid != std::os::unix::process::parent_id() => {
            Err("the kernel that started this worker is gone".into())
        }
        _ => Ok(()),
    }
}

/// The worker's address space is limited on Linux (RLIMIT_AS): a memory bomb fails an
/// allocation in the worker instead of exhausting the machine. Other systems (macOS) do
/// not enforce that limit, so there is none: such a filter runs until it is interrupted
/// or the system stops it, and the kernel's process is unharmed either way.
#[cfg(target_os = "linux")]
fn limit_memory(memory_mb: u64) -> Result<(), String> {
    // Address space, not resident memory: the stack above is reserved in it too.
    let bytes = (memory_mb * 1024 * 1024 + WORKER_STACK_BYTES as u64) as libc::rlim_t;
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot limit the jq worker's memory: {}",
            std::io::Error::last_os_error()
        ))
    }
}

#[cfg(not(target_os = "linux"))]
fn limit_memory(memory_mb: u64) -> Result<(), String> {
    tracing::debug!("no memory limit of {memory_mb} MiB for the jq worker on this system");
    Ok(())
}

fn serve_loop(requests: std::sync::mpsc::Receiver<Result<Vec<u8>, String>>) -> Result<(), String> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut held: HashMap<String, (u64, HeldVar)> = HashMap::new();
    // The reader stops (and the channel closes) only after an error it sent first.
    while let Ok(body) = requests.recv() {
        let body = bytes::Bytes::from(body?);
        let (reply, input) = answer(&body, &mut held);
        let bytes = match reply {
            Ok(values) => {
                let values: Vec<jq::Json> = values.iter().map(jq::Json).collect();
                serde_json::to_vec(&ReplyOut::Ok(values))
            }
            Err(e) => serde_json::to_vec(&ReplyOut::Err(e)),
        }
        .map_err(|e| e.to_string())?;
        let len = u32::try_from(bytes.len()).map_err(|e| e.to_string())?;
        output
            .write_all(&len.to_le_bytes())
            .and_then(|()| output.write_all(&bytes))
            .and_then(|()| output.flush())
            .map_err(|e| e.to_string())?;
        // Freed now that the kernel has its answer.
        drop(input);
    }
    Ok(())
}

fn malformed(what: impl std::fmt::Display) -> JqError {
    JqError::WorkerDied(format!("a malformed request: {what}"))
}

/// Splits a request body into its header and the values after it.
fn split_request(body: &[u8]) -> Result<(Header, &[u8]), JqError> {
    let (len, rest) = body
        .split_at_checked(4)
        .ok_or_else(|| malformed("too short"))?;
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(len);
    let header_len = u32::from_le_bytes(len_bytes) as usize;
    let (header, values) = rest
        .split_at_checked(header_len)
        .ok_or_else(|| malformed("the header is cut short"))?;
    let header = serde_json::from_slice::<Header>(header).map_err(malformed)?;
    Ok((header, values))
}

/// Takes the next `len` bytes of `values` as one JSON value, to hold.
fn next_value(values: &mut &[u8], len: usize) -> Result<HeldVar, JqError> {
    let (this, rest) = values
        .split_at_checked(len)
        .ok_or_else(|| malformed("a value is cut short"))?;
    *values = rest;
    HeldVar::parse(this).map_err(malformed)
}

/// What the worker writes: read by the kernel as a `Reply`.
#[derive(Serialize)]
enum ReplyOut<'a> {
    Ok(Vec<jq::Json<'a>>),
    Err(JqError),
}

/// The expression's values, and the input, kept to be freed after the reply is written
/// (freeing a big answer's values takes a tenth of reading them).
fn answer(
    body: &bytes::Bytes,
    held: &mut HashMap<String, (u64, HeldVar)>,
) -> (Result<Vec<jaq_json::Val>, JqError>, Option<jaq_json::Val>) {
    let mut input = None;
    let out = answer_with(body, held, &mut input);
    (out, input)
}

fn answer_with(
    body: &bytes::Bytes,
    held: &mut HashMap<String, (u64, HeldVar)>,
    keep: &mut Option<jaq_json::Val>,
) -> Result<Vec<jaq_json::Val>, JqError> {
    let (header, values) = split_request(body)?;
    for name in &header.forget {
        held.remove(name);
    }
    // The input may be an HTTP answer's bytes, unchecked: if they are not JSON, that is
    // the expression's error, not a broken request.
    let (this, mut values) = values
        .split_at_checked(header.input_len)
        .ok_or_else(|| malformed("the input is cut short"))?;
    for var in &header.vars {
        if let Some(len) = var.len {
            let value = next_value(&mut values, len)?;
            held.insert(var.name.clone(), (var.generation, value));
        }
    }
    let mut vars = Vec::with_capacity(header.vars.len());
    for var in &header.vars {
        match held.get(&var.name) {
            Some((generation, value)) if *generation == var.generation => {
                vars.push((var.name.as_str(), value));
            }
            _ => {
                return Err(JqError::WorkerDied(format!(
                    "the worker lost ${}; run the cell again",
                    var.name
                )))
            }
        }
    }
    let code = header.code.as_str();
    // An expression made only of what `held/` answers runs on the compact forms, its input
    // read into one too (a 15.7 MB answer's is freed in a few calls, where jaq's values of
    // it took the next request ~18 ms to free); jaq runs it only on an error.
    let fast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let q = held::parse_query(code)?;
        let input = match HeldVar::parse(this) {
            Ok(input) => input,
            Err(e) => return Some(Err(JqError::InputNotJson(e.to_string()))),
        };
        held::answer(&q, Some(&input), &vars)
    }));
    if let Ok(Some(answer)) = fast {
        return answer;
    }
    // `this` lies in `body` (split from it), so it can be shared rather than copied.
    let input = crate::engine::jq_parse::parse(&body.slice_ref(this))
        .map_err(|e| JqError::InputNotJson(e.to_string()))?;
    *keep = Some(input.clone());
    let names: Vec<&str> = vars.iter().map(|(n, _)| *n).collect();
    let vals: Vec<jaq_json::Val> = vars.iter().map(|(_, h)| h.val()).collect();
    // A panic inside jaq is a bug there, not a reason to lose the variables held here.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        jq::eval_vals(code, input, &names, vals)
    }))
    .unwrap_or_else(|_| Err(JqError::Runtime("jq panicked on this expression".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_are_named() {
        use std::os::unix::process::ExitStatusExt;
        let segv = std::process::ExitStatus::from_raw(libc::SIGSEGV);
        assert_eq!(classify_death(Some(segv), "", 512), JqError::StackOverflow);
        let abort = std::process::ExitStatus::from_raw(libc::SIGABRT);
        assert_eq!(
            classify_death(
                Some(abort),
                "thread 'jq' has overflowed its stack\nfatal runtime error: stack overflow",
                512
            ),
            JqError::StackOverflow
        );
        assert_eq!(
            classify_death(Some(abort), "memory allocation of 123 bytes failed", 512),
            JqError::OutOfMemory(512)
        );
        assert!(matches!(
            classify_death(Some(std::process::ExitStatus::from_raw(256)), "", 512),
            JqError::WorkerDied(_)
        ));
    }
}
