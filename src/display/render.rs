//! The entry point: one result, what produced it and the asked format, to one bundle.
//! Table-shaped results are text/html + text/plain (JupyterLab would pick application/json
//! over HTML if it were there); everything else is application/json + text/plain.

use serde_json::{json, Value};

use super::bundle::Bundle;
use super::mesos_tables::tables;
use super::table::{tables_bundle, Cell, Table, MAX_ROWS};

/// How a result should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Tables for known Mesos shapes, JSON for the rest.
    #[default]
    Auto,
    /// Always the JSON tree.
    Json,
    /// A table even for unknown arrays of objects; JSON with a note when no table fits.
    Table,
}

/// A generic table has at most this many columns (the union of the shown objects' keys).
pub const MAX_GENERIC_COLUMNS: usize = 30;

/// `hint` is what produced the value: a call name ("GET_AGENTS", "TASKS", "OFFERS", ...) or a
/// legacy path ("/master/state", "/metrics/snapshot", ...). v1 responses also name themselves
/// by their "type" field, which wins over the hint.
pub fn render(value: &Value, hint: Option<&str>, format: Format) -> Bundle {
    if let Some(tables) = render_tables(value, hint, format) {
        return tables;
    }
    match format {
        Format::Json => Bundle::json(value),
        Format::Auto => json_or_text(value),
        Format::Table => json_with_note(value, "no table shape for this value; shown as JSON"),
    }
}

/// What `render` gives when it is tables, `None` when it is JSON or text. Tables read only
/// what `projection::for_tables` keeps of a value, so a big answer can be rendered from
/// its projection when this says tables.
pub fn render_tables(value: &Value, hint: Option<&str>, format: Format) -> Option<Bundle> {
    let tables = match format {
        Format::Json => None,
        Format::Auto => tables(value, hint),
        Format::Table => tables(value, hint).or_else(|| generic_table(value).map(|t| vec![t])),
    };
    tables.map(|t| tables_bundle(&t))
}

/// Objects and arrays as a JSON tree; a scalar as its JSON text only, as jq prints it (a tree
/// of `{"value": ...}` would say less than the line itself).
fn json_or_text(value: &Value) -> Bundle {
    match value {
        Value::Object(_) | Value::Array(_) => Bundle::json(value),
        scalar => Bundle::text(scalar.to_string()),
    }
}

/// An array of objects as a table of their keys, in order of first appearance.
fn generic_table(value: &Value) -> Option<Table> {
    let items = value.as_array()?;
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return None;
    }
    let mut columns: Vec<&str> = Vec::new();
    for item in items.iter().take(MAX_ROWS) {
        for key in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if columns.len() < MAX_GENERIC_COLUMNS && !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    Some(Table::from_items("items", &columns, items, |item| {
        columns
            .iter()
            .map(|c| Cell::new(item.get(*c).map(super::resources::text).unwrap_or_default()))
            .collect()
    }))
}

fn json_with_note(value: &Value, note: &str) -> Bundle {
    let mut bundle = Bundle::json(value);
    if let Some(Value::String(text)) = bundle.data.get_mut("text/plain") {
        *text = format!("({note})\n{text}");
    }
    match bundle.metadata.get_mut("mesos-kernel") {
        Some(Value::Object(meta)) => {
            meta.insert("note".into(), Value::String(note.into()));
        }
        _ => {
            bundle
                .metadata
                .insert("mesos-kernel".into(), json!({ "note": note }));
        }
    }
    bundle
}
