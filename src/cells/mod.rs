//! cells

pub mod registry;
