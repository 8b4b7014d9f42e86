//! Display: one MIME bundle per result, shaped for how front ends choose among MIME types.
//! JupyterLab prefers application/json over text/html, so table-shaped results carry
//! text/html + text/plain only, and everything else application/json + text/plain.

pub mod bundle;

pub use bundle::Bundle;
