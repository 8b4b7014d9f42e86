//! Mesos for the kernel: the HTTP client (operator calls, legacy endpoints and raw requests
//! against masters and agents, with timeouts, interrupts and errors a person can act on),
//! the scheduler session and leader detection. `v1` (the vocabulary), `recordio` and `zk`
//! (ZooKeeper's layout) are Mesos's own forms, shared with the embedded cluster.

pub mod cassette;
pub mod client;
pub mod error;
pub mod event_log;
pub mod event_stream;
pub mod exchange;
pub mod leader;
pub mod operator_stream;
pub mod recordio;
pub mod replay;
pub mod scheduler;
pub mod v1;
pub mod zk;

pub use client::{Client, Reply};
pub use error::MesosError;
