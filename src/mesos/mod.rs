//! mesos
