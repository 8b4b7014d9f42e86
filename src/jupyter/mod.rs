//! The Jupyter side: connection files, wire messages and signatures, the channel loops,
//! and kernelspec installation. Nothing here knows about Mesos; the engine plugs in
//! through the `Interpreter` trait.

pub mod connection;
pub mod history;
pub mod install;
pub mod interpreter;
pub mod kernel;
pub mod publisher;
pub mod stdin;
pub mod wire;

pub use interpreter::{CellError, Completeness, Completion, ExecuteContext, Interpreter};
