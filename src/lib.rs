//! mesos-kernel: a Jupyter kernel whose cells speak the Apache Mesos HTTP API.
//!
//! The modules follow the data flow: `jupyter` (wire and channels) hands code to `cells`
//! (the language) and `engine` (evaluation), which calls `mesos` (HTTP client) and renders
//! through `display`. `cluster` is the embedded Mesos-compatible cluster, reached only over HTTP.

pub mod cells;
pub mod cluster;
pub mod display;
pub mod engine;
pub mod jupyter;
pub mod mesos;
