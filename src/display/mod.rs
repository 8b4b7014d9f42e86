//! Display: one MIME bundle per result, shaped for how front ends choose among MIME types.
//! JupyterLab prefers application/json over text/html, so table-shaped results carry
//! text/html + text/plain only, and everything else application/json + text/plain.
//!
//! `render` picks the shape (`mesos_tables`), `table` writes tables as HTML and text,
//! `resources` reads Mesos resources, attributes and times, `chart` draws Vega-Lite.

pub mod bundle;
pub mod chart;
pub mod mesos_tables;
pub mod render;
pub mod resources;
pub mod table;

#[cfg(test)]
mod tests;

pub use bundle::Bundle;
pub use chart::resources_chart;
pub use render::{render, Format};
