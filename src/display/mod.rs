//! Display: one MIME bundle per result, shaped for how front ends choose among MIME types.
//! JupyterLab prefers application/json over text/html, so table-shaped results carry
//! text/html + text/plain only (their JSON stays in `$_`), and everything else
//! application/json + text/plain. Charts are Vega-Lite v5 with a text/plain table.
//!
//! Files: `render` (the entry point and `Format`), `mesos_tables` (which shape a result has
//! and its tables), `mesos_rows` (their rows, read as the v1 vocabulary's types), `table` (a
//! table as HTML and text, the row cap, escaping), `resources` (Mesos resources, attributes,
//! ids, times), `chart` (the resources chart), `operator_view` (the live view of the operator
//! event stream), `bundle`, `exchange` (`%http`: a cell's HTTP exchanges and their curl
//! lines), `projection` (what tables need of a big answer, parsed without the rest).
//!
//! What `render(value, hint, Format::Auto)` shows. A v1 response's own `"type"` wins over the
//! hint; paths may be full URLs, with `/master` or `/slave(1)` prefixes and `.json` suffixes;
//! a hint that does not fit the value (say, a filtered result) falls back to the value's shape.
//!
//! | hint or `type` | tables |
//! |---|---|
//! | `GET_STATE` (master) | cluster state (agents, frameworks, tasks per state), agents, frameworks, tasks |
//! | `GET_STATE` (agent) | agent state, executors, frameworks, tasks |
//! | `GET_AGENTS`, `/master/slaves` | agents: id, hostname, active, cpus/mem/disk used/total, ports, attributes |
//! | `GET_FRAMEWORKS`, `/master/frameworks` | frameworks (+ completed frameworks when any) |
//! | `GET_TASKS`, `/master/tasks` | tasks: id, name, framework, agent, state, cpus, mem, last status |
//! | `TASKS` (helper: latest statuses) | tasks: id, name, agent, state, message, updated |
//! | `GET_EXECUTORS` | executors |
//! | `OFFERS` (helper array, or the scheduler's OFFERS event) | offers |
//! | `GET_ROLES`, `/master/roles` | roles |
//! | `/master/state`, `/state` | master: cluster state, agents, frameworks, tasks; agent: agent state, frameworks, executors |
//! | `/master/state-summary` | cluster summary, agents, frameworks |
//! | `GET_METRICS`, `/metrics/snapshot` | metrics, sorted by name |
//! | `GET_FLAGS`, `/master/flags`, `/flags` | flags, sorted by name |
//! | `GET_VERSION`, `/version`; `GET_HEALTH`, `/health` | name/value |
//! | `LIST_FILES`, `/files/browse` | files: mode, nlink, uid, gid, size, mtime, path |
//! | none | the same shapes recognised by content: legacy states, file listings, arrays of offers, statuses, tasks, agents, frameworks |
//!
//! Any other object or array is JSON; a scalar is its JSON text alone (`"agent0"`, `42`),
//! as jq prints it. `Format::Json` is always `Bundle::json`; `Format::Table` also makes a
//! generic table of an array of objects, and otherwise shows JSON with a note.

pub mod bundle;
pub mod chart;
pub mod exchange;
pub mod mesos_rows;
pub mod mesos_tables;
pub mod operator_view;
pub mod projection;
pub mod render;
pub mod resources;
pub mod table;
pub mod tenancy_tables;

#[cfg(test)]
mod tests;

pub use bundle::Bundle;
pub use chart::resources_chart;
pub use render::{render, render_tables, Format};
