//! The Mesos v1 vocabulary, written once: the messages of `mesos.proto`, the scheduler API
//! and the master's and agents' operator APIs that the kernel and the embedded cluster read,
//! build and answer with, in our own Rust, with Mesos's field names and enum spellings.
//!
//! How the JSON is read and written (see `message.rs`):
//!
//! - **Defaults as Mesos writes them.** Mesos writes JSON with stout's `JSON::protobuf`
//!   (`3rdparty/stout/include/stout/protobuf.hpp`): every set field, non-empty repeated
//!   fields, and, for an unset optional field with an explicit `[default = ...]` that is not
//!   deprecated, that default. So serializing a message here writes those defaults too
//!   (`CommandInfo.shell: true`, `DockerInfo.privileged: false`, `DockerInfo.network: HOST`,
//!   `FrameworkInfo.failover_timeout: 0` and `checkpoint: false`, `Filters.refuse_seconds: 5`,
//!   `AgentInfo.port: 5051` ...), and never the default of a deprecated field
//!   (`FrameworkInfo.role`, `Resource.role`) or of one without a declared default (a
//!   port's `visibility`). Calls the kernel sends are written with [`message::sparse`]:
//!   only what is set, since Mesos treats an explicit default as set.
//! - **Unknown fields pass through.** Every message keeps the fields it does not know in
//!   `extra` and writes them back; every enum keeps a spelling it does not know in `Other`.
//!   An answer from a newer Mesos loses nothing on its way through.
//! - **Required fields are required**, as Mesos's parser has them; [`message::lenient`]
//!   reads an incomplete message for displays. A field Mesos made required after the
//!   fact (a framework's `recovered`) is optional here, so older masters' answers read.
//! - Bytes fields (`data`, `uuid`) are their base64 text, as in Mesos's JSON.
//!
//! What the kernel shows a user is still the JSON the server sent; these types are for what
//! the kernel reads, builds and routes, and for what the cluster holds and answers.

pub mod message;

pub mod agent;
pub mod checks;
pub mod command;
pub mod container;
pub mod discovery;
pub mod executor;
pub mod framework;
pub mod ids;
pub mod labels;
pub mod maintenance;
pub mod master;
pub mod offer;
pub mod operation;
pub mod operator;
pub mod resource;
pub mod resources;
pub mod roles;
pub mod scheduler;
pub mod statistics;
pub mod task;
pub mod time;
pub mod values;

#[cfg(test)]
pub(crate) mod fixtures;

pub use agent::{AgentInfo, Attribute};
pub use command::{CommandInfo, CommandUri, Environment};
pub use container::{ContainerInfo, ContainerStatus, DockerInfo, NetworkInfo, Volume};
pub use discovery::{DiscoveryInfo, Port, Ports};
pub use executor::ExecutorInfo;
pub use framework::{FrameworkCapability, FrameworkCapabilityType, FrameworkInfo};
pub use ids::{AgentId, ContainerId, ExecutorId, FrameworkId, IdRef, OfferId, TaskId};
pub use labels::{Label, Labels};
pub use master::{Address, MasterInfo};
pub use message::{sparse, to_sparse_value, Extra};
pub use offer::{Filters, InverseOffer, Offer, OfferOperation};
pub use resource::Resource;
pub use resources::Resources;
pub use task::{Reason, Source, Task, TaskInfo, TaskState, TaskStatus};
pub use time::{parse_duration, DurationInfo, TimeInfo};
pub use values::{Range, Ranges, Scalar};
