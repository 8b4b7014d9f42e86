//! A variable the jq worker holds (`$s` bound to a GET_STATE, `$tasks`): kept in a compact
//! form that the common queries run on directly (`query.rs`), and as jaq's values only
//! once an expression needs jaq.
//!
//! Why: a held 15.7 MB GET_STATE in jaq's values is ~100 MB of small allocations, and
//! `$s.get_state.get_tasks.tasks | map(select(.state == "TASK_RUNNING")) | length`
//! took jaq ~15 ms, nearly all of it cache misses in those values (docs/benchmarks.md).

mod make;
mod query;
mod store;

use crate::engine::jq::{self, JqError};
use jaq_json::Val;
pub use query::Query;
use std::cell::OnceCell;
use store::Store;

pub struct HeldVar {
    store: Store,
    val: OnceCell<Val>,
}

impl HeldVar {
    /// Reads a variable's JSON text (the caller runs this on a big stack).
    pub fn parse(json: &[u8]) -> serde_json::Result<HeldVar> {
        Ok(HeldVar {
            store: Store::parse(json)?,
            val: OnceCell::new(),
        })
    }

    /// As jaq's value: built from the compact form the first time jaq needs it.
    pub fn val(&self) -> Val {
        self.val
            .get_or_init(|| self.store.to_val(self.store.root()))
            .clone()
    }
}

/// A parsed query run on `input` (`null` when `None`) and `vars`: its values, checked as
/// jaq's are, or `None` when jaq is to run it (an error, or a stream this does not pair).
pub fn answer(
    q: &Query<'_>,
    input: Option<&HeldVar>,
    vars: &[(&str, &HeldVar)],
) -> Option<Result<Vec<Val>, JqError>> {
    let stores: Vec<(&str, &Store)> = vars.iter().map(|(n, h)| (*n, &h.store)).collect();
    let values = jq::on_big_stack(|| q.run(input.map(|h| &h.store), &stores))?;
    Some(jq::check_outputs(&values).map(|()| values))
}

/// The expression, when it is made only of what `answer` runs (checked within jaq's
/// size limits, so jaq's own refusal of a too-deep program is what a user sees).
pub fn parse_query(code: &str) -> Option<Query<'_>> {
    jq::check_size(code).ok()?;
    jq::on_big_stack(|| Query::parse(code))
}

#[cfg(test)]
mod tests;
