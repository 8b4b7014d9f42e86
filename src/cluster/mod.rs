//! The embedded Mesos-compatible cluster: a master and agents speaking the Mesos HTTP API
//! on loopback. Shares nothing with the kernel but HTTP.

/// Flags of `mesos-kernel cluster`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Port of the master.
    #[arg(long, default_value_t = 5050)]
    pub port: u16,
}

/// Runs a standalone cluster until Ctrl-C or SIGTERM.
pub async fn run_standalone(_args: ClusterArgs) -> Result<(), String> {
    Err("the embedded cluster is not part of this build yet".into())
}
