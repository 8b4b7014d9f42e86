//! Help, completion and inspection: `%help`, Tab and Shift-Tab. Texts are written for
//! people at a notebook, in our own words.

use crate::cells::registry::{self, Api};
use crate::display::Bundle;
use crate::engine::errors::MAGICS;
use crate::engine::ids::LiveIds;
use crate::engine::session::{summarize, Variables};
use crate::jupyter::Completion;
use serde_json::json;

const LANGUAGE: &str = "\
mesos-kernel: cells speak the Apache Mesos HTTP API.

One statement per line (a JSON body or an HTTP request may continue over several lines;
# starts a comment):
  NAME key=value ...            a Mesos call by its type: GET_STATE, READ_FILE path=... ;
                                agent [ID] NAME for an agent, operator SUBSCRIBE for the master's
  {\"type\": \"GET_STATE\"}         a Mesos call as JSON (a jq object, so $vars may stand for values)
  GET /master/state             raw HTTP; POST /api/v1 with header lines, a blank line and a body
  expr                          any jq expression over the session's $variables: 1 + 2, $x.a
  name = STATEMENT              binds the result to $name ($_ is always the last result)
  STATEMENT | filter            pipes the result through a jq filter (| json, | table choose a view)

Magics:
  %help [NAME]                  this page, or the page of a statement or call
  %vars                         the session's variables
  %timeout [DURATION]           the time limit of calls and waits (30s by default)
  %http on|off|log              every HTTP exchange under the cell that made it, with a curl line
  %record PATH | off            write every exchange and stream record to a cassette (JSON Lines)
  %replay PATH [speed=N] | off  answer every request from a cassette, with no master at all
";

/// Every name Tab and %help know: Mesos calls and the language's own statements.
pub fn all_names() -> Vec<&'static str> {
    registry::names()
}

fn overview() -> String {
    let mut text = String::from(LANGUAGE);
    text.push_str("\nStatements:\n");
    for spec in registry::calls().iter().filter(|c| c.api == Api::Helper) {
        text.push_str(&format!("  {:<12} {}\n", spec.name, spec.summary));
    }
    for api in [Api::Master, Api::Agent, Api::Scheduler] {
        let names: Vec<&str> = registry::calls()
            .iter()
            .filter(|c| c.api == api)
            .map(|c| c.name)
            .collect();
        text.push_str(&format!("\n{} calls: {}\n", api.label(), names.join(" ")));
    }
    text.push_str("\n%help NAME shows a call's fields and an example.\n");
    text
}

/// The help page for a topic, or the overview for an empty topic.
pub fn help(topic: &str) -> Option<Bundle> {
    let topic = topic.trim().trim_start_matches('%');
    if topic.is_empty() || MAGICS.contains(&topic) {
        return Some(Bundle::text(overview()));
    }
    let specs = registry::lookup_all(topic);
    if specs.is_empty() {
        return None;
    }
    let pages: Vec<String> = specs.iter().map(|s| registry::help_text(s)).collect();
    Some(Bundle::text(pages.join("\n")))
}

/// The word around the cursor: its start (in code points) and text up to the cursor.
fn word_at(code: &str, cursor: usize) -> (usize, String) {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let mut start = cursor;
    while start > 0 {
        let c = chars[start - 1];
        if c.is_alphanumeric() || c == '_' || c == '$' || c == '%' {
            start -= 1;
        } else {
            break;
        }
    }
    (start, chars[start..cursor].iter().collect())
}

/// The call a statement line names: `[x =] [agent [ID] | operator] NAME ...`.
fn call_of_line(words: &[&str]) -> Option<(usize, &'static registry::CallSpec)> {
    let mut i = 0;
    if words.len() > 1 && words[1] == "=" {
        i = 2;
    } else if words
        .first()
        .is_some_and(|w| w.ends_with('=') && !w.contains("=="))
        && words.len() > 1
    {
        i = 1;
    }
    let api_hint = match words.get(i) {
        Some(&"agent") => {
            i += 1;
            if words
                .get(i)
                .is_some_and(|w| !crate::cells::parser::is_call_name(w))
            {
                i += 1;
            }
            Some(Api::Agent)
        }
        Some(&"operator") => {
            i += 1;
            Some(Api::Master)
        }
        _ => None,
    };
    let name = words.get(i)?;
    let specs = registry::lookup_all(name);
    let spec = match api_hint {
        Some(api) => specs.into_iter().find(|s| s.api == api),
        None => specs
            .iter()
            .find(|s| s.api == Api::Helper || s.api == Api::Scheduler)
            .or_else(|| specs.iter().find(|s| s.api == Api::Master))
            .or_else(|| specs.first())
            .copied(),
    }?;
    Some((i, spec))
}

pub fn complete(code: &str, cursor: usize, vars: &Variables, ids: &LiveIds) -> Completion {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let line_start = chars[..cursor]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |p| p + 1);
    let before: String = chars[line_start..cursor].iter().collect();
    // The word being typed, up to whitespace (so `task_id=we` is one word).
    let word_start = before.rfind(char::is_whitespace).map_or(0, |p| p + 1);
    let typed = &before[word_start..];
    let earlier: Vec<&str> = before[..word_start].split_whitespace().collect();
    let typed_start = line_start + before[..word_start].chars().count();
    let mut matches: Vec<String> = Vec::new();
    let mut start = typed_start;

    if let Some((key, value)) = typed.split_once('=') {
        if let Some(set) = ids.for_key(key) {
            matches.extend(set.iter().filter(|id| id.starts_with(value)).cloned());
            start = typed_start + key.chars().count() + 1;
        }
    } else if earlier.last() == Some(&"agent") && !typed.starts_with('$') {
        matches.extend(
            ids.agents
                .iter()
                .filter(|id| id.starts_with(typed))
                .cloned(),
        );
        let upper = typed.to_ascii_uppercase();
        matches.extend(
            registry::calls()
                .iter()
                .filter(|c| c.api == Api::Agent && c.name.starts_with(&upper))
                .map(|c| c.name.to_string()),
        );
    } else if let Some((_, spec)) = call_of_line(&earlier).filter(|_| {
        typed.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !earlier.is_empty()
    }) {
        let keys: Vec<&str> = if spec.api == Api::Helper {
            spec.fields.iter().map(|f| f.name).collect()
        } else {
            spec.valid_keys()
        };
        matches.extend(
            keys.into_iter()
                .filter(|k| k.starts_with(typed))
                .map(|k| format!("{k}=")),
        );
    }
    if matches.is_empty() {
        let (wstart, word) = word_at(code, cursor);
        start = wstart;
        if let Some(prefix) = word.strip_prefix('$') {
            matches.extend(
                vars.names()
                    .filter(|n| n.starts_with(prefix))
                    .map(|n| format!("${n}")),
            );
        } else if let Some(prefix) = word.strip_prefix('%') {
            matches.extend(
                MAGICS
                    .iter()
                    .filter(|m| m.starts_with(prefix))
                    .map(|m| format!("%{m}")),
            );
        } else if !word.is_empty() {
            let upper = word.to_ascii_uppercase();
            matches.extend(
                all_names()
                    .into_iter()
                    .filter(|n| n.starts_with(&upper))
                    .map(String::from),
            );
        }
    }
    matches.sort();
    matches.dedup();
    Completion {
        matches,
        cursor_start: start,
        cursor_end: cursor,
        metadata: json!({}),
    }
}

pub fn inspect(code: &str, cursor: usize, vars: &Variables) -> Option<Bundle> {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let mut end = cursor;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    let (start, _) = word_at(code, end);
    let word: String = chars[start..end].iter().collect();
    if let Some(name) = word.strip_prefix('$') {
        let value = vars.get(name)?;
        let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
        let shown: String = pretty.chars().take(2000).collect();
        return Some(Bundle::text(format!(
            "${name}: {}\n\n{shown}",
            summarize(value)
        )));
    }
    help(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_statements_magics_and_variables() {
        let mut vars = Variables::default();
        vars.set("state", json!({}));
        vars.set("stuff", json!(1));
        let c = complete("ASS", 3, &vars, &LiveIds::default());
        assert_eq!(c.matches, vec!["ASSERT"]);
        let c = complete("GET_VER", 7, &vars, &LiveIds::default());
        assert_eq!(c.matches, vec!["GET_VERSION"]);
        let c = complete("PRINT $st", 9, &vars, &LiveIds::default());
        assert_eq!(c.matches, vec!["$state", "$stuff"]);
        assert_eq!(c.cursor_start, 6);
        let c = complete("%ti", 3, &vars, &LiveIds::default());
        assert_eq!(c.matches, vec!["%timeout"]);
    }

    #[test]
    fn completes_keys_of_the_call_and_live_ids() {
        let vars = Variables::default();
        let mut ids = LiveIds::default();
        ids.tasks.insert("web".into());
        ids.tasks.insert("worker".into());
        ids.agents.insert("M-S0".into());
        let c = complete("READ_FILE pa", 12, &vars, &ids);
        assert_eq!(c.matches, vec!["path="]);
        assert_eq!(c.cursor_start, 10);
        let c = complete("x = LAUNCH name=web c", 21, &vars, &ids);
        assert!(
            c.matches.contains(&"cmd=".to_string()) && c.matches.contains(&"cpus=".to_string()),
            "{:?}",
            c.matches
        );
        let c = complete("KILL task_id=w", 14, &vars, &ids);
        assert_eq!(c.matches, vec!["web", "worker"]);
        assert_eq!(c.cursor_start, 13);
        let c = complete("agent M-", 8, &vars, &ids);
        assert_eq!(c.matches, vec!["M-S0"]);
        let c = complete("agent GET_CON", 13, &vars, &ids);
        assert_eq!(c.matches, vec!["GET_CONTAINERS"]);
    }

    #[test]
    fn completion_positions_are_code_points() {
        let vars = Variables::default();
        let c = complete("PRINT \"é\" # EPR", 15, &vars, &LiveIds::default());
        assert_eq!(c.cursor_start, 12);
        assert_eq!(c.matches, vec!["EPRINT"]);
    }

    #[test]
    fn inspect_shows_variables_and_statements() {
        let mut vars = Variables::default();
        vars.set("x", json!([1, 2]));
        let b = inspect("PRINT $x", 7, &vars).unwrap();
        assert!(b.plain().unwrap().contains("array of 2 items"));
        assert!(inspect("WAIT true", 2, &vars)
            .unwrap()
            .plain()
            .unwrap()
            .contains("Re-evaluates"));
        assert!(inspect("nothing", 2, &vars).is_none());
    }
}
