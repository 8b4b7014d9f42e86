//! The Jupyter side: connection files, wire messages and signatures, the channel loops,
//! and kernelspec installation. Nothing here knows about Mesos; the engine plugs in
//! through the `Interpreter` trait and answers with `Bundle`s.

pub mod bundle;
pub mod channels;
pub mod connection;
pub mod dispatch;
pub mod executor;
pub mod history;
pub mod install;
pub mod interpreter;
pub mod kernel;
pub mod parent;
pub mod publisher;
pub mod stdin;
pub mod wire;

pub use bundle::Bundle;
pub use interpreter::{CellError, Completeness, Completion, ExecuteContext, Interpreter};
