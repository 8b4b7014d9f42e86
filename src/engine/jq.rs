//! jq evaluation through the jaq crates: every dynamic value in a cell is a jq expression
//! over the session's variables. Values cross in and out as serde_json::Value.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;
use std::rc::Rc;

/// At most this many outputs are collected from one expression, so `repeat(1)` or
/// `range(1e9)` cannot eat the kernel's memory.
pub const MAX_OUTPUTS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JqError {
    #[error("{message}")]
    Syntax { message: String, offset: usize },
    #[error("{0}")]
    Compile(String),
    #[error("{0}")]
    Runtime(String),
    #[error("the expression gave more than {MAX_OUTPUTS} values")]
    TooMany,
}

impl JqError {
    /// Character offset into the expression, when the error has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            JqError::Syntax { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

fn offset_in(code: &str, part: &str) -> usize {
    let start = part.as_ptr() as usize;
    let base = code.as_ptr() as usize;
    if start >= base && start <= base + code.len() {
        code[..start - base].chars().count()
    } else {
        0
    }
}

/// Checks that `code` parses as jq, without running it.
pub fn check_syntax(code: &str) -> Result<(), JqError> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    loader
        .load(&arena, File { code, path: () })
        .map(|_| ())
        .map_err(|errs| load_error(code, errs))
}

fn load_error<P>(code: &str, errs: jaq_core::load::Errors<&str, P>) -> JqError {
    use jaq_core::load::Error;
    for (_, err) in errs {
        match err {
            Error::Lex(list) => {
                if let Some((expect, at)) = list.first() {
                    let found = at.chars().take(12).collect::<String>();
                    return JqError::Syntax {
                        message: format!("expected {}{}", expect.as_str(), found_text(&found)),
                        offset: offset_in(code, at),
                    };
                }
            }
            Error::Parse(list) => {
                if let Some((expect, at)) = list.first() {
                    let found = at.chars().take(12).collect::<String>();
                    return JqError::Syntax {
                        message: format!("expected {}{}", expect.as_str(), found_text(&found)),
                        offset: offset_in(code, at),
                    };
                }
            }
            Error::Io(list) => {
                if let Some((path, msg)) = list.first() {
                    return JqError::Compile(format!("cannot load module {path}: {msg}"));
                }
            }
        }
    }
    JqError::Syntax {
        message: "invalid jq".into(),
        offset: 0,
    }
}

fn found_text(found: &str) -> String {
    if found.is_empty() {
        ", found the end".to_string()
    } else {
        format!(", found '{found}'")
    }
}

/// Evaluates `code` with `input` as `.` and `vars` as `$name` variables (names without `$`).
pub fn eval(code: &str, input: &Value, vars: &[(String, Value)]) -> Result<Vec<Value>, JqError> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    let names: Vec<String> = vars.iter().map(|(n, _)| format!("${n}")).collect();
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(names.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errs| {
            let mut parts = Vec::new();
            for (_, list) in errs {
                for (name, undefined) in list {
                    parts.push(format!("{} {name} is not defined", undefined.as_str()));
                }
            }
            let message = if parts.iter().any(|p| p.starts_with("variable")) {
                let known: Vec<String> = vars.iter().map(|(n, _)| format!("${n}")).collect();
                format!("{}; variables: {}", parts.join("; "), known.join(", "))
            } else {
                parts.join("; ")
            };
            JqError::Compile(message)
        })?;
    let values: Vec<Val> = vars.iter().map(|(_, v)| to_val(v)).collect();
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(values));
    let mut out = Vec::new();
    for item in filter.id.run((ctx, to_val(input))).map(unwrap_valr) {
        match item {
            Ok(v) => out.push(from_val(&v)),
            Err(e) => return Err(JqError::Runtime(e.to_string())),
        }
        if out.len() > MAX_OUTPUTS {
            return Err(JqError::TooMany);
        }
    }
    Ok(out)
}

pub fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().and_then(|i| isize::try_from(i).ok()) {
                Val::from(i)
            } else {
                Val::Num(jaq_json::Num::from_dec_str(&n.to_string()))
            }
        }
        Value::String(s) => Val::from(s.clone()),
        Value::Array(items) => Val::Arr(Rc::new(items.iter().map(to_val).collect())),
        Value::Object(map) => {
            let mut out = jaq_json::Map::default();
            for (k, v) in map {
                out.insert(Val::from(k.clone()), to_val(v));
            }
            Val::obj(out)
        }
    }
}

pub fn from_val(value: &Val) -> Value {
    match value {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => {
            let text = n.to_string();
            serde_json::from_str::<serde_json::Number>(&text)
                .map(Value::Number)
                .unwrap_or_else(|_| match text.parse::<f64>() {
                    Ok(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
                    Err(_) => Value::Null,
                })
        }
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(items) => Value::Array(items.iter().map(from_val).collect()),
        Val::Obj(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter() {
                let key = match k {
                    Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                    other => other.to_string(),
                };
                out.insert(key, from_val(v));
            }
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(code: &str, vars: &[(String, Value)]) -> Value {
        let mut out = eval(code, &Value::Null, vars).unwrap();
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn arithmetic_and_filters() {
        assert_eq!(one("1 + 2", &[]), json!(3));
        assert_eq!(one("[1, 2, 3] | length", &[]), json!(3));
        assert_eq!(one("[.[]?] | map(. * 2)", &[]), json!([]));
        assert_eq!(one("1.5 * 2", &[]), json!(3.0));
    }

    #[test]
    fn variables_keep_their_names() {
        let vars = vec![
            ("a".to_string(), json!(1)),
            ("b".to_string(), json!({"c": [2]})),
            ("_".to_string(), json!("u")),
        ];
        assert_eq!(one("[$a, $b.c[0], $_]", &vars), json!([1, 2, "u"]));
    }

    #[test]
    fn objects_keep_order_and_types_round_trip() {
        let v = json!({"z": 1, "a": [true, null, 1.25, "s", 12345678901234u64], "m": {}});
        assert_eq!(one("$v", &[("v".into(), v.clone())]), v);
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let e = eval("1 + ", &Value::Null, &[]).unwrap_err();
        assert!(matches!(e, JqError::Syntax { .. }), "{e:?}");
        let e = eval("[1, 2", &Value::Null, &[]).unwrap_err();
        assert!(e.offset().is_some());
    }

    #[test]
    fn unknown_variables_name_the_known_ones() {
        let e = eval("$nope", &Value::Null, &[("x".into(), json!(1))]).unwrap_err();
        assert!(e.to_string().contains("$nope"), "{e}");
        assert!(e.to_string().contains("$x"), "{e}");
    }

    #[test]
    fn runtime_errors_are_errors() {
        let e = eval("\"a\" - 1", &Value::Null, &[]).unwrap_err();
        assert!(matches!(e, JqError::Runtime(_)));
        assert!(matches!(
            eval("error(\"boom\")", &Value::Null, &[]),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn endless_outputs_are_capped() {
        assert_eq!(
            eval("repeat(1)", &Value::Null, &[]).unwrap_err(),
            JqError::TooMany
        );
    }

    #[test]
    fn multiple_outputs() {
        assert_eq!(
            eval("1, 2", &Value::Null, &[]).unwrap(),
            vec![json!(1), json!(2)]
        );
    }
}
