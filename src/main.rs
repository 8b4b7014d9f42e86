//! The `mesos-kernel` command: run the kernel, install its kernelspec, or run the embedded
//! Mesos-compatible cluster on its own.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mesos-kernel",
    version,
    about = "A Jupyter kernel for the Apache Mesos HTTP API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kernel (what kernel.json starts).
    Kernel {
        #[arg(long = "connection-file", short = 'f')]
        connection_file: PathBuf,
    },
    /// Install the kernelspec (kernel.json and logos) where Jupyter finds it.
    Install {
        /// Into the user's Jupyter data dir (the default).
        #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
        user: bool,
        /// Into the active Python environment (venv or conda).
        #[arg(long, conflicts_with = "prefix")]
        sys_prefix: bool,
        /// Into DIR/share/jupyter/kernels/NAME.
        #[arg(long, value_name = "DIR")]
        prefix: Option<PathBuf>,
        /// The kernelspec's directory name.
        #[arg(long, default_value = "mesos")]
        name: String,
        /// The name front ends show.
        #[arg(long, default_value = "Mesos")]
        display_name: String,
    },
    /// Run an embedded Mesos-compatible cluster (a master and agents) on loopback.
    // Boxed: its many flags would make every Command as large as it is.
    Cluster(Box<mesos_kernel::cluster::ClusterArgs>),
    /// Evaluate jq for a kernel over stdin and stdout (the kernel starts it; see
    /// `engine::jq_worker`).
    #[command(hide = true)]
    JqWorker,
}

fn run_kernel(
    runtime: &tokio::runtime::Runtime,
    connection_file: &std::path::Path,
) -> Result<(), String> {
    use mesos_kernel::jupyter::connection::ConnectionInfo;
    let info = ConnectionInfo::from_file(connection_file).map_err(|e| e.to_string())?;
    let engine = mesos_kernel::engine::Engine::new();
    runtime
        .block_on(mesos_kernel::jupyter::kernel::run(info, engine))
        .map_err(|e| e.to_string())
}

/// mimalloc instead of the system allocator: a big answer is millions of small values,
/// built and dropped at once (GET_STATE's 15 MB in the kernel, the jq worker, the cluster's
/// views); glibc's malloc spent a third of the kernel's GET_STATE in growing, consolidating
/// and freeing its heap (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The most threads the runtime's blocking pool runs at once (see `main`).
const BLOCKING_THREADS: usize = 16;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A log line that cannot be written is lost, not a panic: the kernel's stderr is
        // often a terminal that can close under it (a console whose window was closed),
        // and tracing-subscriber reports a failed write with eprintln!, which panics the
        // task that logged (once, the parent watch: the kernel outlived its console).
        .log_internal_errors(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MESOS_KERNEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    if let Command::JqWorker = cli.command {
        // No async runtime: one thread reading the pipe is all it needs.
        return match mesos_kernel::engine::jq_worker::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                say(&format!("mesos-kernel jq-worker: {e}"));
                ExitCode::FAILURE
            }
        };
    }
    // The blocking pool runs `tokio::fs` calls (sandboxes, volumes, answers written off the
    // lock): short ones, that queue well. Its default (512 threads, kept 10 s) let a burst
    // of launches start ~170 threads, each with its own allocator heap holding freed pages
    // it never ran again to give back; the cluster's RSS crept up by 2 MiB per 10,000
    // tasks (`bench/cluster_load.py frameworks --waves 10`, `docs/benchmarks.md`).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!(
                "mesos-kernel: cannot start the async runtime: {e}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = match cli.command {
        Command::Kernel { connection_file } => run_kernel(&runtime, &connection_file),
        Command::Install {
            user: _,
            sys_prefix,
            prefix,
            name,
            display_name,
        } => {
            use mesos_kernel::jupyter::install::{install, Location};
            let location = match (sys_prefix, prefix) {
                (_, Some(dir)) => Location::Prefix(dir),
                (true, None) => Location::SysPrefix,
                (false, None) => Location::User,
            };
            install(&location, &name, &display_name)
                .map(|dir| println!("Installed kernelspec {name} in {}", dir.display()))
                .map_err(|e| e.to_string())
        }
        Command::Cluster(args) => runtime.block_on(mesos_kernel::cluster::run_standalone(*args)),
        Command::JqWorker => Ok(()),
    };
    // Do not wait for blocking tasks (a runaway jq filter) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(&format!("mesos-kernel: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// A line on stderr, if stderr is still there (eprintln! would panic when it is not).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
