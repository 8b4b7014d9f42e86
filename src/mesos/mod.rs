//! The Mesos HTTP client: operator calls, legacy endpoints and raw requests against masters
//! and agents, with timeouts, interrupts and errors a person can act on.

pub mod client;
pub mod error;
pub mod leader;
pub mod recordio;
pub mod scheduler;

pub use client::{Client, Reply};
pub use error::MesosError;
