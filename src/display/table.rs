//! The generic table: a caption, columns and the first rows of a result, written out as
//! theme-aware HTML and as aligned plain text with the same row cap and count.

use super::bundle::Bundle;

/// At most this many rows are shown, in HTML and in text; the caption gives the full count.
pub const MAX_ROWS: usize = 50;
/// Text cells longer than this many characters are cut and end with "…"; Mesos ids
/// (a 36-character master UUID and a suffix) stay whole.
pub const MAX_TEXT_CELL_CHARS: usize = 60;
/// HTML cells longer than this many characters are cut and end with "…".
pub const MAX_HTML_CELL_CHARS: usize = 300;

/// How a cell is colored: states and flags read at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Warn,
    Bad,
    Muted,
}

impl Tone {
    /// The cell's opening tag. The class takes the theme's colors from the scoped style;
    /// the inline color is what survives when JupyterLab sanitizes an untrusted notebook's
    /// HTML (it drops `<style>` and `var()`, keeps `class` and plain colors).
    fn td(self) -> &'static str {
        match self {
            Tone::Plain => "<td>",
            Tone::Good => "<td class=\"mk-good\" style=\"color:#2e7d32;font-weight:bold\">",
            Tone::Warn => "<td class=\"mk-warn\" style=\"color:#e65100\">",
            Tone::Bad => "<td class=\"mk-bad\" style=\"color:#c62828;font-weight:bold\">",
            Tone::Muted => "<td class=\"mk-muted\" style=\"color:#757575\">",
        }
    }

    /// The tone of a Mesos task state (`TASK_RUNNING`, ...) or of an agent/framework flag.
    pub fn of_state(state: &str) -> Tone {
        use crate::mesos::v1::TaskState as S;
        match S::from_loose(state) {
            S::Running => Tone::Good,
            S::Staging | S::Starting | S::Killing | S::Unreachable | S::Unknown => Tone::Warn,
            S::Failed | S::Error | S::Lost | S::Dropped | S::Gone | S::GoneByOperator => Tone::Bad,
            S::Finished | S::Killed => Tone::Muted,
            S::Other(_) => Tone::Plain,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Cell {
            text: text.into(),
            tone,
        }
    }

    /// A task state, colored by what it means.
    pub fn state(state: impl Into<String>) -> Self {
        let text = state.into();
        let tone = Tone::of_state(&text);
        Cell { text, tone }
    }

    /// A yes/no flag (active, connected, healthy): green when set, grey when not, blank when unknown.
    pub fn flag(flag: Option<bool>) -> Self {
        match flag {
            Some(true) => Cell::toned("yes", Tone::Good),
            Some(false) => Cell::toned("no", Tone::Muted),
            None => Cell::new(""),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::new(text)
    }
}

/// One table: `rows` holds at most [`MAX_ROWS`] rows, `total` counts them all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub total: usize,
}

impl Table {
    pub fn new(caption: impl Into<String>, columns: &[&str]) -> Self {
        Table {
            caption: caption.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            total: 0,
        }
    }

    /// Builds rows for the first [`MAX_ROWS`] items only, and counts the rest without
    /// looking into them, so a 100k-task result costs one pass of counting.
    pub fn from_items<'a, I, F>(
        caption: impl Into<String>,
        columns: &[&str],
        items: I,
        row: F,
    ) -> Self
    where
        I: IntoIterator<Item = &'a serde_json::Value>,
        F: Fn(&'a serde_json::Value) -> Vec<Cell>,
    {
        let mut table = Table::new(caption, columns);
        let mut items = items.into_iter();
        for item in items.by_ref().take(MAX_ROWS) {
            table.rows.push(row(item));
            table.total += 1;
        }
        table.total += items.count();
        table
    }

    /// Adds a row (kept only while under the cap) and counts it.
    pub fn push(&mut self, row: Vec<Cell>) {
        if self.rows.len() < MAX_ROWS {
            self.rows.push(row);
        }
        self.total += 1;
    }

    /// Adds a row built only while under the cap, and counts it either way.
    pub fn push_with(&mut self, row: impl FnOnce() -> Vec<Cell>) {
        if self.rows.len() < MAX_ROWS {
            self.rows.push(row());
        }
        self.total += 1;
    }

    /// A two-column name/value table.
    pub fn key_values(caption: impl Into<String>, pairs: Vec<(String, Cell)>) -> Self {
        let mut table = Table::new(caption, &["name", "value"]);
        for (k, v) in pairs {
            table.push(vec![Cell::new(k), v]);
        }
        table
    }

    /// "agents: 3 rows" or "agents: showing 50 of 1000 rows".
    pub fn caption_line(&self) -> String {
        let rows = if self.total == 1 { "row" } else { "rows" };
        if self.rows.len() < self.total {
            format!(
                "{}: showing {} of {} {rows}",
                self.caption,
                self.rows.len(),
                self.total
            )
        } else {
            format!("{}: {} {rows}", self.caption, self.total)
        }
    }

    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(256 + self.rows.len() * self.columns.len() * 24);
        out.push_str("<table>");
        out.push_str("<caption>");
        out.push_str(&escape_html(&self.caption_line()));
        out.push_str("</caption><thead><tr>");
        for c in &self.columns {
            out.push_str("<th>");
            out.push_str(&escape_html(c));
            out.push_str("</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            out.push_str("<tr>");
            for i in 0..self.columns.len() {
                let cell = row.get(i);
                out.push_str(cell.map(|c| c.tone).unwrap_or_default().td());
                if let Some(cell) = cell {
                    out.push_str(&escape_html(&truncate(&cell.text, MAX_HTML_CELL_CHARS)));
                }
                out.push_str("</td>");
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }

    pub fn to_text(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                (0..self.columns.len())
                    .map(|i| {
                        row.get(i)
                            .map(|c| truncate(&one_line(&c.text), MAX_TEXT_CELL_CHARS))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let headers: Vec<String> = self
            .columns
            .iter()
            .map(|c| truncate(c, MAX_TEXT_CELL_CHARS))
            .collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = self.caption_line();
        out.push('\n');
        push_text_row(&mut out, &headers, &widths);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        push_text_row(&mut out, &rule, &widths);
        for row in &cells {
            push_text_row(&mut out, row, &widths);
        }
        if out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

fn push_text_row(out: &mut String, cells: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(c);
        let pad = w.saturating_sub(c.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Scoped by `.mesos-kernel-table`, with JupyterLab's theme variables and light fallbacks,
/// so the table follows light and dark themes and leaves the rest of the page alone.
/// The scope class is doubled to outrank JupyterLab's own table rules, which would otherwise
/// right-align every cell (`:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`) and
/// re-stripe the rows; alternate rows and the hovered row use JupyterLab's table colors.
/// `!important` lets the theme's state colors win over the cells' inline fallbacks.
const STYLE: &str = "<style>\
.mesos-kernel-table.mesos-kernel-table table{border-collapse:collapse;border:none;margin:0 0 1em 0;font-size:var(--jp-code-font-size,13px);color:var(--jp-ui-font-color1,#000);}\
.mesos-kernel-table.mesos-kernel-table caption{caption-side:top;text-align:left;font-weight:bold;padding:2px 0 4px 0;color:var(--jp-ui-font-color1,#000);}\
.mesos-kernel-table.mesos-kernel-table th,.mesos-kernel-table.mesos-kernel-table td{border:1px solid var(--jp-border-color2,#ddd);padding:2px 8px;text-align:left;vertical-align:top;white-space:nowrap;line-height:normal;}\
.mesos-kernel-table.mesos-kernel-table th{background:var(--jp-layout-color2,#eee);font-weight:bold;}\
.mesos-kernel-table.mesos-kernel-table tbody tr:nth-child(odd){background:var(--jp-layout-color0,#fff);}\
.mesos-kernel-table.mesos-kernel-table tbody tr:nth-child(even){background:var(--jp-rendermime-table-row-background,#f7f7f7);}\
.mesos-kernel-table.mesos-kernel-table tbody tr:hover{background:var(--jp-rendermime-table-row-hover-background,#e1f5fe);}\
.mesos-kernel-table .mk-good{color:var(--jp-success-color1,#2e7d32)!important;}\
.mesos-kernel-table .mk-warn{color:var(--jp-warn-color1,#e65100)!important;}\
.mesos-kernel-table .mk-bad{color:var(--jp-error-color1,#c62828)!important;}\
.mesos-kernel-table .mk-muted{color:var(--jp-ui-font-color2,#757575)!important;}\
</style>";

/// The text/html + text/plain bundle of one or more tables, shown one below the other.
pub fn tables_bundle(tables: &[Table]) -> Bundle {
    let mut html = String::from("<div class=\"mesos-kernel-table\">");
    html.push_str(STYLE);
    for t in tables {
        html.push_str(&t.to_html());
    }
    html.push_str("</div>");
    let text = tables
        .iter()
        .map(Table::to_text)
        .collect::<Vec<_>>()
        .join("\n\n");
    Bundle::new()
        .with("text/html", html)
        .with("text/plain", text)
}

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to at most `max` characters, the last one "…" when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Newlines and tabs would break the text table's columns.
fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r', '\t']) {
        s.replace(['\n', '\r', '\t'], " ")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape_html("<script>alert('x&y')</script>\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;"
        );
    }

    #[test]
    fn cells_are_escaped_in_html() {
        let mut t = Table::new("t <b>", &["a"]);
        t.push(vec![Cell::new("<script>alert(1)</script>")]);
        let html = t.to_html();
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn rows_are_capped_and_counted() {
        let items: Vec<serde_json::Value> = (0..1000).map(|i| serde_json::json!(i)).collect();
        let t = Table::from_items("numbers", &["n"], &items, |v| {
            vec![Cell::new(v.to_string())]
        });
        assert_eq!(t.rows.len(), MAX_ROWS);
        assert_eq!(t.total, 1000);
        assert!(t.caption_line().contains("showing 50 of 1000 rows"));
        let text = t.to_text();
        assert!(text.starts_with("numbers: showing 50 of 1000 rows"));
        assert_eq!(text.lines().count(), 3 + MAX_ROWS);
        assert!(t.to_html().contains("showing 50 of 1000 rows"));
    }

    #[test]
    fn text_is_aligned_and_long_cells_cut() {
        let mut t = Table::new("kv", &["name", "value"]);
        t.push(vec![Cell::new("a"), Cell::new("x".repeat(100))]);
        t.push(vec![Cell::new("longer name"), Cell::new("line\nbreak")]);
        let text = t.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "kv: 2 rows");
        assert!(lines[1].starts_with("name         value"));
        assert!(lines[3].ends_with('…'));
        assert_eq!(lines[3].chars().count(), 13 + MAX_TEXT_CELL_CHARS);
        assert_eq!(lines[4], "longer name  line break");
    }

    #[test]
    fn short_rows_do_not_panic() {
        let mut t = Table::new("t", &["a", "b", "c"]);
        t.push(vec![Cell::new("only one")]);
        t.push(vec![]);
        assert!(t.to_text().contains("only one"));
        assert_eq!(t.to_html().matches("<td").count(), 6);
    }

    #[test]
    fn states_have_tones() {
        assert_eq!(Cell::state("TASK_RUNNING").tone, Tone::Good);
        assert_eq!(Cell::state("TASK_FAILED").tone, Tone::Bad);
        assert_eq!(Cell::state("TASK_ERROR").tone, Tone::Bad);
        assert_eq!(Cell::state("TASK_LOST").tone, Tone::Bad);
        assert_eq!(Cell::state("TASK_FINISHED").tone, Tone::Muted);
        assert_eq!(Cell::state("TASK_STAGING").tone, Tone::Warn);
        let mut t = Table::new("t", &["state"]);
        t.push(vec![Cell::state("TASK_FAILED")]);
        assert!(t.to_html().contains(
            "<td class=\"mk-bad\" style=\"color:#c62828;font-weight:bold\">TASK_FAILED</td>"
        ));
    }

    #[test]
    fn bundle_is_html_and_text_with_theme_variables() {
        let b = tables_bundle(&[Table::new("empty", &["a"])]);
        let html = b.data["text/html"].as_str().unwrap_or_default();
        assert!(html.contains("class=\"mesos-kernel-table\""));
        assert!(html.contains("var(--jp-ui-font-color1, #000)".replace(", ", ",").as_str()));
        assert!(html.contains("var(--jp-border-color2,#ddd)"));
        assert!(!b.data.contains_key("application/json"));
        assert_eq!(b.plain(), Some("empty: 0 rows\na\n-"));
    }
}
