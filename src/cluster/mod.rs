//! The embedded Mesos-compatible cluster: a master and agents speaking the Mesos HTTP API
//! on loopback. Shares nothing with the kernel but HTTP.
//!
//! This file holds the configuration, `start` (the library entry the kernel uses), the
//! `Cluster` handle, and the `mesos-kernel cluster` command.

mod agent_api;
mod auth;
mod checks;
mod container_calls;
mod containerizer;
mod containers;
mod custom_executor;
mod defaults;
mod election;
pub mod event_queue;
mod executor;
mod executor_api;
mod files;
pub mod flags;
mod follow;
mod hooks;
mod host;
pub mod ids;
mod legacy;
mod legacy_agent;
pub mod logging;
mod metrics;
mod operations;
mod operator;
mod reconcile_call;
mod replica;
mod reply;
pub mod resources;
mod router;
mod runtime;
mod scheduler;
pub mod state;
mod tenancy_api;
mod tls;
mod views;

pub use auth::{Credentials, CredentialsError};
pub use election::{ElectionError, Role};
pub use tls::TlsError;

use crate::mesos::v1::parse_duration;
use resources::Resources;
use runtime::Shared;
use state::{Master, Settings};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The shape of every agent: what it offers and the attributes it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentShape {
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    /// Inclusive port ranges.
    pub ports: Vec<(u64, u64)>,
    /// TEXT attributes, in order (`rack:r2d2;pod:demo,dev`).
    pub attributes: Vec<(String, String)>,
    /// Mesos's `--resources` (`cpus:2;mem:496;cpus(ops):1`, or its JSON list): when given,
    /// the agent's resources, with `cpus`, `mem`, `disk` and `ports` it leaves out taken
    /// from the fields above (as a Mesos agent detects those it is not told).
    pub resources: Option<String>,
}

impl Default for AgentShape {
    /// The Demo-API tour's Vagrant agent.
    fn default() -> Self {
        AgentShape {
            cpus: 2.0,
            mem: 496.0,
            disk: 4930.0,
            ports: vec![(9000, 10000)],
            attributes: vec![
                ("rack".into(), "r2d2".into()),
                ("pod".into(), "demo,dev".into()),
            ],
            resources: None,
        }
    }
}

impl AgentShape {
    /// The agent's total resources: `--resources` (with what it leaves out from the
    /// shape's cpus, mem, disk and ports), else those four.
    pub fn resources(&self) -> Result<Resources, String> {
        let flat = Resources::flat(self.cpus, self.mem, self.disk, 0.0, &self.ports);
        let Some(text) = &self.resources else {
            return Ok(flat);
        };
        let given = crate::mesos::v1::Resources::parse(text, "*").map_err(|e| e.to_string())?;
        let mut total = Resources::from_vocabulary(given);
        for name in ["cpus", "mem", "disk", "ports"] {
            if !total.iter().any(|r| r.name == name) {
                total = total.plus(&flat.filter(|r| r.name == name));
            }
        }
        Ok(total)
    }

    /// The `--resources` flag as an agent shows it: as given, else the text of its totals.
    fn resources_flag(&self) -> String {
        if let Some(text) = &self.resources {
            return text.clone();
        }
        let mut text = format!("cpus:{};mem:{};disk:{}", self.cpus, self.mem, self.disk);
        if !self.ports.is_empty() {
            text.push_str(&format!(";ports:{}", resources::ranges_text(&self.ports)));
        }
        text
    }
}

#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub ip: IpAddr,
    /// Port of the master; 0 for an ephemeral one. Agents take the next free ports (or
    /// ephemeral ones when this is 0).
    pub port: u16,
    pub agents: usize,
    /// Where sandboxes go; a fresh temporary directory (removed at shutdown) when `None`.
    pub work_dir: Option<PathBuf>,
    pub heartbeat_interval: Duration,
    /// Makes ids and offer order repeat run to run.
    pub seed: Option<u64>,
    /// Time between SIGTERM and SIGKILL when a task is killed.
    pub kill_grace: Duration,
    /// Outstanding offers are rescinded after this long (Mesos's `--offer_timeout`).
    pub offer_timeout: Option<Duration>,
    /// First resend of an unacknowledged status update (10 s in Mesos; doubles up to 10 min).
    pub status_update_retry: Duration,
    /// Time between health checks of an agent (Mesos's `--agent_ping_timeout`, 15 s there).
    pub agent_ping_timeout: Duration,
    /// Health checks an agent may miss in a row before it is unreachable (Mesos's
    /// `--max_agent_ping_timeouts`, 5 there).
    pub max_agent_ping_timeouts: u32,
    /// How far, in bytes, a subscriber's event stream may fall behind before the master
    /// closes it (`event_queue.rs`).
    pub subscriber_backlog: usize,
    /// What the master keeps of completed frameworks and tasks and unreachable tasks.
    pub retention: flags::Retention,
    pub agent: AgentShape,
    /// `zk://host:port/path`: register in ZooKeeper and lead only when elected.
    pub zk: Option<String>,
    /// ZooKeeper session timeout: how long a killed leader's znode outlives it.
    pub zk_session_timeout: Duration,
    /// HTTP basic authentication on every endpoint but `/health`.
    pub credentials: Option<Arc<Credentials>>,
    /// Serve HTTPS with this certificate and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// Agents take the free ports after this one instead of after the master's (so that
    /// `--masters N` keeps PORT..PORT+N-1 for the masters).
    pub agent_ports_after: Option<u16>,
    /// A name for the cluster (Mesos's `--cluster`).
    pub cluster_name: Option<String>,
    /// The fault domain of the master and its agents (Mesos's `--domain`).
    pub domain: Option<flags::Domain>,
    /// Roles' weights at start, Mesos's `--weights` (`ops=2,eng/dev=0.5`).
    pub weights: Option<String>,
    /// Each agent's hostname (Mesos's agent `--hostname`), in order; the IP for the
    /// agents past the list. Agents with their own hostnames are machines of their own
    /// for maintenance (a MachineID is a hostname and an IP).
    pub agent_hostnames: Vec<String>,
    /// The agents' `--executor_registration_timeout` and `--executor_shutdown_grace_period`.
    pub executors: flags::ExecutorTimes,
}

/// Where the master and the agents keep their logs (Mesos's `--log_dir`).
pub fn log_dir(work_dir: &std::path::Path) -> PathBuf {
    work_dir.join("log")
}

/// Serves an agent that registers while the cluster runs (one back from maintenance) on
/// its old port, as its supervisor would restart it there, and keeps the way to serve it
/// again (the restart hook's). The port was just given up by the agent's last server, so
/// binding is retried for a while (`serve_again`).
fn agent_starter(
    shared: &Arc<Shared>,
    ip: IpAddr,
    credentials: Option<Arc<Credentials>>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> runtime::AgentStarter {
    let weak = Arc::downgrade(shared);
    Arc::new(move |agent_id: String, port: u16| {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let serve = serve_again(
            weak.clone(),
            agent_id.clone(),
            SocketAddr::new(ip, port),
            credentials.clone(),
            acceptor.clone(),
        );
        shared.set_agent_serve(&agent_id, serve.clone());
        tokio::spawn(async move {
            if let Err(e) = serve().await {
                tracing::warn!(agent_id, "cannot serve the agent: {e}");
            }
        });
    })
}

/// PEM files of the server certificate (with its chain) and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Much shorter than Mesos's 15 s × 5: a crashed agent of the embedded cluster is noticed
/// within 3 s, which keeps demos and tests quick.
pub const DEFAULT_AGENT_PING_TIMEOUT: Duration = Duration::from_secs(1);
pub const DEFAULT_MAX_AGENT_PING_TIMEOUTS: u32 = 3;

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            agents: 2,
            work_dir: None,
            heartbeat_interval: Duration::from_secs(15),
            seed: None,
            kill_grace: Duration::from_secs(3),
            offer_timeout: None,
            status_update_retry: state::UPDATE_RETRY_MIN,
            agent_ping_timeout: DEFAULT_AGENT_PING_TIMEOUT,
            max_agent_ping_timeouts: DEFAULT_MAX_AGENT_PING_TIMEOUTS,
            subscriber_backlog: event_queue::DEFAULT_BACKLOG,
            retention: flags::Retention::default(),
            agent: AgentShape::default(),
            zk: None,
            zk_session_timeout: Duration::from_secs(3),
            credentials: None,
            tls: None,
            agent_ports_after: None,
            cluster_name: None,
            domain: None,
            weights: None,
            agent_hostnames: Vec::new(),
            executors: flags::ExecutorTimes::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the work directory {path}: {source}")]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid cluster configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Election(#[from] ElectionError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A running cluster. `shutdown` stops it cleanly; dropping it stops it too, without waiting.
pub struct Cluster {
    shared: Arc<Shared>,
    master_url: String,
    agent_urls: Vec<String>,
    servers: Vec<JoinHandle<()>>,
    temp_work_dir: Option<PathBuf>,
    work_dir: PathBuf,
    election: Option<election::Election>,
}

impl Cluster {
    /// Leading, or standing by behind the master ZooKeeper elected.
    pub fn role(&self) -> Role {
        self.shared.role.get()
    }

    /// `http://127.0.0.1:PORT`
    pub fn master_url(&self) -> String {
        self.master_url.clone()
    }

    pub fn agent_urls(&self) -> Vec<String> {
        self.agent_urls.clone()
    }

    pub fn master_id(&self) -> String {
        self.shared.lock().master_id().to_string()
    }

    pub fn work_dir(&self) -> PathBuf {
        self.work_dir.clone()
    }

    /// Closes all streams, kills all tasks (SIGTERM, then SIGKILL after the grace period),
    /// stops the listeners and removes a temporary work directory.
    pub async fn shutdown(mut self) {
        // Leave the election first, so a standby takes over without waiting for the session
        // timeout.
        if let Some(election) = self.election.take() {
            election.leave().await;
        }
        self.shared.shutdown().await;
        for server in self.servers.drain(..) {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(dir) = self.temp_work_dir.take() {
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.shared.stopping.is_cancelled() {
            self.shared.stopping.cancel();
            self.shared.lock().shutdown();
            self.shared.containers.shutdown();
            self.shared.follow.shutdown();
        }
        if let Some(dir) = self.temp_work_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// What the flag tables show of this cluster's configuration.
fn flag_inputs(config: &ClusterConfig, work_dir: &std::path::Path, port: u16) -> flags::Inputs {
    let attributes: Vec<String> = config
        .agent
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect();
    let resources = config.agent.resources_flag();
    flags::Inputs {
        ip: config.ip,
        master_port: port,
        work_dir: work_dir.to_path_buf(),
        log_dir: Some(log_dir(work_dir)),
        offer_timeout: config.offer_timeout,
        agent_ping_timeout: config.agent_ping_timeout,
        max_agent_ping_timeouts: config.max_agent_ping_timeouts,
        zk: config.zk.clone(),
        zk_session_timeout: config.zk_session_timeout,
        credentials: config
            .credentials
            .as_ref()
            .and_then(|c| c.path().map(std::path::Path::to_path_buf)),
        agent_resources: resources,
        agent_attributes: attributes.join(";"),
        cluster: config.cluster_name.clone(),
        domain: config.domain.clone(),
        weights: config.weights.clone(),
        retention: config.retention,
        executors: config.executors,
    }
}

async fn bind_agent(ip: IpAddr, after: u16) -> Result<TcpListener, ClusterError> {
    if after == 0 {
        let addr = SocketAddr::new(ip, 0);
        return TcpListener::bind(addr)
            .await
            .map_err(|source| ClusterError::Bind { addr, source });
    }
    let mut last = None;
    for port in after.saturating_add(1)..=after.saturating_add(200) {
        let addr = SocketAddr::new(ip, port);
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(source) => last = Some(ClusterError::Bind { addr, source }),
        }
    }
    Err(last.unwrap_or(ClusterError::Config("no free port for an agent".into())))
}

fn serve(
    listener: TcpListener,
    app: axum::Router,
    stopping: tokio_util::sync::CancellationToken,
    tls: Option<&tokio_rustls::TlsAcceptor>,
) -> JoinHandle<()> {
    if let Some(acceptor) = tls {
        return tokio::spawn(tls::serve(listener, app, acceptor.clone(), stopping));
    }
    tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopping.cancelled().await })
            .await;
        if let Err(e) = result {
            tracing::warn!("cluster listener stopped: {e}");
        }
    })
}

/// How a restarted agent serves again: the same port (bound again, with a short wait for
/// the old listener to close), a fresh router and a fresh stop token.
fn serve_again(
    shared: std::sync::Weak<Shared>,
    agent_id: String,
    addr: SocketAddr,
    credentials: Option<Arc<Credentials>>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> runtime::ServeAgent {
    Arc::new(move || {
        let (shared, agent_id, credentials, acceptor) = (
            shared.clone(),
            agent_id.clone(),
            credentials.clone(),
            acceptor.clone(),
        );
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            let listener = loop {
                match TcpListener::bind(addr).await {
                    Ok(l) => break l,
                    Err(e) if tokio::time::Instant::now() >= deadline => {
                        return Err(format!("cannot listen on {addr} again: {e}"))
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            let shared = shared.upgrade().ok_or("the cluster stopped")?;
            let stopping = shared.agent_server_token(&agent_id);
            let ctx = router::AgentCtx {
                shared: shared.clone(),
                agent_id,
            };
            let app = router::agent(ctx, credentials);
            drop(serve(listener, app, stopping, acceptor.as_ref()));
            Ok(())
        })
    })
}

/// Starts a master and its agents; they run until `Cluster::shutdown`.
pub async fn start(config: ClusterConfig) -> Result<Cluster, ClusterError> {
    raise_fd_limit();
    let agent_resources = config
        .agent
        .resources()
        .map_err(|e| ClusterError::Config(format!("--resources: {e}")))?;
    let weights = state::tenancy::parse_weights(config.weights.as_deref().unwrap_or(""))
        .map_err(|e| ClusterError::Config(format!("--weights: {e}")))?;
    if config.heartbeat_interval.is_zero() {
        return Err(ClusterError::Config(
            "the heartbeat interval must be positive".into(),
        ));
    }
    if config.agent_ping_timeout.is_zero() || config.max_agent_ping_timeouts == 0 {
        return Err(ClusterError::Config(
            "the agent ping timeout and the number of missed pings must be positive".into(),
        ));
    }
    let (work_dir, temp_work_dir) = match &config.work_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let nonce: u64 = rand::random();
            let dir = std::env::temp_dir().join(format!(
                "mesos-kernel-cluster-{}-{nonce:016x}",
                std::process::id()
            ));
            (dir.clone(), Some(dir))
        }
    };
    std::fs::create_dir_all(&work_dir).map_err(|source| ClusterError::WorkDir {
        path: work_dir.clone(),
        source,
    })?;
    // Relative paths would break once a task changes directory.
    let work_dir = std::fs::canonicalize(&work_dir).unwrap_or(work_dir);

    let addr = SocketAddr::new(config.ip, config.port);
    let master_listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ClusterError::Bind { addr, source })?;
    let master_port = master_listener
        .local_addr()
        .map_err(|source| ClusterError::Bind { addr, source })?
        .port();
    let mut agent_listeners = Vec::new();
    let acceptor = match &config.tls {
        Some(files) => Some(tls::acceptor(&files.cert, &files.key)?),
        None => None,
    };
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let zk = config.zk.as_deref().map(election::parse_zk).transpose()?;
    let mut after = match (config.port, config.agent_ports_after) {
        (0, _) => 0,
        (_, Some(p)) => p,
        _ => master_port,
    };
    for _ in 0..config.agents {
        let l = bind_agent(config.ip, after).await?;
        let port = l
            .local_addr()
            .map_err(|source| ClusterError::Bind { addr, source })?
            .port();
        if config.port != 0 {
            after = port;
        }
        agent_listeners.push((l, port));
    }

    let settings = Settings {
        ip: config.ip,
        port: master_port,
        hostname: config.ip.to_string(),
        heartbeat_interval: config.heartbeat_interval,
        kill_grace: config.kill_grace,
        offer_timeout: config.offer_timeout,
        update_retry: config.status_update_retry.max(Duration::from_millis(10)),
        work_dir: work_dir.clone(),
        start_time: state::now_secs(),
        flags: flag_inputs(&config, &work_dir, master_port),
        scheme,
        agent_ping_timeout: config.agent_ping_timeout,
        max_agent_ping_timeouts: config.max_agent_ping_timeouts,
        subscriber_backlog: config.subscriber_backlog,
    };
    let mut master = Master::new(settings, config.seed);
    master.tenancy.set_weights(weights);
    master
        .logs
        .open(&log_dir(&work_dir), &config.ip.to_string());
    master.log_info(&format!(
        "Master {} ({}) started on {}:{}",
        master.master_id(),
        config.ip,
        config.ip,
        master_port
    ));
    let shared = Shared::new(master);
    let mut agent_ids = Vec::new();
    for (_, port) in &agent_listeners {
        let hostname = config
            .agent_hostnames
            .get(agent_ids.len())
            .cloned()
            .unwrap_or_else(|| config.ip.to_string());
        let id = shared.with(|m, fx| {
            m.add_agent_named(
                *port,
                hostname,
                agent_resources.clone(),
                config.agent.attributes.clone(),
                fx,
            )
        });
        agent_ids.push(id);
    }

    // With --zk this master stands by until the election says otherwise; it registers
    // before it serves, so it never answers as a leader it is not.
    let election = match zk {
        Some(zk) => {
            shared.role_standby();
            replica::spawn(shared.clone(), zk.clone(), config.zk_session_timeout);
            let info = shared.lock().master_info();
            Some(
                election::Election::join(zk, config.zk_session_timeout, info, shared.role.clone())
                    .await?,
            )
        }
        None => None,
    };

    let host = |port: u16| match config.ip {
        IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("{scheme}://{v4}:{port}"),
    };
    let credentials = config.credentials.clone();
    let mut servers = vec![serve(
        master_listener,
        router::master(shared.clone(), credentials.clone()),
        shared.stopping.clone(),
        acceptor.as_ref(),
    )];
    let mut agent_urls = Vec::new();
    if election.is_some() {
        follow::spawn(shared.clone(), agent_ids.clone());
    }
    for ((listener, port), agent_id) in agent_listeners.into_iter().zip(agent_ids) {
        let stopping = shared.agent_server_token(&agent_id);
        shared.set_agent_serve(
            &agent_id,
            serve_again(
                Arc::downgrade(&shared),
                agent_id.clone(),
                SocketAddr::new(config.ip, port),
                credentials.clone(),
                acceptor.clone(),
            ),
        );
        let ctx = router::AgentCtx {
            shared: shared.clone(),
            agent_id,
        };
        servers.push(serve(
            listener,
            router::agent(ctx, credentials.clone()),
            stopping,
            acceptor.as_ref(),
        ));
        agent_urls.push(host(port));
    }
    shared.set_agent_starter(agent_starter(
        &shared,
        config.ip,
        credentials.clone(),
        acceptor.clone(),
    ));
    tracing::info!(master = %host(master_port), agents = ?agent_urls, "embedded cluster started");
    Ok(Cluster {
        shared,
        master_url: host(master_port),
        agent_urls,
        servers,
        temp_work_dir,
        work_dir,
        election,
    })
}

/// Parses the agent flag form `rack:r2d2;pod:demo,dev` into TEXT attributes.
pub fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("invalid attribute '{p}' (expected name:value)"))
        })
        .collect()
}

/// Flags of `mesos-kernel cluster`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Port of the master; agents take the next free ports.
    #[arg(long, default_value_t = 5050)]
    pub port: u16,
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// Number of agents.
    #[arg(long, default_value_t = 2)]
    pub agents: usize,
    /// Where task sandboxes go (default: a temporary directory removed at exit).
    #[arg(long = "work-dir")]
    pub work_dir: Option<PathBuf>,
    /// Interval between HEARTBEAT events, e.g. `15secs`, `500ms`.
    #[arg(long = "heartbeat-interval", default_value = "15secs", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// Seed for ids and offer order (runs repeat when given).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Time between SIGTERM and SIGKILL when a task is killed.
    #[arg(long = "kill-grace", default_value = "3secs", value_parser = parse_duration)]
    pub kill_grace: Duration,
    /// Rescind offers left unanswered this long (default: never).
    #[arg(long = "offer-timeout", value_parser = parse_duration)]
    pub offer_timeout: Option<Duration>,
    /// First resend of an unacknowledged status update (doubling up to 10 minutes).
    #[arg(long = "status-update-retry", default_value = "10secs", value_parser = parse_duration)]
    pub status_update_retry: Duration,
    /// Time between health checks of an agent that stopped answering.
    #[arg(long = "agent-ping-timeout", default_value = "1secs", value_parser = parse_duration)]
    pub agent_ping_timeout: Duration,
    /// Missed health checks after which an agent is unreachable and its tasks lost.
    #[arg(long = "max-agent-ping-timeouts", default_value_t = DEFAULT_MAX_AGENT_PING_TIMEOUTS)]
    pub max_agent_ping_timeouts: u32,
    /// How far a framework's or operator's event stream may fall behind (Mesos's Bytes
    /// form: `64MB`, `512KB`) before the master closes it; the client subscribes again.
    #[arg(long = "subscriber-backlog", default_value = "64MB", value_parser = event_queue::parse_bytes)]
    pub subscriber_backlog: usize,
    /// Completed frameworks the master keeps (Mesos's flag; the oldest go first).
    #[arg(long = "max_completed_frameworks", visible_alias = "max-completed-frameworks", default_value_t = flags::Retention::default().completed_frameworks)]
    pub max_completed_frameworks: usize,
    /// Completed tasks the master keeps per framework (Mesos's flag).
    #[arg(long = "max_completed_tasks_per_framework", visible_alias = "max-completed-tasks-per-framework", default_value_t = flags::Retention::default().completed_tasks_per_framework)]
    pub max_completed_tasks_per_framework: usize,
    /// Unreachable tasks the master keeps per framework (Mesos's flag).
    #[arg(long = "max_unreachable_tasks_per_framework", visible_alias = "max-unreachable-tasks-per-framework", default_value_t = flags::Retention::default().unreachable_tasks_per_framework)]
    pub max_unreachable_tasks_per_framework: usize,
    /// CPUs of each agent.
    #[arg(long, default_value_t = 2.0)]
    pub cpus: f64,
    /// Memory (MB) of each agent.
    #[arg(long, default_value_t = 496.0)]
    pub mem: f64,
    /// Disk (MB) of each agent.
    #[arg(long, default_value_t = 4930.0)]
    pub disk: f64,
    /// Port ranges of each agent.
    #[arg(long, default_value = "[9000-10000]")]
    pub ports: String,
    /// Each agent's resources in Mesos's `--resources` form, reservations included:
    /// `cpus:2;mem:496;cpus(ops):1;mem(ops):128`, or a JSON list of Resource; cpus, mem,
    /// disk and ports it leaves out come from --cpus, --mem, --disk and --ports.
    #[arg(long)]
    pub resources: Option<String>,
    /// Roles' weights, Mesos's `--weights` form: `ops=2,eng/dev=0.5`.
    #[arg(long)]
    pub weights: Option<String>,
    /// TEXT attributes of each agent.
    #[arg(long, default_value = "rack:r2d2;pod:demo,dev")]
    pub attributes: String,
    /// Register in ZooKeeper (`zk://host:port[,host:port]/path`) and lead only when elected;
    /// standby masters redirect to the leader.
    #[arg(long)]
    pub zk: Option<String>,
    /// ZooKeeper session timeout: a killed leader is replaced this long after it died.
    #[arg(long = "zk-session-timeout", default_value = "3secs", value_parser = parse_duration)]
    pub zk_session_timeout: Duration,
    /// Start this many masters in this process (needs --zk), on PORT, PORT+1, ... (or
    /// ephemeral ports); the agents of standbys register with the leader.
    #[arg(long, default_value_t = 1)]
    pub masters: usize,
    /// Require HTTP basic auth: Mesos's JSON credentials file, or `principal secret` lines.
    #[arg(long)]
    pub credentials: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long = "tls-cert", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long = "tls-key", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A name for the cluster, shown in `/master/state` (Mesos's `--cluster`).
    #[arg(long)]
    pub cluster: Option<String>,
    /// The fault domain of the master and agents, as Mesos's `--domain` JSON:
    /// `{"fault_domain": {"region": {"name": "r1"}, "zone": {"name": "z1"}}}`.
    #[arg(long, value_parser = flags::Domain::parse)]
    pub domain: Option<flags::Domain>,
    /// Each agent's hostname, comma-separated (Mesos's agent `--hostname`; the IP by
    /// default): agents with their own hostnames are machines of their own for maintenance.
    #[arg(long = "agent-hostnames", value_delimiter = ',')]
    pub agent_hostnames: Vec<String>,
    /// How long a framework's own executor may take to subscribe to its agent before it is
    /// destroyed and its tasks fail (Mesos's agent flag).
    #[arg(long = "executor_registration_timeout", visible_alias = "executor-registration-timeout", default_value = "1mins", value_parser = parse_duration)]
    pub executor_registration_timeout: Duration,
    /// Time from an executor's SHUTDOWN to its kill (Mesos's agent flag).
    #[arg(long = "executor_shutdown_grace_period", visible_alias = "executor-shutdown-grace-period", default_value = "5secs", value_parser = parse_duration)]
    pub executor_shutdown_grace_period: Duration,
}

impl ClusterArgs {
    pub fn config(&self) -> Result<ClusterConfig, String> {
        Ok(ClusterConfig {
            ip: self.ip,
            port: self.port,
            agents: self.agents,
            work_dir: self.work_dir.clone(),
            heartbeat_interval: self.heartbeat_interval,
            seed: self.seed,
            kill_grace: self.kill_grace,
            offer_timeout: self.offer_timeout,
            status_update_retry: self.status_update_retry,
            agent_ping_timeout: self.agent_ping_timeout,
            max_agent_ping_timeouts: self.max_agent_ping_timeouts,
            subscriber_backlog: self.subscriber_backlog,
            retention: flags::Retention {
                completed_frameworks: self.max_completed_frameworks,
                completed_tasks_per_framework: self.max_completed_tasks_per_framework,
                unreachable_tasks_per_framework: self.max_unreachable_tasks_per_framework,
            },
            agent: AgentShape {
                cpus: self.cpus,
                mem: self.mem,
                disk: self.disk,
                ports: resources::parse_ranges(&self.ports)?,
                attributes: parse_attributes(&self.attributes)?,
                resources: self.resources.clone(),
            },
            zk: self.zk.clone(),
            zk_session_timeout: self.zk_session_timeout,
            agent_hostnames: self.agent_hostnames.clone(),
            executors: flags::ExecutorTimes {
                registration_timeout: self.executor_registration_timeout,
                shutdown_grace_period: self.executor_shutdown_grace_period,
            },
            credentials: match &self.credentials {
                Some(path) => Some(Arc::new(
                    Credentials::load(path).map_err(|e| e.to_string())?,
                )),
                None => None,
            },
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            agent_ports_after: None,
            cluster_name: self.cluster.clone(),
            domain: self.domain.clone(),
            weights: self.weights.clone(),
        })
    }
}

/// Every agent listens on its own socket and every task has sandbox files: a big cluster
/// needs more descriptors than the usual soft limit, so take what the hard limit allows.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// A line of `mesos-kernel cluster` on stdout, for whoever started it (tests read the
/// master's URL there). A reader that went away costs the line, not the cluster:
/// `println!` would panic on the closed pipe.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "mesos-kernel cluster: {line}").and_then(|()| out.flush());
}

/// Runs a standalone cluster (or `--masters N` of them, sharing only ZooKeeper) until
/// Ctrl-C or SIGTERM.
pub async fn run_standalone(args: ClusterArgs) -> Result<(), String> {
    let config = args.config()?;
    if args.masters == 0 {
        return Err("--masters must be at least 1".into());
    }
    if args.masters > 1 && config.zk.is_none() {
        return Err("--masters N needs --zk: without an election every master would lead".into());
    }
    let mut clusters = Vec::new();
    for i in 0..args.masters {
        let mut config = config.clone();
        if config.port != 0 && args.masters > 1 {
            let offset = u16::try_from(i).map_err(|_| "too many masters".to_string())?;
            let last =
                u16::try_from(args.masters - 1).map_err(|_| "too many masters".to_string())?;
            config.port = config.port.saturating_add(offset);
            config.agent_ports_after = Some(args.port.saturating_add(last));
        }
        if args.masters > 1 {
            // Each master its own ids: agents of all of them register with the leader.
            config.seed = config
                .seed
                .map(|s| s.wrapping_add(u64::try_from(i).unwrap_or(0)));
            if let Some(dir) = &config.work_dir {
                config.work_dir = Some(dir.join(format!("master-{i}")));
            }
        }
        let cluster = match start(config).await {
            Ok(c) => c,
            Err(e) => {
                for c in clusters {
                    Cluster::shutdown(c).await;
                }
                return Err(e.to_string());
            }
        };
        announce(&format!("master {}", cluster.master_url()));
        for (n, url) in cluster.agent_urls().iter().enumerate() {
            announce(&format!("agent {n} {url}"));
        }
        announce(&format!("work dir {}", cluster.work_dir().display()));
        clusters.push(cluster);
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(|e| format!("cannot watch Ctrl-C: {e}"))?,
        _ = term.recv() => {}
    }
    announce("stopping");
    for cluster in clusters {
        cluster.shutdown().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retention_flags_have_mesos_names_and_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            cluster: ClusterArgs,
        }
        use clap::Parser;
        let parse = |args: &[&str]| {
            let argv = std::iter::once("cluster").chain(args.iter().copied());
            Cli::try_parse_from(argv).map(|c| c.cluster.config().map(|c| c.retention))
        };
        assert_eq!(
            parse(&[]).ok().and_then(Result::ok),
            Some(flags::Retention::default())
        );
        let given = parse(&[
            "--max_completed_frameworks",
            "3",
            "--max_completed_tasks_per_framework=4",
            "--max-unreachable-tasks-per-framework",
            "5",
        ]);
        assert_eq!(
            given.ok().and_then(Result::ok),
            Some(flags::Retention {
                completed_frameworks: 3,
                completed_tasks_per_framework: 4,
                unreachable_tasks_per_framework: 5,
            })
        );
        assert!(parse(&["--max_completed_frameworks", "many"]).is_err());
    }

    #[test]
    fn the_resources_flag_reserves_and_fills_in_what_it_leaves_out() {
        let shape = AgentShape {
            resources: Some("cpus:1;cpus(ops):1;mem(ops):128".into()),
            ..AgentShape::default()
        };
        let total = shape.resources().unwrap_or_default();
        assert_eq!(total.cpus(), 2.0);
        // `mem` is given (reserved), so the shape's is not added; disk and ports are.
        assert_eq!(total.mem(), 128.0);
        assert_eq!(total.disk(), 4930.0);
        assert_eq!(total.ports(), vec![(9000, 10000)]);
        assert_eq!(total.reserved(Some("ops")).cpus(), 1.0);
        assert_eq!(shape.resources_flag(), "cpus:1;cpus(ops):1;mem(ops):128");
        let bad = AgentShape {
            resources: Some("cpus(ops:1".into()),
            ..AgentShape::default()
        };
        assert_eq!(
            bad.resources().err().as_deref(),
            Some("Bad value for resources, mismatched parentheses in cpus(ops:1")
        );
    }

    #[test]
    fn durations_and_attributes() {
        assert_eq!(parse_duration("15secs"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            parse_attributes("rack:r2d2;pod:demo,dev"),
            Ok(vec![
                ("rack".to_string(), "r2d2".to_string()),
                ("pod".to_string(), "demo,dev".to_string())
            ])
        );
    }
}
