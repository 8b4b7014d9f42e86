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
    /// Run an embedded Mesos-compatible cluster (a master and agents) on loopback.
    Cluster(mesos_kernel::cluster::ClusterArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MESOS_KERNEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mesos-kernel: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = match cli.command {
        Command::Kernel { connection_file } => {
            let _ = connection_file;
            Err("the kernel is not part of this build yet".into())
        }
        Command::Cluster(args) => runtime.block_on(mesos_kernel::cluster::run_standalone(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesos-kernel: {e}");
            ExitCode::FAILURE
        }
    }
}
