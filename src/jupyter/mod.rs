//! The Jupyter side: connection files, wire messages and signatures, the channel loops,
//! and kernelspec installation. Nothing here knows about Mesos; the engine plugs in
//! through the `Interpreter` trait.

pub mod connection;
pub mod wire;
